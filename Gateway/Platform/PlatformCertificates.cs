using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Platform;

/// <summary>
/// The platform's key pairs in the Hsm and the certificates merchants verify them with. Each
/// signing key has one purpose, so that a signature made for one can never be presented as
/// another: <see cref="AnswersKeyId"/> signs /v1 answers and notifications,
/// <see cref="FilesKeyId"/> reconciliation files, and <see cref="IssuingKeyId"/> certificates
/// only (its own, self-signed, and those of the other three, envelope key included). A signing
/// certificate states its purpose as an extended key usage (<see cref="AnswersPurposeOid"/>,
/// <see cref="FilesPurposeOid"/>), so that a verifier handed one certificate for the other can
/// tell. The keys (ECDSA P-256, or RSA-2048 where an installation's key predates that) never
/// leave the Hsm: each certificate is made here around its public key and signed by the Hsm, once per
/// process and key version. Answers, envelope and files keys rotate (<see cref="PlatformKeyVersions"/>):
/// the current version signs, and a certificate is published for it and, until its overlap ends, for
/// the version it replaced, each named by its certId. The issuing key does not rotate online: it is
/// the anchor merchants pin.
/// </summary>
public sealed class PlatformCertificates(Hsm.HsmClient hsm, PlatformKeyVersions versions, TimeProvider time)
{
    public const string AnswersKeyId = "gateway.signing";
    public const string AnswersSubjectName = "CN=Mesh payment gateway, O=Mesh, C=CN";
    public const string FilesKeyId = "gateway.files";
    public const string FilesSubjectName = "CN=Mesh payment gateway files, O=Mesh, C=CN";
    public const string IssuingKeyId = "gateway.certificates";
    public const string IssuingSubjectName = "CN=Mesh payment gateway certificates, O=Mesh, C=CN";
    public const string EnvelopeKeyId = "gateway.envelope";
    public const string EnvelopeSubjectName = "CN=Mesh payment gateway envelope, O=Mesh, C=CN";
    public const int ValidityDays = 365;

    /// <summary>The extended key usage of the answers certificate: signs /v1 answers and notifications (a UUID OID, X.667).</summary>
    public const string AnswersPurposeOid = "2.25.131089013948534618386770640737088618005";

    /// <summary>The extended key usage of the files certificate: signs reconciliation files (a UUID OID, X.667).</summary>
    public const string FilesPurposeOid = "2.25.231086289429773457504858025368365745185";

    private const X509KeyUsageFlags Signing = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation;
    private static readonly CertifiedKey Answers = new(AnswersKeyId, AnswersSubjectName, Signing, AnswersPurposeOid);
    private static readonly CertifiedKey Files = new(FilesKeyId, FilesSubjectName, Signing, FilesPurposeOid);
    private static readonly CertifiedKey Envelope = new(EnvelopeKeyId, EnvelopeSubjectName, X509KeyUsageFlags.KeyEncipherment, PurposeOid: null);
    private static readonly CertifiedKey Issuing = new(IssuingKeyId, IssuingSubjectName, X509KeyUsageFlags.KeyCertSign, PurposeOid: null);

    /// <summary>The certified keys by what their certificate endpoints call them.</summary>
    private static readonly Dictionary<string, CertifiedKey> ByKeyId = new(StringComparer.Ordinal)
    {
        [AnswersKeyId] = Answers,
        [FilesKeyId] = Files,
        [EnvelopeKeyId] = Envelope,
        [IssuingKeyId] = Issuing,
    };

