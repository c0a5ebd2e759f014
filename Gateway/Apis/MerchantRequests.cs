using System.Globalization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Signatures;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Apis;

/// <summary>
/// Who is asking, on <c>/v1</c>: every request names its merchant (<c>merId</c>) and carries the
/// merchant's signature over its fields (<see cref="CanonicalSignature"/>); queries also carry a
/// <c>timestamp</c> (yyyyMMddHHmmss, UTC) close to the gateway's clock, so a captured query
/// cannot be replayed for long. <c>/v1</c> takes RSA keys of <see cref="MerchantKey.V1RsaBitsMin"/>
/// bits or more (or ECDSA P-256): a merchant whose key is the NetPay protocol's RSA-1024 signs
/// only NetPay forms.
/// </summary>
public sealed class MerchantRequests(MerchantRegistry merchants, IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>Set on a request whose signature an earlier step (the Idempotency-Key filter) has already checked: the merchant it was checked against.</summary>
    private const string VerifiedItem = "mesh.merchant-request-verified";

    /// <summary>The merchant whose signature <see cref="RefuseOnceAsync"/> found on this request, as read then: no second read of its row.</summary>
    public static Merchant? VerifiedMerchant(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Items[VerifiedItem] as Merchant;
    }

    /// <summary>As <see cref="RefuseAsync"/>, once per request: a request the Idempotency-Key filter already checked is not checked twice.</summary>
    public async Task<IResult?> RefuseOnceAsync(HttpContext http, Dictionary<string, string?> fields, CancellationToken ct)
    {
        if (http.Items.ContainsKey(VerifiedItem))
        {
            return null;
        }
        var (refusal, merchant) = await CheckAsync(fields, query: false, ct);
        if (refusal is null)
        {
            http.Items[VerifiedItem] = merchant;
        }
        return refusal;
    }

    /// <summary>Null when the request is the merchant's; otherwise the refusal to answer with.</summary>
    public async Task<IResult?> RefuseAsync(Dictionary<string, string?> fields, bool query, CancellationToken ct) =>
        (await CheckAsync(fields, query, ct)).Refusal;

    private async Task<(IResult? Refusal, Merchant? Merchant)> CheckAsync(Dictionary<string, string?> fields, bool query, CancellationToken ct)
    {
        var merchantId = fields.GetValueOrDefault("merId");
        if (merchantId is null || !OrderRules.MerchantId().IsMatch(merchantId))
        {
            return (Validation("merId", "15 digits"), null);
        }
        if (query && !Fresh(fields.GetValueOrDefault("timestamp")))
        {
            return (Validation("timestamp", $"yyyyMMddHHmmss (UTC), within {options.Value.QueryClockSkewSeconds} s of the gateway's clock"), null);
        }
        if (await merchants.FindWithKeyAsync(merchantId, ct) is not ({ Status: "active" } merchant, { Length: > 0 } key))
        {
            return (TypedResults.Problem($"merId {merchantId} is not an active merchant", statusCode: StatusCodes.Status403Forbidden,
                title: "The merchant is not accepted"), null);
        }
        if (merchant.KeyAlgorithm != MerchantKey.EcdsaP256 && RsaBits(key) < MerchantKey.V1RsaBitsMin)
        {
            return (Validation("publicKeyPem",
                $"/v1 takes an RSA key of {MerchantKey.V1RsaBitsMin} bits or more, or ECDSA P-256; merId {merchantId} was onboarded with a shorter RSA key, "
                + "which signs NetPay forms only: give the platform a new key"), null);
        }
        if (!CanonicalSignature.IsValid(key, merchant.KeyAlgorithm, fields, fields.GetValueOrDefault(CanonicalSignature.SignatureField)))
        {
            return (TypedResults.Problem(
                "signature is the base64 RSA-SHA256 (or ECDSA P-256 SHA-256) signature, by the merchant's key, of the SHA-256 hex digest of the "
                + "request's fields without signature and empty values, sorted by name and joined as k=v&k=v",
                statusCode: StatusCodes.Status401Unauthorized, title: "The signature does not verify"), null);
        }
        return (null, merchant);
    }

    private static int RsaBits(byte[] spki)
    {
        try
        {
            return MerchantPublicKeys.Rsa(spki).KeySize;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return 0;
        }
    }

    private bool Fresh(string? timestamp) =>
        timestamp is { Length: 14 }
        && DateTime.TryParseExact(timestamp, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal,
            out var at)
        && Math.Abs((time.GetUtcNow().UtcDateTime - at).TotalSeconds) <= options.Value.QueryClockSkewSeconds;

    public static IResult Validation(string field, string rule) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [rule] }, title: "The request has errors");
}
