using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.ServiceDefaults.Grpc;

/// <summary>
/// How a service identifies itself to the Hsm: its caller name and secret on every call, from
/// <c>HsmClient:CallerName</c> and <c>HsmClient:Secret</c> (set by the AppHost).
/// </summary>
public static class HsmCallerCredentials
{
    public const string CallerHeader = "x-mesh-caller";

    public static IHttpClientBuilder WithHsmCallerCredentials(this IHttpClientBuilder client, IConfiguration configuration)
    {
        var name = configuration["HsmClient:CallerName"] ?? "";
        var secret = configuration["HsmClient:Secret"] ?? "";
        return client
            .AddCallCredentials((_, metadata) =>
            {
                metadata.Add(CallerHeader, name);
                metadata.Add("authorization", $"Bearer {secret}");
                return Task.CompletedTask;
            })
            // Inside the mesh gRPC is plain HTTP/2; the secret travels on loopback or the private network.
            .ConfigureChannel(options => options.UnsafeUseInsecureChannelCallCredentials = true);
    }
}
