using System.Security.Cryptography;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>Signatures with the platform's key pairs, and checks of anyone's signature.</summary>
public sealed class Signatures(KeyManagement keys)
{
    public const int DataBytesMax = 1 << 20;

    /// <summary>A signature by the version <paramref name="checkValue"/> names (empty: the current one; the previous one only until it retires).</summary>
    public async Task<byte[]> SignAsync(string keyId, byte[] data, SignatureScheme scheme, CancellationToken ct, string checkValue = "")
    {
        CheckData(data);
        var key = await keys.RequireVersionAsync(keyId, KeyType.Signing, checkValue, ct);
        return key.Pair switch
        {
            RSA rsa when IsRsa(scheme) => rsa.SignData(data, Hash(scheme), Padding(scheme)),
            ECDsa ecdsa when scheme == SignatureScheme.EcdsaP256Sha256 => ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => throw new HsmException(HsmErrorCode.InvalidInput, $"{scheme} does not fit the {key.Algorithm} key {keyId}"),
        };
    }

    /// <summary>
    /// The content key of a digital envelope addressed to a held envelope key pair, by the version
    /// <paramref name="checkValue"/> names; none named, the current version, then the previous one
    /// while it overlaps (an envelope sealed to the certificate a merchant fetched before a rotation).
    /// Anything but a 16- or 32-byte key is refused.
    /// </summary>
    public async Task<byte[]> OpenEnvelopeKeyAsync(string keyId, byte[] encryptedKey, CancellationToken ct, string checkValue = "")
    {
        if (checkValue.Length > 0)
        {
            return OpenEnvelopeKey(await keys.RequireVersionAsync(keyId, KeyType.Envelope, checkValue, ct), encryptedKey);
        }
        var versions = await keys.AcceptedAsync(keyId, KeyType.Envelope, ct);
        for (var i = 0; ; i++)
        {
            try
            {
                return OpenEnvelopeKey(versions[i], encryptedKey);
            }
            catch (HsmException ex) when (ex.Code == HsmErrorCode.VerificationFailure && i + 1 < versions.Count)
            {
                // sealed to the other version, perhaps: OAEP's padding check tells them apart
            }
        }
    }

    private static byte[] OpenEnvelopeKey(HeldKey key, byte[] encryptedKey)
    {
        var keyId = key.KeyId;
        if (key.Pair is not RSA rsa || encryptedKey.Length != rsa.KeySize / 8)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"an RSA-OAEP-SHA256 block of {keyId}'s size");
        }
        byte[] contentKey;
        try
        {
            contentKey = rsa.Decrypt(encryptedKey, RSAEncryptionPadding.OaepSHA256);
        }
        catch (CryptographicException)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the envelope's key does not open with this key pair");
        }
        if (contentKey.Length is not (16 or 32))
        {
            CryptographicOperations.ZeroMemory(contentKey);
            throw new HsmException(HsmErrorCode.InvalidInput, "a content key is 16 or 32 bytes");
        }
        return contentKey;
    }

    /// <summary>Checks a signature with a held key pair or an inline public key; a bad one is error 01.</summary>
    public async Task VerifyAsync(VerifyRequest request, CancellationToken ct)
    {
        var data = request.Data.ToByteArray();
        CheckData(data);
        using var inline = string.IsNullOrEmpty(request.KeyId) ? ImportPublicKey(request.SubjectPublicKeyInfo.ToByteArray(), request.Scheme) : null;
        var key = inline ?? (await keys.RequireAsync(request.KeyId, KeyType.Signing, ct)).Pair;
        var signature = request.Signature.ToByteArray();
        var valid = key switch
        {
            RSA rsa when IsRsa(request.Scheme) => rsa.VerifyData(data, signature, Hash(request.Scheme), Padding(request.Scheme)),
            ECDsa ecdsa when request.Scheme == SignatureScheme.EcdsaP256Sha256 =>
                ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => throw new HsmException(HsmErrorCode.InvalidInput, $"{request.Scheme} does not fit that key"),
        };
        if (!valid)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "signature verification failed");
        }
    }

    private static AsymmetricAlgorithm ImportPublicKey(byte[] spki, SignatureScheme scheme)
    {
        AsymmetricAlgorithm key = IsRsa(scheme) ? RSA.Create() : ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out _);
            if (key is RSA { KeySize: < 1024 })
            {
                throw new HsmException(HsmErrorCode.InvalidInput, "RSA keys shorter than 1024 bits are refused");
            }
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new HsmException(HsmErrorCode.InvalidInput, "the public key is not a SubjectPublicKeyInfo of the scheme's algorithm");
        }
    }

    private static void CheckData(byte[] data)
    {
        if (data.Length > DataBytesMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"at most {DataBytesMax} bytes are signed at once");
        }
    }

    private static bool IsRsa(SignatureScheme scheme) => scheme is SignatureScheme.RsaPkcs1Sha256 or SignatureScheme.RsaPkcs1Sha1 or SignatureScheme.RsaPssSha256;

    private static HashAlgorithmName Hash(SignatureScheme scheme) => scheme == SignatureScheme.RsaPkcs1Sha1 ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;

    private static RSASignaturePadding Padding(SignatureScheme scheme) => scheme == SignatureScheme.RsaPssSha256 ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
}
