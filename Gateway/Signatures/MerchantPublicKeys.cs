using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Mesh.Gateway.Signatures;

/// <summary>
/// Merchants' public keys as loaded key objects, by their SubjectPublicKeyInfo: every signed
/// request is checked with its merchant's key, and importing a key costs more than the check.
/// Keyed by content, so a merchant's new key is simply another entry. A loaded key is only read
/// (verification), which OpenSSL's keys allow from many threads at once.
/// </summary>
public static class MerchantPublicKeys
{
    /// <summary>Most keys kept; past it the cache starts again empty.</summary>
    public const int KeptMax = 10_000;

    private static readonly ConcurrentDictionary<string, AsymmetricAlgorithm> Loaded = new(StringComparer.Ordinal);

    /// <summary>The ECDSA key of <paramref name="spki"/>; throws <see cref="CryptographicException"/> when it is not one.</summary>
    public static ECDsa Ecdsa(byte[] spki) => (ECDsa)Load("ec:", spki, () => ECDsa.Create());

    /// <summary>The RSA key of <paramref name="spki"/>; throws <see cref="CryptographicException"/> when it is not one.</summary>
    public static RSA Rsa(byte[] spki) => (RSA)Load("rsa:", spki, () => RSA.Create());

    private static AsymmetricAlgorithm Load(string kind, byte[] spki, Func<AsymmetricAlgorithm> create)
    {
        var name = kind + Convert.ToBase64String(spki);
        if (Loaded.TryGetValue(name, out var key))
        {
            return key;
        }
        key = create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out _);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        if (Loaded.Count >= KeptMax)
        {
            // Dropped, not disposed: a request may still be checking a signature with one.
            Loaded.Clear();
        }
        return Loaded.GetOrAdd(name, key);
    }
}
