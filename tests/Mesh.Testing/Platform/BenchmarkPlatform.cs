using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Testing;

/// <summary>
/// The whole platform for a load run: started through the real AppHost (PostgreSQL included) in
/// a scratch data folder, quiet, without telemetry export (no dashboard to receive it), and up
/// and idle before the clock starts. Linked into each benchmark project.
/// </summary>
public sealed class BenchmarkPlatform : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private BenchmarkPlatform(DistributedApplication app, string dataDir)
    {
        App = app;
        DataDir = dataDir;
    }

    public DistributedApplication App { get; }

    public string DataDir { get; }

    /// <summary>Starts the AppHost <typeparamref name="TAppHost"/> (the caller's <c>Projects.Mesh_AppHost</c>) without a dashboard or telemetry export.</summary>
    public static async Task<BenchmarkPlatform> StartAsync<TAppHost>(Action<IDistributedApplicationTestingBuilder>? configure = null)
        where TAppHost : class
    {
        var dataDir = Path.Combine("/var/tmp", $"mesh-bench-{Guid.NewGuid():N}");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<TAppHost>(
            [$"--Mesh:DataDir={dataDir}"], (options, _) => options.DisableDashboard = true);
        builder.Services.AddLogging(logging => logging
            .AddFilter("Mesh.AppHost.Resources", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire", LogLevel.Warning)
            .AddFilter("System.Net.Http", LogLevel.Warning));
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        }
        // A load run closes the days it loads itself, on dates of its own: no day closes behind its back.
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "settlement"))
            .WithEnvironment("Settlement__AutoClose__Enabled", "false");
        configure?.Invoke(builder);
        var app = await builder.BuildAsync();
        using var startup = new CancellationTokenSource(StartTimeout);
        await app.StartAsync(startup.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", startup.Token);
        return new BenchmarkPlatform(app, dataDir);
    }

    /// <summary>A secret parameter the AppHost generated (a service's Hsm credential, say).</summary>
    public async Task<string> ParameterAsync(string name)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        return (await model.Resources.OfType<ParameterResource>().Single(p => p.Name == name).GetValueAsync(default))!;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
