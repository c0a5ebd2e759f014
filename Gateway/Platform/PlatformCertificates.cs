using System.Collections.Concurrent;
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
/// leave the Hsm: each certificate is made here around its public key and signed by the Hsm, once per process.
/// </summary>
public sealed class PlatformCertificates(Hsm.HsmClient hsm, TimeProvider time)
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
    private readonly SemaphoreSlim _making = new(1, 1);
    private readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SigningKey> _signingKeys = new(StringComparer.Ordinal);

    /// <summary>The certificate of the key that signs /v1 answers and notifications.</summary>
    public Task<string> AnswersPemAsync(CancellationToken ct) => OnceAsync(Answers, ct);

    /// <summary>The certificate of the key that signs reconciliation files.</summary>
    public Task<string> FilesPemAsync(CancellationToken ct) => OnceAsync(Files, ct);

    /// <summary>The certificate merchants seal requests to: the Hsm's envelope key pair.</summary>
    public Task<string> EnvelopePemAsync(CancellationToken ct) => OnceAsync(Envelope, ct);

    /// <summary>The issuing key's own certificate, self-signed: the one every other certificate here chains to.</summary>
    public Task<string> IssuingPemAsync(CancellationToken ct) => OnceAsync(Issuing, ct);

    /// <summary>
    /// The key that signs /v1 answers and notifications as signers need it. Its certId (what
    /// answers carry in <c>certId</c>) is the same in every replica and across restarts.
    /// </summary>
    public Task<SigningKey> AnswersKeyAsync(CancellationToken ct) => SigningKeyAsync(AnswersKeyId, ct);

    /// <summary>
    /// The platform's detached signature over a file's bytes (a reconciliation file), as published
    /// (ECDSA in DER), by the files key, with the certId of that key. The gateway signs files as it
    /// serves them: settlement holds no signing key.
    /// </summary>
    public async Task<(string CertId, byte[] Signature)> SignFileAsync(byte[] content, CancellationToken ct)
    {
        var key = await SigningKeyAsync(FilesKeyId, ct);
        var reply = await hsm.SignAsync(new SignRequest { KeyId = FilesKeyId, Data = ByteString.CopyFrom(content), Scheme = key.Scheme }, cancellationToken: ct);
        return (key.CertId, SigningKeys.Published(key.Scheme, reply.Signature.Span));
    }

    /// <summary>A signing key's certId (the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo) and the SHA-256 scheme its algorithm takes, read from the Hsm once.</summary>
    private async Task<SigningKey> SigningKeyAsync(string keyId, CancellationToken ct)
    {
        if (_signingKeys.TryGetValue(keyId, out var known))
        {
            return known;
        }
        var spki = await PublicKeyInfoAsync(keyId, ct);
        return _signingKeys[keyId] = new SigningKey(Convert.ToHexStringLower(SHA256.HashData(spki))[..16], SigningKeys.Sha256SchemeOf(spki), spki);
    }

    private async Task<byte[]> PublicKeyInfoAsync(string keyId, CancellationToken ct) =>
        (await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, cancellationToken: ct)).SubjectPublicKeyInfo.ToByteArray();

    /// <summary>Each certificate is made once per process, the first time it is asked for.</summary>
    private async Task<string> OnceAsync(CertifiedKey certified, CancellationToken ct)
    {
        await _making.WaitAsync(ct);
        try
        {
            if (!_made.TryGetValue(certified.KeyId, out var pem))
            {
                _made[certified.KeyId] = pem = await IssueAsync(certified, ct);
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
    private async Task<string> IssueAsync(CertifiedKey certified, CancellationToken ct)
    {
        var issuing = await SigningKeyAsync(IssuingKeyId, ct);
        var issuingKey = PublicKey.CreateFromSubjectPublicKeyInfo(issuing.SubjectPublicKeyInfo, out _);
        var authority = certified.KeyId == IssuingKeyId;
        var key = authority ? issuingKey : PublicKey.CreateFromSubjectPublicKeyInfo(await PublicKeyInfoAsync(certified.KeyId, ct), out _);
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

/// <summary>A platform signing key: the certId that names it, the scheme it signs with, and its public key (read from the Hsm once).</summary>
public sealed record SigningKey(string CertId, SignatureScheme Scheme, byte[] SubjectPublicKeyInfo);
