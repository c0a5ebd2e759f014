using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Platform;

/// <summary>
/// The certificate merchants verify the platform's signed answers with. The key pair
/// (<see cref="KeyId"/>: ECDSA P-256, or RSA-2048 where an installation's key predates that)
/// never leaves the Hsm: the certificate is made here around its public key and signed by the
/// Hsm (SHA256withECDSA or SHA256withRSA, by the key), once per process.
/// </summary>
public sealed class PlatformCertificate(Hsm.HsmClient hsm, TimeProvider time)
{
    public const string KeyId = "gateway.signing";
    public const string SubjectName = "CN=Mesh payment gateway, O=Mesh, C=CN";
    public const int ValidityDays = 365;
    public const string EnvelopeKeyId = "gateway.envelope";
    public const string EnvelopeSubjectName = "CN=Mesh payment gateway envelope, O=Mesh, C=CN";
    private readonly SemaphoreSlim _making = new(1, 1);
    private readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);
    private SigningKey? _signing;

    public Task<string> PemAsync(CancellationToken ct) =>
        OnceAsync(KeyId, () => MakeAsync(KeyId, SubjectName, X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, ct), ct);

    /// <summary>The certificate merchants seal requests to: the Hsm's envelope key pair, certified by the platform's signing key.</summary>
    public Task<string> EnvelopePemAsync(CancellationToken ct) =>
        OnceAsync(EnvelopeKeyId, () => MakeAsync(EnvelopeKeyId, EnvelopeSubjectName, X509KeyUsageFlags.KeyEncipherment, ct), ct);

    /// <summary>Each certificate is made once per process, the first time it is asked for.</summary>
    private async Task<string> OnceAsync(string keyId, Func<Task<string>> make, CancellationToken ct)
    {
        await _making.WaitAsync(ct);
        try
        {
            if (!_made.TryGetValue(keyId, out var pem))
            {
                _made[keyId] = pem = await make();
            }
            return pem;
        }
        finally
        {
            _making.Release();
        }
    }

    /// <summary>
    /// Names the platform's signing key in signed answers (<c>certId</c>): the first 16 hex digits of
    /// the SHA-256 of its SubjectPublicKeyInfo, the same in every replica and across restarts.
    /// </summary>
    public async Task<string> CertIdAsync(CancellationToken ct) => (await SigningKeyAsync(ct)).CertId;

    /// <summary>
    /// The platform's detached signature over a file's bytes (a reconciliation file), as published
    /// (ECDSA in DER). The gateway signs files as it serves them: settlement holds no signing key.
    /// </summary>
    public async Task<byte[]> SignFileAsync(byte[] content, CancellationToken ct)
    {
        var key = await SigningKeyAsync(ct);
        var reply = await hsm.SignAsync(new SignRequest { KeyId = KeyId, Data = ByteString.CopyFrom(content), Scheme = key.Scheme }, cancellationToken: ct);
        return SigningKeys.Published(key.Scheme, reply.Signature.Span);
    }

    /// <summary>The platform's signing key as signers need it: its certId and the SHA-256 scheme its algorithm takes.</summary>
    public async Task<SigningKey> SigningKeyAsync(CancellationToken ct)
    {
        if (_signing is { } known)
        {
            return known;
        }
        var spki = (await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = KeyId }, cancellationToken: ct)).SubjectPublicKeyInfo.ToByteArray();
        return _signing = new SigningKey(Convert.ToHexStringLower(SHA256.HashData(spki))[..16], SigningKeys.Sha256SchemeOf(spki), spki);
    }

    /// <summary>A certificate for a key pair held in the Hsm, issued by the platform (signed in the Hsm with <see cref="KeyId"/>).</summary>
    private async Task<string> MakeAsync(string keyId, string subjectName, X509KeyUsageFlags usage, CancellationToken ct)
    {
        var platformKey = await SigningKeyAsync(ct);
        var signing = PublicKey.CreateFromSubjectPublicKeyInfo(platformKey.SubjectPublicKeyInfo, out _);
        var key = keyId == KeyId
            ? signing
            : PublicKey.CreateFromSubjectPublicKeyInfo(
                (await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, cancellationToken: ct)).SubjectPublicKeyInfo.ToByteArray(), out _);
        var request = new CertificateRequest(new X500DistinguishedName(subjectName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        var now = time.GetUtcNow();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        // X509SignatureGenerator is synchronous: the one Hsm call runs off the request's thread.
        var certificate = await Task.Run(() => request.Create(new X500DistinguishedName(SubjectName), new HsmSignatureGenerator(hsm, signing, platformKey.Scheme),
            now.AddMinutes(-5), now.AddDays(ValidityDays), serial), ct);
        return certificate.ExportCertificatePem();
    }

    /// <summary>SHA256withECDSA or SHA256withRSA by the Hsm's held key.</summary>
    private sealed class HsmSignatureGenerator(Hsm.HsmClient hsm, PublicKey key, SignatureScheme scheme) : X509SignatureGenerator
    {
        // AlgorithmIdentifier { sha256WithRSAEncryption, NULL }
        private static readonly byte[] Sha256WithRsa = Convert.FromHexString("300D06092A864886F70D01010B0500");

        // AlgorithmIdentifier { ecdsa-with-SHA256 } (no parameters)
        private static readonly byte[] EcdsaWithSha256 = Convert.FromHexString("300A06082A8648CE3D040302");

        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) => hashAlgorithm == HashAlgorithmName.SHA256
            ? scheme == SignatureScheme.EcdsaP256Sha256 ? EcdsaWithSha256 : Sha256WithRsa
            : throw new ArgumentOutOfRangeException(nameof(hashAlgorithm), "SHA-256 only");

        /// <summary>The Hsm's signature; an ECDSA one comes as r‖s and goes into the certificate as DER, as X.509 has it.</summary>
        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) =>
            SigningKeys.Published(scheme, hsm.Sign(new SignRequest { KeyId = KeyId, Data = ByteString.CopyFrom(data), Scheme = scheme }).Signature.Span);

        protected override PublicKey BuildPublicKey() => key;
    }
}

/// <summary>The platform's signing key: the certId that names it, the scheme it signs with, and its public key (read from the Hsm once).</summary>
public sealed record SigningKey(string CertId, SignatureScheme Scheme, byte[] SubjectPublicKeyInfo);
