using System.Security.Cryptography;
using Mesh.Gateway.Signatures;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mesh.Gateway.Platform;

public static class PlatformCertificatesApi
{
    private const string CertIdDescription =
        "Without certId: the current version's. With certId (16 hex digits, as answers, notifications and files name the key that signed them): "
        + "that version's, while it is current or in the overlap after a rotation; a retired or unknown certId is 404.";

    public static RouteGroupBuilder MapPlatformCertificatesApi(this RouteGroupBuilder group)
    {
        group.MapGet("/platform-certificate", (PlatformCertificates certificates, string? certId, CancellationToken ct) =>
                PemAsync(certId, id => certificates.AnswersPemAsync(ct, id)))
            .WithName("GetPlatformCertificate")
            .WithSummary("The X.509 certificate (PEM) of the key the platform signs its /v1 answers and notifications with (certId)")
            .WithDescription("ECDSA P-256, SHA256withECDSA; issued by the platform's issuing certificate; the private key never leaves the Hsm. " + CertIdDescription)
            .WithTags("Platform");
        group.MapGet("/platform-files-certificate", (PlatformCertificates certificates, string? certId, CancellationToken ct) =>
                PemAsync(certId, id => certificates.FilesPemAsync(ct, id)))
            .WithName("GetPlatformFilesCertificate")
            .WithSummary("The X.509 certificate (PEM) of the key the platform signs reconciliation files with (Mesh-File-Signature)")
            .WithDescription("ECDSA P-256, SHA256withECDSA; issued by the platform's issuing certificate; the private key never leaves the Hsm. " + CertIdDescription)
            .WithTags("Platform", "Reconciliation");
        group.MapGet("/platform-issuing-certificate", async (PlatformCertificates certificates, CancellationToken ct) =>
                TypedResults.Text(await certificates.IssuingPemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformIssuingCertificate")
            .WithSummary("The self-signed certificate (PEM) of the key that issues the platform's other certificates and signs nothing else")
            .WithDescription("Check that it issued the platform certificate you pinned, then that it issued the files and envelope certificates. It does not rotate online.")
            .WithTags("Platform");
        group.MapGet("/platform-envelope-certificate", (PlatformCertificates certificates, string? certId, CancellationToken ct) =>
                PemAsync(certId, id => certificates.EnvelopePemAsync(ct, id)))
            .WithName("GetPlatformEnvelopeCertificate")
            .WithSummary("The certificate (PEM, RSA-2048, key encipherment) merchants seal their requests' content keys to (RSA-OAEP-SHA256)")
            .WithDescription("Issued by the platform's issuing certificate; the private key never leaves the Hsm. " + CertIdDescription)
            .WithTags("Platform");
        group.MapGet("/platform-certificates", async (PlatformCertificates certificates, PlatformKeyVersions versions, TimeProvider time, CancellationToken ct) =>
            {
                var netPay = await versions.VersionsAsync(NetPaySignature.KeyId, ct);
                var now = time.GetUtcNow();
                return TypedResults.Ok(new PlatformCertificateList(await certificates.ListAsync(ct),
                    [.. netPay.InUseAt(now).Select(v => new PublishedPublicKey("netpay", NetPaySignature.KeyId, v.CertId, v == netPay.Current ? "current" : "previous",
                        v == netPay.Current ? null : netPay.PreviousRetiresAt, PublicKeyPem(v.SubjectPublicKeyInfo)))]));
            })
            .WithName("ListPlatformCertificates")
            .WithSummary("Every platform certificate and the NetPay public keys now in use: the current version of each, and the one a rotation replaced until its overlap ends")
            .WithDescription("Each with its purpose (answers, files, envelope, issuing; netpay), certId, status (current or previous) and, for a previous version, when it retires.")
            .WithTags("Platform");
        group.MapGet("/platform-netpay-key", async (PlatformKeyVersions versions, CancellationToken ct) =>
                TypedResults.Text(PublicKeyPem((await versions.VersionsAsync(NetPaySignature.KeyId, ct)).Current.SubjectPublicKeyInfo),
                    "application/x-pem-file"))
            .WithName("GetPlatformNetPayKey")
            .WithSummary($"The public key (PEM) of PGID {NetPaySignature.PlatformGatewayId}: it signs NetPay answers (checkvalue, RSA-1024 SHA-1)")
            .WithDescription("The current version. NetPay answers name no key: during a rotation's overlap hold both keys (/v1/platform-netpay-keys).")
            .WithTags("Platform", "NetPay");
        group.MapGet("/platform-netpay-keys", async (PlatformKeyVersions versions, TimeProvider time, CancellationToken ct) =>
                TypedResults.Text(string.Concat((await versions.VersionsAsync(NetPaySignature.KeyId, ct)).InUseAt(time.GetUtcNow())
                    .Select(v => PublicKeyPem(v.SubjectPublicKeyInfo) + "\n")), "application/x-pem-file"))
            .WithName("GetPlatformNetPayKeys")
            .WithSummary("The PGID public keys (PEM, current first) a NetPay answer may be signed with now: two during a rotation's overlap, else one")
            .WithTags("Platform", "NetPay");
        return group;
    }

    private static string PublicKeyPem(byte[] subjectPublicKeyInfo) => PemEncoding.WriteString("PUBLIC KEY", subjectPublicKeyInfo);

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> PemAsync(string? certId, Func<string?, Task<string?>> pem)
    {
        if (certId is not null && (certId.Length != 16 || !certId.All(char.IsAsciiHexDigitLower)))
        {
            return TypedResults.Problem("certId is 16 lower-case hex digits", statusCode: StatusCodes.Status400BadRequest, title: "Bad certId");
        }
        return await pem(certId) is { } found
            ? TypedResults.Text(found, "application/x-pem-file")
            : TypedResults.Problem($"no certificate {certId} in use: it was retired, or never the platform's", statusCode: StatusCodes.Status404NotFound,
                title: "Unknown certId");
    }
}

/// <summary>What <c>/v1/platform-certificates</c> answers.</summary>
public sealed record PlatformCertificateList(IReadOnlyList<PublishedCertificate> Certificates, IReadOnlyList<PublishedPublicKey> NetPayKeys);

/// <summary>A NetPay PGID public key in use: NetPay answers carry no certId, so merchants hold every one listed.</summary>
public sealed record PublishedPublicKey(string Purpose, string KeyId, string CertId, string Status, DateTimeOffset? RetiresAt, string PublicKeyPem);
