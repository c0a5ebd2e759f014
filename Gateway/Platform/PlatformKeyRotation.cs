using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Platform;

/// <summary>
/// The platform's own key pairs that rotate, and the operator's rotation of one: a new version is
/// generated in the Hsm (the operator console's platform-keys credential, <see cref="OperatorHsmClient"/>),
/// the replaced one overlaps for the window the operator gives, then the Hsm retires it. Every replica
/// takes up the new version within <see cref="PlatformKeyVersions.CacheTime"/>. The issuing key does not
/// rotate here: merchants pin it.
/// </summary>
public sealed class PlatformKeyRotation(OperatorHsmClient hsm, PlatformKeyVersions versions, ILogger<PlatformKeyRotation> logger)
{
    /// <summary>The overlap the console proposes: a week for merchants to take up a new certificate.</summary>
    public const int OverlapSecondsDefault = 7 * 24 * 3600;

    /// <summary>The longest overlap (the Hsm's limit too): 30 days.</summary>
    public const int OverlapSecondsMax = 30 * 24 * 3600;

    /// <summary>The keys that rotate, by the purpose the console names them with.</summary>
    public static readonly IReadOnlyList<(string KeyId, string Purpose)> Rotatable =
    [
        (PlatformCertificates.AnswersKeyId, "answers and notifications (certId)"),
        (PlatformCertificates.FilesKeyId, "reconciliation and payment files"),
        (PlatformCertificates.EnvelopeKeyId, "envelope (requests sealed to the platform)"),
        (NetPaySignature.KeyId, "NetPay answers (PGID, checkvalue)"),
        (Acquirer.EcTransportKeyId, "browser PIN transport (ECDH)"),
        (Acquirer.RsaTransportKeyId, "browser PIN transport (RSA-OAEP)"),
    ];

    public static bool IsRotatable(string keyId) => Rotatable.Any(k => k.KeyId == keyId);

    /// <summary>Each rotatable key's versions now.</summary>
    public async Task<IReadOnlyList<(string Purpose, KeyVersions Versions)>> ListAsync(CancellationToken ct)
    {
        var list = new List<(string, KeyVersions)>(Rotatable.Count);
        foreach (var (keyId, purpose) in Rotatable)
        {
            list.Add((purpose, await versions.VersionsAsync(keyId, ct)));
        }
        return list;
    }

    /// <summary>
    /// Rotates <paramref name="keyId"/> whose current version has <paramref name="currentCheckValue"/> (the one the
    /// operator saw: the same rotation twice is made once). The Hsm's answer, or its refusal as an RpcException.
    /// </summary>
    public async Task<KeyInfo> RotateAsync(string keyId, string currentCheckValue, int overlapSeconds, string operatorId, CancellationToken ct)
    {
        var info = await hsm.RotateKeyPairAsync(new RotateKeyPairRequest { KeyId = keyId, CurrentCheckValue = currentCheckValue, OverlapSeconds = overlapSeconds },
            cancellationToken: ct);
        logger.LogWarning("Platform key {KeyId} rotated by {Operator}: {Previous} -> {Current}, the previous version retires at {RetiresAt}",
            keyId, operatorId, info.PreviousCheckValue, info.CheckValue, DateTimeOffset.FromUnixTimeMilliseconds(info.PreviousRetiresAtUnixMs));
        return info;
    }

    /// <summary>A refusal of the Hsm for the console: the Hsm's own detail (English) in words of the page's language.</summary>
    public static Words Refusal(RpcException ex) => new("The HSM refused the rotation: {0}", ex.Status.Detail);
}
