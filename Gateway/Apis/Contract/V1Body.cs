using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Mesh.Gateway.Apis;

/// <summary>
/// A <c>/v1</c> request body: a flat JSON object of string values, each field what the merchant signed. A typed record
/// per request (its properties are the request's fields, so the OpenAPI document carries its schema), bound from the
/// body by <see cref="ReadAsync{T}"/>: the fields as sent are kept (<see cref="Fields"/>) because the signature is over
/// them, unknown fields, non-string values and oversized bodies are refused naming the field (<see cref="Malformed"/>,
/// a 400 problem), never a binding failure.
/// </summary>
public abstract record V1Body
{
    public const int FieldsMax = 20;
    public const int FieldCharsMax = 1024;
    public const int BodyBytesMax = 64 * 1024;

    /// <summary>The request's fields as sent (names as sent, values as sent); empty when <see cref="Malformed"/>.</summary>
    [JsonIgnore]
    public Dictionary<string, string?> Fields { get; private init; } = new(StringComparer.Ordinal);

    /// <summary>Null when the body is one of this request's; otherwise the 400 problem to answer.</summary>
    [JsonIgnore]
    public IResult? Malformed { get; private init; }

    /// <summary>The fields with the path's values added (the path is signed too).</summary>
    public Dictionary<string, string?> SignedFields(params (string Name, string Value)[] path)
    {
        var fields = new Dictionary<string, string?>(Fields, StringComparer.Ordinal);
        foreach (var (name, value) in path)
        {
            fields[name] = value;
        }
        return fields;
    }

    /// <summary>Reads the body as a <typeparamref name="T"/>: never null, never throws for what a client sent.</summary>
    protected static async ValueTask<T?> ReadAsync<T>(HttpContext http) where T : V1Body
    {
        ArgumentNullException.ThrowIfNull(http);
        var known = Known<T>();
        var (fields, problem) = await FieldsAsync(http, known);
        if (problem is not null)
        {
            return Empty<T>() with { Malformed = problem };
        }
        var typed = JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(fields, Json), Json)!;
        return typed with { Fields = fields! };
    }

    private static T Empty<T>() where T : V1Body => JsonSerializer.Deserialize<T>("{}"u8, Json)!;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    /// <summary>The JSON names of <typeparamref name="T"/>'s fields, as its schema says them.</summary>
    private static string[] Known<T>() => [.. Json.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name)];

    private static async Task<(Dictionary<string, string?>? Fields, IResult? Problem)> FieldsAsync(HttpContext http, string[] known)
    {
        if (http.Request.HasJsonContentType() is false)
        {
            return (null, Problem("body", "a JSON object of string values, Content-Type: application/json"));
        }
        byte[] bytes;
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                limited.Write(buffer, 0, read);
                if (limited.Length > BodyBytesMax)
                {
                    return (null, Problem("body", $"at most {BodyBytesMax} bytes"));
                }
            }
            bytes = limited.ToArray();
        }
        catch (BadHttpRequestException)
        {
            return (null, Problem("body", $"at most {BodyBytesMax} bytes"));
        }
        try
        {
            using var json = JsonDocument.Parse(bytes);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Problem("body", "a JSON object of string values"));
            }
            return Shape(json.RootElement, known);
        }
        catch (JsonException)
        {
            return (null, Problem("body", "a JSON object of string values"));
        }
    }

    /// <summary>Known fields only, each once, each a short string (or null); what is wrong is named per field.</summary>
    private static (Dictionary<string, string?>? Fields, IResult? Problem) Shape(JsonElement body, string[] known)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var count = 0;
        foreach (var field in body.EnumerateObject())
        {
            if (++count > FieldsMax)
            {
                problems["body"] = [$"at most {FieldsMax} fields"];
                break;
            }
            if (!known.Contains(field.Name, StringComparer.Ordinal))
            {
                problems[field.Name] = [$"not a field of this request ({string.Join(", ", known)})"];
            }
            else if (field.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                problems[field.Name] = ["a string"];
            }
            else if (fields.ContainsKey(field.Name))
            {
                problems[field.Name] = ["once"];
            }
            else if (field.Value.GetString() is { Length: > FieldCharsMax })
            {
                problems[field.Name] = [$"at most {FieldCharsMax} characters"];
            }
            else
            {
                fields[field.Name] = field.Value.GetString();
            }
        }
        return problems.Count > 0 ? (null, V1Problems.Validation(problems, "The request has errors")) : (fields, null);
    }

    private static IResult Problem(string field, string rule) =>
        V1Problems.Validation(new Dictionary<string, string[]> { [field] = [rule] }, "The request has errors");
}
