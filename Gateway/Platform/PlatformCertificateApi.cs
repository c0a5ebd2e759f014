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
        return group;
    }
}
