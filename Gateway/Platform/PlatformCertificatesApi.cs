using Mesh.Contracts.Hsm;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Platform;

public static class PlatformCertificatesApi
{
    public static RouteGroupBuilder MapPlatformCertificatesApi(this RouteGroupBuilder group)
    {
        group.MapGet("/platform-certificate", async (PlatformCertificates certificates, CancellationToken ct) =>
                TypedResults.Text(await certificates.AnswersPemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformCertificate")
            .WithSummary("The X.509 certificate (PEM) of the key the platform signs its /v1 answers and notifications with (certId)")
            .WithDescription("ECDSA P-256, SHA256withECDSA; issued by the platform's issuing certificate; the private key never leaves the Hsm.")
            .WithTags("Platform");
        group.MapGet("/platform-files-certificate", async (PlatformCertificates certificates, CancellationToken ct) =>
                TypedResults.Text(await certificates.FilesPemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformFilesCertificate")
            .WithSummary("The X.509 certificate (PEM) of the key the platform signs reconciliation files with (Mesh-File-Signature)")
            .WithDescription("ECDSA P-256, SHA256withECDSA; issued by the platform's issuing certificate; the private key never leaves the Hsm.")
            .WithTags("Platform", "Reconciliation");
        group.MapGet("/platform-issuing-certificate", async (PlatformCertificates certificates, CancellationToken ct) =>
                TypedResults.Text(await certificates.IssuingPemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformIssuingCertificate")
            .WithSummary("The self-signed certificate (PEM) of the key that issues the platform's other certificates and signs nothing else")
            .WithDescription("Check that it issued the platform certificate you pinned, then that it issued the files and envelope certificates.")
            .WithTags("Platform");
        group.MapGet("/platform-envelope-certificate", async (PlatformCertificates certificates, CancellationToken ct) =>
                TypedResults.Text(await certificates.EnvelopePemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformEnvelopeCertificate")
            .WithSummary("The certificate (PEM, RSA-2048, key encipherment) merchants seal their requests' content keys to (RSA-OAEP-SHA256)")
            .WithDescription("Issued by the platform's issuing certificate; the private key never leaves the Hsm.")
            .WithTags("Platform");
        group.MapGet("/platform-netpay-key", async (Hsm.HsmClient hsm, CancellationToken ct) =>
            {
                var key = await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = NetPaySignature.KeyId }, cancellationToken: ct);
                return TypedResults.Text(System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", key.SubjectPublicKeyInfo.Span),
                    "application/x-pem-file");
            })
            .WithName("GetPlatformNetPayKey")
            .WithSummary($"The public key (PEM) of PGID {NetPaySignature.PlatformGatewayId}: it signs NetPay answers (checkvalue, RSA-1024 SHA-1)")
            .WithTags("Platform", "NetPay");
        return group;
    }
}
