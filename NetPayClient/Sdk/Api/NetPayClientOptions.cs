using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Api;

/// <summary>How a merchant reaches the platform.</summary>
public sealed class NetPayClientOptions
{
    /// <summary>The gateway's merchant API, e.g. <c>https://pay.example.com</c>.</summary>
    public required Uri GatewayUrl { get; init; }

    /// <summary>The merchant's 15-digit id.</summary>
    public required string MerchantId { get; init; }

    /// <summary>The merchant's private key; its public half is registered with the platform.</summary>
    public required MerchantKey Key { get; init; }

    /// <summary>
    /// The platform's certificate (PEM), as given at onboarding. When null it is fetched once from
    /// <c>/v1/platform-certificate</c> over the gateway's TLS; pinning it is safer.
    /// </summary>
    public string? PlatformCertificatePem { get; init; }

    /// <summary>The merchant's certificate (PEM), when it gave one: CMS-enveloped notifications are addressed to it.</summary>
    public string? MerchantCertificatePem { get; init; }

    /// <summary>Seal request bodies to the platform's envelope certificate as a compact JWE (RSA-OAEP-256, A256GCM, <c>application/jose</c>).</summary>
    public bool SealRequests { get; init; }

    /// <summary>How many times a request whose outcome is unknown (no answer, 5xx, 429) is sent again. Creates and refunds carry an Idempotency-Key, so repeats are safe.</summary>
    public int RetriesMax { get; init; } = 4;

    /// <summary>The wait before the first repeat; it doubles with each one (with jitter) up to <see cref="RetryDelayMaxMs"/>.</summary>
    public int RetryDelayFirstMs { get; init; } = 200;

    /// <summary>The longest wait between two repeats.</summary>
    public int RetryDelayMaxMs { get; init; } = 5_000;

    /// <summary>How long one attempt may take.</summary>
    public int AttemptTimeoutMs { get; init; } = 30_000;

    internal void Validate()
    {
        if (!MerchantIdIsValid(MerchantId))
        {
            throw new ArgumentException("MerchantId is 15 digits", nameof(MerchantId));
        }
        if (RetriesMax is < 0 or > 10 || RetryDelayFirstMs is < 1 or > 60_000 || RetryDelayMaxMs < RetryDelayFirstMs || AttemptTimeoutMs is < 100 or > 600_000)
        {
            throw new ArgumentException("RetriesMax 0..10, RetryDelayFirstMs 1..60000 and at most RetryDelayMaxMs, AttemptTimeoutMs 100..600000");
        }
    }

    internal static bool MerchantIdIsValid(string? id) => id is { Length: 15 } && id.All(char.IsAsciiDigit);
}
