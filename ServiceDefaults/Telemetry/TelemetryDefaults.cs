using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Mesh.ServiceDefaults.Telemetry;

public static class TelemetryDefaults
{
    /// <summary>Every Mesh activity source and meter is named <c>Mesh.&lt;Service&gt;[.&lt;Concern&gt;]</c>.</summary>
    public const string SourcePrefix = "Mesh.*";

    public static TBuilder ConfigureMeshTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        // Npgsql and HttpClientFactory log every command and request at Information; the spans
        // already say what ran, and a line per call is most of a busy service's CPU.
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        // Polly logs every execution attempt of the resilience pipeline at Information.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(SourcePrefix)
                .AddMeter("Npgsql")
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(SourcePrefix)
                .AddSource("Npgsql")
                .AddAspNetCoreInstrumentation(options => options.Filter = IsNotHealthProbe)
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation());

        // The Aspire AppHost sets OTEL_EXPORTER_OTLP_ENDPOINT to its dashboard; without it, nothing is exported.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    private static bool IsNotHealthProbe(HttpContext context) =>
        !context.Request.Path.StartsWithSegments(Health.HealthEndpoints.HealthPath)
        && !context.Request.Path.StartsWithSegments(Health.HealthEndpoints.AlivePath)
        && !context.Request.Path.StartsWithSegments("/grpc.health.v1.Health");
}
