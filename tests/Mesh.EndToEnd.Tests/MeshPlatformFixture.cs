using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Mesh.EndToEnd.Tests.Otlp;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The whole platform, started once for the collection through the real AppHost: PostgreSQL from
/// the machine's binaries in a fresh data folder, every service, both issuer banks. The services
/// export their spans to an in-test OTLP receiver.
/// </summary>
public sealed class MeshPlatformFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);
    public static readonly string[] ServiceResources = ["hsm", "switch", "issuer-icbc", "issuer-ccb", "settlement", "gateway"];

    private readonly string _dataDir = Path.Combine("/var/tmp", $"mesh-e2e-{Guid.NewGuid():N}");

    public DistributedApplication App { get; private set; } = null!;

    public OtlpTraceReceiver Traces { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Traces = await OtlpTraceReceiver.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Mesh_AppHost>(
            [$"--Mesh:DataDir={_dataDir}"],
            (options, _) => options.DisableDashboard = true);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Traces.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200")
                .WithEnvironment("OTEL_SERVICE_NAME", project.Name);
        }

        App = await builder.BuildAsync();
        using var cts = new CancellationTokenSource(StartTimeout);
        await App.StartAsync(cts.Token);
        foreach (var resource in ServiceResources)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
        }
    }

    public async Task DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await App.StopAsync(cts.Token);
        await App.DisposeAsync();
        await Traces.DisposeAsync();
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class MeshPlatformCollection : ICollectionFixture<MeshPlatformFixture>
{
    public const string Name = "Mesh platform";
}
