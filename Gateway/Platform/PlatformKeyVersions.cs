using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grpc.Core;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Platform;

/// <summary>
/// The versions of the platform's key pairs in the Hsm as the gateway uses them: the current one, and
/// the previous one while its overlap lasts after a rotation. Read from the Hsm at most once per
/// <see cref="CacheTime"/> per key, so that every replica takes up a rotation within that time
/// without being told; a version's public key never changes, so it is read once.
/// </summary>
public sealed class PlatformKeyVersions(Hsm.HsmClient hsm, TimeProvider time)
{
    /// <summary>How long a replica keeps signing with (and handing out) the version it last read: a rotation reaches every replica within it.</summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (KeyVersions Versions, DateTimeOffset ReadAt)> _read = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SigningKey> _versions = new(StringComparer.Ordinal);

    /// <summary>The key's versions now: current, and previous until it retires.</summary>
    public async Task<KeyVersions> VersionsAsync(string keyId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_read.TryGetValue(keyId, out var read) && now - read.ReadAt < CacheTime)
        {
            return read.Versions;
        }
        var reply = await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, cancellationToken: ct);
        var current = Version(keyId, reply);
        SigningKey? previous = null;
        DateTimeOffset? retiresAt = null;
        if (reply.PreviousCheckValue.Length > 0)
        {
            retiresAt = DateTimeOffset.FromUnixTimeMilliseconds(reply.PreviousRetiresAtUnixMs);
            previous = await VersionAsync(keyId, reply.PreviousCheckValue, ct);
        }
        var versions = new KeyVersions(keyId, current, previous is null ? null : retiresAt, previous);
        _read[keyId] = (versions, now);
        return versions;
    }

    /// <summary>The shortest time between two reads of a key's versions that a certId this replica does not know forces.</summary>
    public static readonly TimeSpan UnknownCertIdRereadMin = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The version whose certId is <paramref name="certId"/>, if it is current or still overlapping; null when retired or unknown.
    /// A certId this replica does not know is looked for once more in the Hsm (at most every <see cref="UnknownCertIdRereadMin"/>):
    /// another replica may already sign with a version this one has not read yet.
    /// </summary>
    public async Task<SigningKey?> ByCertIdAsync(string keyId, string certId, CancellationToken ct)
    {
        var versions = await VersionsAsync(keyId, ct);
        if (versions.InUseAt(time.GetUtcNow()).FirstOrDefault(v => v.CertId == certId) is { } known)
        {
            return known;
        }
        if (_read.TryGetValue(keyId, out var read) && time.GetUtcNow() - read.ReadAt >= UnknownCertIdRereadMin)
        {
            _read.TryRemove(keyId, out _);
            versions = await VersionsAsync(keyId, ct);
        }
        return versions.InUseAt(time.GetUtcNow()).FirstOrDefault(v => v.CertId == certId);
    }

    /// <summary>A version's public key, read once (null when the version retired meanwhile).</summary>
    private async Task<SigningKey?> VersionAsync(string keyId, string checkValue, CancellationToken ct)
    {
        if (_versions.TryGetValue($"{keyId}|{checkValue}", out var known))
        {
            return known;
        }
        try
        {
            return Version(keyId, await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId, CheckValue = checkValue }, cancellationToken: ct));
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private SigningKey Version(string keyId, GetPublicKeyReply reply)
    {
        var spki = reply.SubjectPublicKeyInfo.ToByteArray();
        return _versions.GetOrAdd($"{keyId}|{reply.CheckValue}",
            _ => new SigningKey(Convert.ToHexStringLower(SHA256.HashData(spki))[..16], SigningKeys.Sha256SchemeOf(spki), spki, reply.CheckValue));
    }
}

/// <summary>A platform key pair's versions: the current one and, until <see cref="PreviousRetiresAt"/>, the one a rotation replaced.</summary>
public sealed record KeyVersions(string KeyId, SigningKey Current, DateTimeOffset? PreviousRetiresAt, SigningKey? Previous)
{
    /// <summary>The versions that sign, verify or open at <paramref name="now"/>: current first.</summary>
    public IEnumerable<SigningKey> InUseAt(DateTimeOffset now) =>
        Previous is not null && now < PreviousRetiresAt ? [Current, Previous] : [Current];
}
