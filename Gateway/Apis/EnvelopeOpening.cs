using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Apis;

/// <summary>
/// Merchants who use the digital-envelope protocol may seal their <c>/v1</c> requests to the
/// platform: <c>Content-Type: application/vnd.mesh.envelope+json</c> with
/// <c>{"alg":"RSA-OAEP-256","enc":"A256GCM","encryptedKey","iv","ciphertext","tag"}</c> (base64),
/// the content key encrypted to the platform's envelope certificate
/// (<c>/v1/platform-envelope-certificate</c>). The Hsm opens the content key; the request then
/// goes on as the JSON inside. An envelope that does not open is a 400 problem.
/// </summary>
public sealed class EnvelopeOpening(RequestDelegate next)
{
    public const string ContentType = "application/vnd.mesh.envelope+json";
    public const string KeyId = Platform.PlatformCertificates.EnvelopeKeyId;
    public const int EnvelopeBytesMax = 64 * 1024;

    public async Task InvokeAsync(HttpContext context, Hsm.HsmClient hsm)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.Path.StartsWithSegments("/v1")
            || context.Request.ContentType?.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) != true)
        {
            await next(context);
            return;
        }
        if (await OpenAsync(context, hsm) is not { } plaintext)
        {
            await Results.Problem($"a JSON envelope of at most {EnvelopeBytesMax} bytes (alg RSA-OAEP-256, enc A256GCM) sealed to the platform's envelope certificate",
                statusCode: StatusCodes.Status400BadRequest, title: "The envelope does not open").ExecuteAsync(context);
            return;
        }
        context.Request.Body = new MemoryStream(plaintext, writable: false);
        context.Request.ContentLength = plaintext.Length;
        context.Request.ContentType = "application/json";
        await next(context);
    }

    private static async Task<byte[]?> OpenAsync(HttpContext context, Hsm.HsmClient hsm)
    {
        if (context.Request.ContentLength > EnvelopeBytesMax)
        {
            return null;
        }
        Envelope? envelope;
        try
        {
            using var limited = new MemoryStream();
            await context.Request.Body.CopyToAsync(limited, context.RequestAborted);
            if (limited.Length > EnvelopeBytesMax)
            {
                return null;
            }
            envelope = JsonSerializer.Deserialize<Envelope>(limited.ToArray(), JsonSerializerOptions.Web);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
        {
            return null;
        }
        if (envelope is not { Alg: "RSA-OAEP-256", Enc: "A256GCM" } || Base64(envelope.EncryptedKey) is not { } encryptedKey
            || Base64(envelope.Iv) is not { Length: 12 } iv || Base64(envelope.Ciphertext) is not { } ciphertext || Base64(envelope.Tag) is not { Length: 16 } tag)
        {
            return null;
        }
        byte[] contentKey;
        try
        {
            contentKey = (await hsm.OpenEnvelopeKeyAsync(new OpenEnvelopeKeyRequest { KeyId = KeyId, EncryptedKey = ByteString.CopyFrom(encryptedKey) },
                cancellationToken: context.RequestAborted)).ContentKey.ToByteArray();
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return null;
        }
        try
        {
            var plaintext = new byte[ciphertext.Length];
            using var gcm = new AesGcm(contentKey, 16);
            gcm.Decrypt(iv, ciphertext, tag, plaintext);
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

    private static byte[]? Base64(string? text)
    {
        try
        {
            return string.IsNullOrEmpty(text) ? null : Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private sealed record Envelope(string? Alg, string? Enc, string? EncryptedKey, string? Iv, string? Ciphertext, string? Tag);
}
