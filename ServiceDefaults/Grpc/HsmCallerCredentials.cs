using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Mesh.ServiceDefaults.Grpc;

/// <summary>
/// How a service identifies itself to the Hsm: its caller name and secret on every call, from
/// <c>HsmClient:CallerName</c> and <c>HsmClient:Secret</c> (set by the AppHost).
/// </summary>
public static class HsmCallerCredentials
{
    public const string CallerHeader = "x-mesh-caller";

    /// <summary>
    /// A gRPC client of another Mesh service: no resilience pipeline (a payment call is never
    /// retried by a handler; deadlines and idempotency keys bound it), so each call costs a
    /// little CPU instead of a lot.
    /// </summary>
    public static IHttpClientBuilder AsMeshGrpcClient(this IHttpClientBuilder client) =>
        client.ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                for (var i = handlers.Count - 1; i >= 0; i--)
                {
                    if (handlers[i] is ResilienceHandler)
                    {
                        handlers.RemoveAt(i);
                    }
                }
            })
            .AddInterceptor(services => new DefaultDeadline(services.GetService<TimeProvider>() ?? TimeProvider.System));

    public static IHttpClientBuilder WithHsmCallerCredentials(this IHttpClientBuilder client, IConfiguration configuration)
    {
        var name = configuration["HsmClient:CallerName"] ?? "";
        var secret = configuration["HsmClient:Secret"] ?? "";
        return client
            .AsMeshGrpcClient()
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
