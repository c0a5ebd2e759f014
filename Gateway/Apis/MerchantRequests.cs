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
/// only NetPay forms. During a key rotation's overlap either key's signature is taken. A suspended
/// or offboarding merchant's requests are checked as any other's; what its state refuses is said
/// by <see cref="StatusRefusal"/> with a stable <c>code</c>.
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
        if (await merchants.FindWithKeyAsync(merchantId, ct) is not ({ } merchant, { } keys) || keys.Current.Length == 0)
        {
            return (V1Problems.Result(V1Problems.MerchantUnknown, StatusCodes.Status403Forbidden, "The merchant is not accepted",
                $"merId {merchantId} is not an onboarded merchant"), null);
        }
        var now = time.GetUtcNow();
        var usable = keys.Verifying(now).Where(k => k.Algorithm == MerchantKey.EcdsaP256 || RsaBits(k.Spki) >= MerchantKey.V1RsaBitsMin).ToList();
        if (usable.Count == 0)
        {
            return (Validation("publicKeyPem",
                $"/v1 takes an RSA key of {MerchantKey.V1RsaBitsMin} bits or more, or ECDSA P-256; merId {merchantId} was onboarded with a shorter RSA key, "
                + "which signs NetPay forms only: give the platform a new key"), null);
        }
        var signature = fields.GetValueOrDefault(CanonicalSignature.SignatureField);
        if (!usable.Any(k => CanonicalSignature.IsValid(k.Spki, k.Algorithm, fields, signature)))
        {
            return (V1Problems.Result(V1Problems.SignatureInvalid, StatusCodes.Status401Unauthorized, "The signature does not verify",
                "signature is the base64 RSA-SHA256 (or ECDSA P-256 SHA-256) signature, by the merchant's key, of the SHA-256 hex digest of the "
                + "request's fields without signature and empty values, sorted by name and joined as k=v&k=v"), null);
        }
        if (StatusRefusal(merchant, query ? MerchantCall.Query : MerchantCall.FollowUp) is { } closed)
        {
            return (closed, null);
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

    /// <summary>
    /// Null when the merchant's state lets it make <paramref name="call"/>; otherwise a 403 problem whose <c>code</c> is
    /// <c>merchant.suspended</c>, <c>merchant.offboarding</c> or <c>merchant.closed</c> (and whose type is that code's). A problem result, not a stored
    /// answer: a create refused while suspended and sent again with its Idempotency-Key after reactivation is done then.
    /// </summary>
    public static IResult? StatusRefusal(Merchant merchant, MerchantCall call)
    {
        ArgumentNullException.ThrowIfNull(merchant);
        return MerchantLifecycle.Refuses(merchant.State, call) is { } code
            ? V1Problems.Result(code, StatusCodes.Status403Forbidden, $"The merchant is {merchant.Status}",
                $"merId {merchant.MerchantId}: {MerchantLifecycle.Why(merchant.State)}", new Dictionary<string, object?> { ["merchantStatus"] = merchant.Status })
            : null;
    }

    public static IResult Validation(string field, string rule) =>
        V1Problems.Validation(new Dictionary<string, string[]> { [field] = [rule] }, "The request has errors");
}
