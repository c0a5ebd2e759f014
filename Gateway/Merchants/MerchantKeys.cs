using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Merchants;

/// <summary>
/// The keys a merchant's signatures are checked with: its current key and, during a rotation's
/// overlap, the key it replaced until <paramref name="PreviousExpiresAt"/>. The expiry is checked
/// against the clock at each verification, so no job has to remove the old key for it to stop working.
/// </summary>
public sealed record MerchantKeys(byte[] Current, string CurrentAlgorithm, byte[]? Previous, string? PreviousAlgorithm, DateTimeOffset? PreviousExpiresAt)
{
    /// <summary>The longest overlap a merchant may choose.</summary>
    public const int OverlapDaysMax = 30;

    /// <summary>The keys that verify at <paramref name="now"/>, the current one first.</summary>
    public IEnumerable<(byte[] Spki, string Algorithm)> Verifying(DateTimeOffset now)
    {
        if (Current.Length > 0)
        {
            yield return (Current, CurrentAlgorithm);
        }
        if (Previous is { Length: > 0 } previous && PreviousAlgorithm is { } algorithm && now < PreviousExpiresAt)
        {
            yield return (previous, algorithm);
        }
    }

    /// <summary>True when one of the keys that verify at <paramref name="now"/> passes <paramref name="check"/>.</summary>
    public bool AnyVerifies(DateTimeOffset now, Func<byte[], string, bool> check) => Verifying(now).Any(k => check(k.Spki, k.Algorithm));
}

/// <summary>
/// What a new key must be for the protocols its merchant signs with: the NetPay form protocol's
/// ChkValue is RSA SHA-1 in 256 hex digits, so it needs RSA-1024; <c>/v1</c> needs RSA of 2,048 bits
/// or more, or ECDSA P-256. A new key that loses a protocol the current key signs is refused with
/// what breaks, unless the merchant confirms that it stops using that protocol.
/// </summary>
public static class KeyRotation
{
    public const int NetPayRsaBits = 1024;

    public static bool SignsNetPay(string algorithm, int bits) => algorithm == MerchantKey.Rsa && bits == NetPayRsaBits;

    public static bool SignsV1(string algorithm, int bits) => algorithm == MerchantKey.EcdsaP256 || (algorithm == MerchantKey.Rsa && bits >= MerchantKey.V1RsaBitsMin);

    /// <summary>Why the overlap is refused (null: 0 to <see cref="MerchantKeys.OverlapDaysMax"/> days).</summary>
    public static Words? OverlapRefusal(int? days) =>
        days is >= 0 and <= MerchantKeys.OverlapDaysMax ? null : new Words("the overlap is 0 to {0} days", MerchantKeys.OverlapDaysMax);

    /// <summary>
    /// What breaks when <paramref name="next"/> replaces a key of <paramref name="currentAlgorithm"/> and <paramref name="currentBits"/>:
    /// null when nothing does, or when <paramref name="confirmed"/>.
    /// </summary>
    public static Words? Breaks(string currentAlgorithm, int currentBits, MerchantKey next, bool confirmed)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (confirmed)
        {
            return null;
        }
        var what = next.Algorithm == MerchantKey.Rsa ? new Words("an RSA-{0} key", next.Bits) : new Words("an ECDSA P-256 key");
        if (SignsNetPay(currentAlgorithm, currentBits) && !SignsNetPay(next.Algorithm, next.Bits))
        {
            return new Words("NetPay forms need an RSA-{0} key (ChkValue is RSA SHA-1, {1} hex digits): "
                + "with {2}, every purchase form (/pay/TransGet), refund (/pay/Refund) and order query (/pay/Query) you sign is refused "
                + "once the old key's overlap ends. Confirm that you stop using NetPay forms to replace it anyway",
                NetPayRsaBits, Signatures.NetPaySignature.ChkValueChars, what);
        }
        if (SignsV1(currentAlgorithm, currentBits) && !SignsV1(next.Algorithm, next.Bits))
        {
            return new Words("/v1 needs RSA of {0} bits or more, or ECDSA P-256: with {1}, every /v1 request you sign is refused "
                + "once the old key's overlap ends. Confirm that you stop using /v1 to replace it anyway", MerchantKey.V1RsaBitsMin, what);
        }
        return null;
    }
}
