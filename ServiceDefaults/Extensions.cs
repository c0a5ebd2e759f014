using Mesh.ServiceDefaults.Health;
using Mesh.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every Mesh service gets: OpenTelemetry to the Aspire dashboard, health endpoints,
/// service discovery and HttpClient resilience that never retries a payment.
/// </summary>
public static class MeshServiceDefaults
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureMeshTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddSingleton(TimeProvider.System);
        // A body that does not bind (malformed JSON, a string for a number) is the client's error:
        // a 400, never an exception turned into a 500, in every service and environment.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = false);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Retries only for safe methods; gRPC clients inside the mesh drop the pipeline
            // altogether (AsMeshGrpcClient). The per-request logging handlers go: spans say the same.
            http.AddStandardResilienceHandler(options => options.Retry.DisableForUnsafeHttpMethods());
            http.AddServiceDiscovery();
            http.RemoveAllLoggers();
        });
        return builder;
    }

    /// <summary>gRPC server with the gRPC health protocol, fed by the ASP.NET Core health checks.</summary>
    public static TBuilder AddGrpcServerDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddGrpc(options => options.EnableDetailedErrors = builder.Environment.IsDevelopment());
        builder.Services.AddGrpcHealthChecks();
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapMeshHealthEndpoints();
        app.MapMeshMetrics();
        return app;
    }

    public static WebApplication MapGrpcServerDefaults(this WebApplication app)
    {
        app.MapGrpcHealthChecksService();
        return app;
    }
}