    private readonly SemaphoreSlim _making = new(1, 1);
    private readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);

    /// <summary>The certificate of the key that signs /v1 answers and notifications: the current version's, or that of <paramref name="certId"/> while it is in use.</summary>
    public Task<string?> AnswersPemAsync(CancellationToken ct, string? certId = null) => PemAsync(AnswersKeyId, certId, ct);

    /// <summary>The certificate of the key that signs reconciliation files.</summary>
    public Task<string?> FilesPemAsync(CancellationToken ct, string? certId = null) => PemAsync(FilesKeyId, certId, ct);

    /// <summary>The certificate merchants seal requests to: the Hsm's envelope key pair.</summary>
    public Task<string?> EnvelopePemAsync(CancellationToken ct, string? certId = null) => PemAsync(EnvelopeKeyId, certId, ct);

    /// <summary>The issuing key's own certificate, self-signed: the one every other certificate here chains to.</summary>
    public async Task<string> IssuingPemAsync(CancellationToken ct) => (await PemAsync(IssuingKeyId, null, ct))!;

    /// <summary>
    /// The key that signs /v1 answers and notifications as signers need it: its current version,
    /// whose certId answers carry in <c>certId</c> (the same in every replica and across restarts).
    /// </summary>
    public async Task<SigningKey> AnswersKeyAsync(CancellationToken ct) => (await versions.VersionsAsync(AnswersKeyId, ct)).Current;

    /// <summary>
    /// The envelope key's version that opens what was sealed to the certificate <paramref name="certId"/>
    /// names (a JWE's <c>kid</c>): the current one, or the previous one until its overlap ends; null
    /// when it is retired or unknown, and the envelope is refused.
    /// </summary>
    public async Task<EnvelopeKeyVersion?> EnvelopeKeyAsync(string certId, CancellationToken ct) =>
        await versions.ByCertIdAsync(EnvelopeKeyId, certId, ct) is { } version ? new EnvelopeKeyVersion(EnvelopeKeyId, version.CheckValue, version.CertId) : null;

    /// <summary>
    /// The platform's detached signature over a file's bytes (a reconciliation file), as published
    /// (ECDSA in DER), by the files key's current version, with its certId. The gateway signs files as it
    /// serves them: settlement holds no signing key.
    /// </summary>
    public async Task<(string CertId, byte[] Signature)> SignFileAsync(byte[] content, CancellationToken ct)
    {
        var key = (await versions.VersionsAsync(FilesKeyId, ct)).Current;
        var reply = await hsm.SignAsync(new SignRequest { KeyId = FilesKeyId, Data = ByteString.CopyFrom(content), Scheme = key.Scheme, CheckValue = key.CheckValue },
            cancellationToken: ct);
        return (key.CertId, SigningKeys.Published(key.Scheme, reply.Signature.Span));
    }

    /// <summary>Every certificate published now, one per version in use, with the overlap of a version a rotation replaced.</summary>
    public async Task<IReadOnlyList<PublishedCertificate>> ListAsync(CancellationToken ct)
    {
        var list = new List<PublishedCertificate>();
        var now = time.GetUtcNow();
        foreach (var (purpose, keyId) in new[] { ("answers", AnswersKeyId), ("files", FilesKeyId), ("envelope", EnvelopeKeyId), ("issuing", IssuingKeyId) })
        {
            var held = await versions.VersionsAsync(keyId, ct);
            foreach (var version in held.InUseAt(now))
            {
                var current = version == held.Current;
                list.Add(new PublishedCertificate(purpose, keyId, version.CertId, current ? "current" : "previous",
                    current ? null : held.PreviousRetiresAt, await OnceAsync(ByKeyId[keyId], version, ct)));
            }
        }
        return list;
    }

    private async Task<string?> PemAsync(string keyId, string? certId, CancellationToken ct)
    {
        var version = certId is null ? (await versions.VersionsAsync(keyId, ct)).Current : await versions.ByCertIdAsync(keyId, certId, ct);
        return version is null ? null : await OnceAsync(ByKeyId[keyId], version, ct);
    }

    /// <summary>Each version's certificate is made once per process, the first time it is asked for.</summary>
    private async Task<string> OnceAsync(CertifiedKey certified, SigningKey version, CancellationToken ct)
    {
        var name = $"{certified.KeyId}|{version.CertId}";
        await _making.WaitAsync(ct);
        try
        {
            if (!_made.TryGetValue(name, out var pem))
            {
                _made[name] = pem = await IssueAsync(certified, version, ct);
            }
            return pem;
        }
        finally
        {
            _making.Release();
        }
    }

    /// <summary>
    /// A certificate for a key pair held in the Hsm, issued by the platform's issuing key (signed in
    /// the Hsm with <see cref="IssuingKeyId"/>, under <see cref="IssuingSubjectName"/>): a
    /// certificate authority's, self-signed, for the issuing key itself, an end entity's for the others.
    /// </summary>
    private async Task<string> IssueAsync(CertifiedKey certified, SigningKey version, CancellationToken ct)
    {
        var issuing = (await versions.VersionsAsync(IssuingKeyId, ct)).Current;
        var issuingKey = PublicKey.CreateFromSubjectPublicKeyInfo(issuing.SubjectPublicKeyInfo, out _);
        var authority = certified.KeyId == IssuingKeyId;
        var key = authority ? issuingKey : PublicKey.CreateFromSubjectPublicKeyInfo(version.SubjectPublicKeyInfo, out _);
        var request = new CertificateRequest(new X500DistinguishedName(certified.SubjectName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(certified.Usage, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(authority, authority, 0, critical: true));
        if (certified.PurposeOid is { } purpose)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(purpose)], critical: false));
        }
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(key, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(new X509SubjectKeyIdentifierExtension(issuingKey, critical: false)));
        var now = time.GetUtcNow();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        // X509SignatureGenerator is synchronous: the one Hsm call runs off the request's thread.
        var certificate = await Task.Run(() => request.Create(new X500DistinguishedName(IssuingSubjectName), new HsmSignatureGenerator(hsm, issuingKey, issuing.Scheme),
            now.AddMinutes(-5), now.AddDays(ValidityDays), serial), ct);
        return certificate.ExportCertificatePem();
    }

    /// <summary>A key pair the platform certifies: the subject its certificate names, its key usage and, for a signing key, its purpose.</summary>
    private sealed record CertifiedKey(string KeyId, string SubjectName, X509KeyUsageFlags Usage, string? PurposeOid);

    /// <summary>SHA256withECDSA or SHA256withRSA by the Hsm's issuing key.</summary>
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
            SigningKeys.Published(scheme, hsm.Sign(new SignRequest { KeyId = IssuingKeyId, Data = ByteString.CopyFrom(data), Scheme = scheme }).Signature.Span);

        protected override PublicKey BuildPublicKey() => key;
    }
}

/// <summary>
/// A version of a platform key pair: the certId that names it (the first 16 hex digits of the SHA-256
/// of its SubjectPublicKeyInfo), the scheme it signs with, its public key, and the Hsm's check value
/// of it, by which a command names the version.
/// </summary>
public sealed record SigningKey(string CertId, SignatureScheme Scheme, byte[] SubjectPublicKeyInfo, string CheckValue);

/// <summary>The Hsm key and version that open an envelope sealed to the envelope certificate <see cref="CertId"/> names.</summary>
public sealed record EnvelopeKeyVersion(string KeyId, string CheckValue, string CertId);

/// <summary>A certificate the platform publishes: its purpose, key, certId, whether it is the current version or the previous one (and until when), and the PEM.</summary>
public sealed record PublishedCertificate(string Purpose, string KeyId, string CertId, string Status, DateTimeOffset? RetiresAt, string CertificatePem);
