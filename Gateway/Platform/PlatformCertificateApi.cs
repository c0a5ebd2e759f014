using Mesh.Contracts.Hsm;
using Mesh.Gateway.Signatures;

namespace Mesh.Gateway.Platform;

public static class PlatformCertificateApi
{
    public static RouteGroupBuilder MapPlatformCertificateApi(this RouteGroupBuilder group)
    {
        group.MapGet("/platform-certificate", async (PlatformCertificate certificate, CancellationToken ct) =>
                TypedResults.Text(await certificate.PemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformCertificate")
            .WithSummary("The X.509 certificate (PEM) of the key the platform signs its answers and files with")
            .WithDescription("RSA-2048, SHA256withRSA; the private key never leaves the Hsm.")
            .WithTags("Platform");
        group.MapGet("/platform-envelope-certificate", async (PlatformCertificate certificate, CancellationToken ct) =>
                TypedResults.Text(await certificate.EnvelopePemAsync(ct), "application/x-pem-file"))
            .WithName("GetPlatformEnvelopeCertificate")
            .WithSummary("The certificate (PEM, RSA-2048, key encipherment) merchants seal their requests' content keys to (RSA-OAEP-SHA256)")
            .WithDescription("Issued by the platform's signing key; the private key never leaves the Hsm.")
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
