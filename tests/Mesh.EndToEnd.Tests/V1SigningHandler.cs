using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mesh.NetPay.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// What a merchant puts under a client generated from the OpenAPI document: it signs each <c>/v1</c> request with the
/// SDK's signer, as the guide says. A POST's JSON fields (without the empty ones) and the path's values are signed and
/// <c>signature</c> is set in the body; a GET's query parameters and the path's values are signed and <c>signature</c>
/// is set in the query. The generated code knows nothing of signatures: it passes what the document describes.
/// </summary>
public sealed class V1SigningHandler(MerchantKey key) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var path = PathValues(uri.AbsolutePath);
        if (request.Content is not null)
        {
            var sent = JsonSerializer.Deserialize<Dictionary<string, string?>>(await request.Content.ReadAsStringAsync(cancellationToken))!;
            var fields = sent.Where(f => !string.IsNullOrEmpty(f.Value) && f.Key != V1Signature.SignatureField)
                .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            V1Signature.SignInPlace(fields, key, path);
            request.Content = new StringContent(JsonSerializer.Serialize(fields), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        else
        {
            var query = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
                .Select(p => (Name: Uri.UnescapeDataString(p[0]), Value: Uri.UnescapeDataString(p.Length > 1 ? p[1] : "")))
                .Where(p => p.Name != V1Signature.SignatureField && p.Value.Length > 0)
                .ToDictionary(p => p.Name, p => (string?)p.Value, StringComparer.Ordinal);
            V1Signature.SignInPlace(query, key, path);
            request.RequestUri = new UriBuilder(uri) { Query = string.Join('&', query.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value!)}")) }.Uri;
        }
        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>The path's signed values: <c>/v1/orders/{orderId}</c>, <c>.../refunds/{refundId}</c>.</summary>
    private static (string Name, string Value)[] PathValues(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var values = new List<(string, string)>();
        for (var i = 0; i + 1 < segments.Length; i++)
        {
            if (segments[i] == "orders")
            {
                values.Add(("orderId", segments[i + 1]));
            }
            else if (segments[i] == "refunds")
            {
                values.Add(("refundId", segments[i + 1]));
            }
        }
        return [.. values];
    }
}
