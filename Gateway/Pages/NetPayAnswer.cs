using System.Globalization;
using System.Text;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The body of NetPay's server-to-server answers (the refund form, the order query), byte for byte
/// as NetPay sends them: the fields in NetPay's order as raw <c>name=value</c> joined by <c>&amp;</c>,
/// inside NetPay's HTML envelope, encoded as the envelope declares (GB2312; GB18030, its superset,
/// encodes every character, and gives the same bytes as GB2312 for the characters GB2312 has).
/// Integrators strip the tags and split on <c>&amp;</c> and <c>=</c>, without URL-decoding: a value
/// that holds one of <see cref="Unsafe"/> would split wrongly, so signed values never hold one
/// (the forms refuse them) and an unsigned value has them percent-escaped.
/// </summary>
public static class NetPayAnswer
{
    public const string Head = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\" /></head><body>";
    public const string Tail = "</body></html>";
    public const string ContentType = "text/html; charset=GB2312";

    /// <summary>The characters a raw value cannot hold: the separators, the tags' brackets, and the escape and space of URL-decoding parsers.</summary>
    public static readonly char[] Unsafe = ['&', '=', '<', '>', '%', '+'];

    /// <summary>GB18030 (code page 54936), from the code-page encodings .NET ships.</summary>
    public static readonly Encoding Gb18030 = CodePagesEncodingProvider.Instance.GetEncoding(54936)
        ?? throw new InvalidOperationException("GB18030 is one of the code-page encodings .NET ships");

    /// <summary>True when <paramref name="value"/> can be sent raw: none of <see cref="Unsafe"/>, no control character.</summary>
    public static bool IsRawSafe(string value) => value.IndexOfAny(Unsafe) < 0 && !value.Any(char.IsControl);

    /// <summary><paramref name="value"/> with each of <see cref="Unsafe"/> percent-escaped, for a value no signature covers.</summary>
    public static string Escape(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (Array.IndexOf(Unsafe, c) >= 0 || char.IsControl(c))
            {
                text.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }
        return text.ToString();
    }

    /// <summary>The body's text: the envelope around <c>name=value&amp;...</c>.</summary>
    public static string Text(IEnumerable<KeyValuePair<string, string>> fields) =>
        Head + string.Join('&', fields.Select(f => $"{f.Key}={f.Value}")) + Tail;

    /// <summary>The body's bytes, GB18030.</summary>
    public static byte[] Bytes(IEnumerable<KeyValuePair<string, string>> fields) => Gb18030.GetBytes(Text(fields));

    /// <summary>An answer with <paramref name="fields"/> and <paramref name="statusCode"/>.</summary>
    public static IResult Result(IEnumerable<KeyValuePair<string, string>> fields, int statusCode) => new Answer(Bytes(fields), statusCode);

    /// <summary>A refusal: its <c>ResponseCode</c> (or NetPay's query's <c>ResponeseCode</c>) and a <c>Message</c>, as NetPay refuses.</summary>
    public static IResult Refusal(string codeField, string code, string message, int statusCode) =>
        Result([new(codeField, code), new("Message", Escape(message))], statusCode);

    private sealed class Answer(byte[] body, int statusCode) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = statusCode;
            httpContext.Response.ContentType = ContentType;
            httpContext.Response.ContentLength = body.Length;
            await httpContext.Response.Body.WriteAsync(body);
        }
    }
}
