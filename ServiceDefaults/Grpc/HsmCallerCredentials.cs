using Mesh.ServiceDefaults.Access;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Mesh.ServiceDefaults.Grpc;

/// <summary>
/// How a service identifies itself to the Hsm: its caller name and secret on every call, from
/// <c>HsmClient:CallerName</c> and <c>HsmClient:Secret</c> (set by the AppHost). The same headers
/// as every other Mesh server's (<see cref="MeshCallerCredentials"/>).
/// </summary>
public static class HsmCallerCredentials
{
    public const string CallerHeader = MeshCallerAuthenticator.CallerHeader;

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

    public static IHttpClientBuilder WithHsmCallerCredentials(this IHttpClientBuilder client, IConfiguration configuration) =>
        client.WithCallerCredentials(configuration["HsmClient:CallerName"] ?? "", configuration["HsmClient:Secret"] ?? "");

    /// <summary>A second credential of the service at the Hsm, for one lever only: <c>HsmClient:{identity}:CallerName</c> and <c>:Secret</c>.</summary>
    public static IHttpClientBuilder WithHsmCallerCredentials(this IHttpClientBuilder client, IConfiguration configuration, string identity) =>
        client.WithCallerCredentials(configuration[$"HsmClient:{identity}:CallerName"] ?? "", configuration[$"HsmClient:{identity}:Secret"] ?? "");
}
