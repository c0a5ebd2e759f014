using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Platform;

namespace Mesh.Gateway.Apis;

/// <summary>
/// Merchants who use the digital-envelope protocol may seal their <c>/v1</c> requests to the
/// platform as a compact JWE (RFC 7516): <c>Content-Type: application/jose</c>, protected header
/// <c>{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":certId}</c>, the content key encrypted to the
/// platform's envelope certificate (<c>/v1/platform-envelope-certificate</c>, whose certId
/// <c>kid</c> names). The envelope's private key never leaves the Hsm, so no JOSE library can hold
/// it: the token is read here, the Hsm unwraps the content key, and AES-256-GCM opens the content
/// with the protected header, as sent, for additional data (so a changed header does not open).
/// The request then goes on as the JSON inside. An envelope that does not open is a 400 problem.
/// </summary>
public sealed class EnvelopeOpening(RequestDelegate next)
{
    public const string ContentType = "application/jose";
    public const string Algorithm = "RSA-OAEP-256";
    public const string Encryption = "A256GCM";
    public const int EnvelopeBytesMax = 64 * 1024;
    public const int HeaderBytesMax = 1024;
    private const int IvBytes = 12;
    private const int TagBytes = 16;

    public async Task InvokeAsync(HttpContext context, Hsm.HsmClient hsm, PlatformCertificates certificates)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.Path.StartsWithSegments("/v1")
            || context.Request.ContentType?.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) != true)
        {
            await next(context);
            return;
        }
        if (await ReadAsync(context) is not { } token || await OpenAsync(token, hsm, certificates, context.RequestAborted) is not { } plaintext)
        {
            await V1Problems.Result(V1Problems.EnvelopeUnopened, StatusCodes.Status400BadRequest, "The envelope does not open",
                $"a compact JWE of at most {EnvelopeBytesMax} bytes (alg {Algorithm}, enc {Encryption}, kid the envelope certificate's certId) "
                + "sealed to the platform's envelope certificate").ExecuteAsync(context);
            return;
        }
        context.Request.Body = new MemoryStream(plaintext, writable: false);
        context.Request.ContentLength = plaintext.Length;
        context.Request.ContentType = "application/json";
        await next(context);
    }

    private static async Task<string?> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > EnvelopeBytesMax)
        {
            return null;
        }
        try
        {
            using var limited = new MemoryStream();
            await context.Request.Body.CopyToAsync(limited, context.RequestAborted);
            return limited.Length > EnvelopeBytesMax ? null : Encoding.ASCII.GetString(limited.GetBuffer(), 0, (int)limited.Length).Trim();
        }
        catch (BadHttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The content of a compact JWE sealed to the envelope key, or null: five parts, a header that is ours, a content key the Hsm opens, a tag that verifies.</summary>
    private static async Task<byte[]?> OpenAsync(string token, Hsm.HsmClient hsm, PlatformCertificates certificates, CancellationToken ct)
    {
        var parts = token.Split('.');
        if (parts.Length != 5 || parts[0].Length > HeaderBytesMax * 4 / 3 + 4 || Base64Url(parts[1]) is not { Length: > 0 } encryptedKey
            || Base64Url(parts[2]) is not { Length: IvBytes } iv || Base64Url(parts[3]) is not { } ciphertext || Base64Url(parts[4]) is not { Length: TagBytes } tag
            || KidOf(Base64Url(parts[0])) is not { } kid || await certificates.EnvelopeKeyAsync(kid, ct) is not { } sealedTo)
        {
            return null;
        }
        byte[] contentKey;
        try
        {
            contentKey = (await hsm.OpenEnvelopeKeyAsync(new OpenEnvelopeKeyRequest
            {
                KeyId = sealedTo.KeyId,
                CheckValue = sealedTo.CheckValue,
                EncryptedKey = ByteString.CopyFrom(encryptedKey),
            }, cancellationToken: ct)).ContentKey.ToByteArray();
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return null;
        }
        try
        {
            var plaintext = new byte[ciphertext.Length];
            using var gcm = new AesGcm(contentKey, TagBytes);
            // RFC 7516 section 5.2 step 14: the additional data is the ASCII of the protected header as sent, base64url.
            gcm.Decrypt(iv, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(parts[0]));
            return plaintext;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>
    /// The envelope certificate the protected header names (<c>kid</c>, its certId), when the header names the one key
    /// management and content encryption taken and has no <c>zip</c> and no <c>crit</c> (nothing this reader would have
    /// to understand); else null. Whether that certId is a version of the envelope key still accepted is the key's
    /// versions' to say (<see cref="PlatformCertificates.EnvelopeKeyAsync"/>: the current one, or the previous one until
    /// it retires).
    /// </summary>
    internal static string? KidOf(byte[]? header)
    {
        if (header is null || header.Length > HeaderBytesMax)
        {
            return null;
        }
        try
        {
            using var json = JsonDocument.Parse(header);
            var root = json.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && Text(root, "alg") == Algorithm && Text(root, "enc") == Encryption
                && !root.TryGetProperty("zip", out _) && !root.TryGetProperty("crit", out _)
                && Text(root, "kid") is { Length: > 0 and <= 64 } kid ? kid : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? Base64Url(string text)
    {
        try
        {
            return Base64UrlDecode(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static byte[] Base64UrlDecode(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);
}
