using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Net.Client;
using Mesh.EndToEnd.Tests.Otlp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// Each collection starts a whole platform on the AppHost's fixed ports: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The whole platform, started once for the collection through the real AppHost: PostgreSQL from
/// the machine's binaries in a fresh data folder, every service, the issuer banks. The services
/// export their spans to an in-test OTLP receiver.
/// </summary>
public class MeshPlatformFixture : IAsyncLifetime
{
    /// <summary>
    /// How long a platform may take to start and report healthy. The replicas' platform (two gateways, two switches) starts
    /// while other tests run on the same two cores, and once took longer than 180 s on a slow hour; a start is not what is tested.
    /// </summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(300);

    /// <summary>The platform's services: a payment's trace crosses all of them.</summary>
    public static readonly string[] PlatformServices = ["hsm", "switch", "issuer-icbc", "issuer-ccb", "issuer-boc", "settlement", "gateway"];

    /// <summary>Every project resource: the platform's services and the demo shop, a merchant's app.</summary>
    public static readonly string[] ServiceResources = [.. PlatformServices, "shop"];

    private readonly string _dataDir = Path.Combine("/var/tmp", $"mesh-e2e-{Guid.NewGuid():N}");

    public DistributedApplication App { get; private set; } = null!;

    public OtlpTraceReceiver Traces { get; private set; } = null!;

    /// <summary>Every line the services wrote to stdout and stderr, by resource.</summary>
    public ConcurrentQueue<(string Resource, string Line)> Logs { get; } = new();

    public string DataDir => _dataDir;

    /// <summary>The switch's end of the banks' ISO links: its certificate and key and the scheme's CA, as the AppHost made them.</summary>
    public Mesh.Iso8583.Channel.IsoLinkTls SwitchIsoLinkTls() => Mesh.Iso8583.Channel.IsoLinkTls.Load(
        Path.Combine(_dataDir, "switch", "iso-tls.crt"), Path.Combine(_dataDir, "switch", "iso-tls.key"),
        Path.Combine(_dataDir, "iso-link-ca", "ca.crt"), TimeProvider.System);

    private readonly CancellationTokenSource _stopWatching = new();

    /// <summary>The last state of each running process, a replica's under its own name (Mesh:Replicas), with its resource's name.</summary>
    private readonly ConcurrentDictionary<string, (string Resource, CustomResourceSnapshot Snapshot)> _instances = new();

    /// <summary>Processes of the gateway and of the switch (the AppHost's Mesh:Replicas).</summary>
    public virtual int Replicas => 1;

    /// <summary>A derived platform's own AppHost arguments (its PostgreSQL topology, say).</summary>
    protected virtual string[] AppHostArguments => [];

    /// <summary>A derived platform's own settings, applied after the shared ones.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    public async Task InitializeAsync()
    {
        Traces = await OtlpTraceReceiver.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Mesh_AppHost>(
            [$"--Mesh:DataDir={_dataDir}", $"--Mesh:Replicas={Replicas}", .. AppHostArguments],
            (options, _) => options.DisableDashboard = true);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Traces.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200")
                .WithEnvironment("OTEL_SERVICE_NAME", project.Name);
        }

        // Short enough for a test to wait out: an unanswered purchase is reversed after 2 s.
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "switch"))
            .WithEnvironment("Switch__AuthorizationTimeoutMs", "2000")
            .WithEnvironment("Switch__ReversalPollMs", "200");

        // The ledger takes the switch's authorizations in once they are 3 s old (past its 2 s timeout).
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "settlement"))
            .WithEnvironment("Settlement__InterbankSettleAfterMs", "3000")
            .WithEnvironment("Settlement__InterbankPollMs", "250")
            // The tests close their own past dates in order, explicitly: a day closed by itself (yesterday, with the live
            // payments' entries after it) would send their entries to the first open date. AutoDayCloseTests drive its rounds.
            .WithEnvironment("Settlement__AutoClose__Enabled", "false");

        // Unknown outcomes are looked up with the switch soon after they happen.
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "gateway"))
            .WithEnvironment("Gateway__ResolveAfterMs", "4000")
            .WithEnvironment("Gateway__ResolvePollMs", "200")
            // Holds past their expiry (a test moves it into the past) are released within a fraction of a second.
            .WithEnvironment("Gateway__HoldExpiryPollMs", "200")
            // Notifications: a short schedule (1 s, 1 s, 2 s, then give up) and a short timeout.
            .WithEnvironment("Notifications__ScheduleSeconds__0", "1")
            .WithEnvironment("Notifications__ScheduleSeconds__1", "1")
            .WithEnvironment("Notifications__ScheduleSeconds__2", "2")
            .WithEnvironment("Notifications__TimeoutMs", "1500")
            .WithEnvironment("Notifications__PollMs", "200");

        Configure(builder);
        App = await builder.BuildAsync();
        _ = WatchInstancesAsync();
        using var cts = new CancellationTokenSource(StartTimeout);
        try
        {
            await App.StartAsync(cts.Token);
            // Watched once started: a watch begun before the start follows no process's lines.
            var logs = App.Services.GetRequiredService<ResourceLoggerService>();
            var model = App.Services.GetRequiredService<DistributedApplicationModel>();
            foreach (var resource in model.Resources.Where(r => r is ProjectResource or ExecutableResource || ServiceResources.Contains(r.Name)))
            {
                _ = WatchLogsAsync(logs, resource);
            }
            foreach (var resource in ServiceResources)
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException(StartReport());
        }
    }

    /// <summary>Why a start took too long: each resource's state and health, and the last lines of those not healthy.</summary>
    private string StartReport()
    {
        const int LinesPerResource = 15;
        var report = new System.Text.StringBuilder($"the platform was not healthy within {StartTimeout.TotalSeconds:F0} s:");
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var name in model.Resources.Where(r => r is ProjectResource or ExecutableResource || r.Name == "postgres").Select(r => r.Name))
        {
            var healthy = App.ResourceNotifications.TryGetCurrentState(name, out var state) && state.Snapshot.HealthStatus == HealthStatus.Healthy;
            report.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"\n{name}: {state?.Snapshot.State?.Text ?? "no state"}, {state?.Snapshot.HealthStatus?.ToString() ?? "no health"}");
            if (!healthy)
            {
                foreach (var (_, line) in Logs.Where(l => l.Resource == name).TakeLast(LinesPerResource))
                {
                    report.Append("\n    ").Append(line);
                }
            }
        }
        // A replicated resource has no state of its own: each replica's, and its last lines when it is not healthy.
        var replicated = _instances.GroupBy(i => i.Value.Resource).Where(g => g.Count() > 1).SelectMany(g => g).OrderBy(i => i.Key, StringComparer.Ordinal);
        foreach (var (replica, (resource, snapshot)) in replicated)
        {
            report.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"\n{replica} ({resource}): {snapshot.State?.Text ?? "no state"}, {snapshot.HealthStatus?.ToString() ?? "no health"}");
            if (snapshot.HealthStatus != HealthStatus.Healthy)
            {
                foreach (var (_, line) in Logs.Where(l => l.Resource == replica).TakeLast(LinesPerResource))
                {
                    report.Append("\n    ").Append(line);
                }
            }
        }
        return report.ToString();
    }

    /// <summary>Follows every process's state as it changes, and the lines of each replica of a replicated resource from its first state on.</summary>
    private async Task WatchInstancesAsync()
    {
        try
        {
            var logs = App.Services.GetRequiredService<ResourceLoggerService>();
            await foreach (var change in App.ResourceNotifications.WatchAsync(_stopWatching.Token))
            {
                if (_instances.TryGetValue(change.ResourceId, out _) is false && change.ResourceId != change.Resource.Name)
                {
                    _ = WatchReplicaLogsAsync(logs, change.ResourceId);
                }
                _instances[change.ResourceId] = (change.Resource.Name, change.Snapshot);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Task WatchReplicaLogsAsync(ResourceLoggerService logs, string replica) => FollowAsync(logs.WatchAsync(replica), replica);

    /// <summary>An acquirer (the gateway's identity at the Hsm and at the switch) talking to this platform's Hsm and switch.</summary>
    public async Task<Acquirer> NewAcquirerAsync() =>
        Acquirer.Create(App.GetEndpoint("hsm", "grpc"), await ParameterAsync("gateway-hsm-secret"),
            App.GetEndpoint("switch", "grpc"), await App.SecretAsync("gateway", "switch"));

    /// <summary>
    /// A gRPC channel to <paramref name="server"/> (<c>switch</c>, <c>settlement</c>) with
    /// <paramref name="caller"/>'s credential there: <c>gateway</c> (acquirer at the switch, gateway at
    /// settlement), <c>gateway-operator</c>, <c>settlement</c>, or <see cref="MeshCallers.Dashboard"/> (an operator).
    /// </summary>
    public Task<GrpcChannel> ChannelAsync(string server, string caller) => App.OpenCallerChannelAsync(server, caller);

    /// <summary>
    /// Settlement as the ledger tests drive it: events recorded as the gateway records them (<c>Record</c>,
    /// with the gateway's credential), everything else as an operator (the dashboard's credential).
    /// </summary>
    public async Task<GrpcChannel> SettlementChannelAsync()
    {
        var gateway = ("gateway", await App.SecretAsync("gateway", "settlement"));
        var operations = (MeshCallers.Dashboard, await App.SecretAsync(MeshCallers.Dashboard, "settlement"));
        return MeshCallerChannels.Open(App.GetEndpoint("settlement", "grpc"), method => method == "Record" ? gateway : operations);
    }

    /// <summary>An HttpClient for <paramref name="server"/>'s http endpoint (its /admin routes) with <paramref name="caller"/>'s credential there.</summary>
    public Task<HttpClient> HttpClientAsync(string server, string caller = MeshCallers.Dashboard) => App.CreateCallerHttpClientAsync(server, caller);

    /// <summary>A secret parameter the AppHost generated (service credentials for the Hsm, say).</summary>
    public async Task<string> ParameterAsync(string name)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameter = model.Resources.OfType<ParameterResource>().Single(p => p.Name == name);
        return (await parameter.GetValueAsync(CancellationToken.None))!;
    }

    /// <summary>One value from a service's database, as an auditor would look (parameters $1, $2, …).</summary>
    public async Task<T> ScalarAsync<T>(string database, string sql, params object[] values)
    {
        await using var db = new Npgsql.NpgsqlConnection(await App.GetConnectionStringAsync(database));
        await db.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, db);
        foreach (var value in values)
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = value });
        }
        return await command.ExecuteScalarAsync() is { } scalar and not DBNull ? (T)scalar : default!;
    }

    private Task WatchLogsAsync(ResourceLoggerService logs, IResource resource) => FollowAsync(logs.WatchAsync(resource), resource.Name);

    /// <summary>Keeps each line of <paramref name="lines"/> in <see cref="Logs"/> under <paramref name="name"/> until the fixture stops.</summary>
    private async Task FollowAsync(IAsyncEnumerable<IReadOnlyList<LogLine>> lines, string name)
    {
        try
        {
            await foreach (var batch in lines.WithCancellation(_stopWatching.Token))
            {
                foreach (var line in batch)
                {
                    Logs.Enqueue((name, line.Content));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task DisposeAsync()
    {
        await _stopWatching.CancelAsync();
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

/// <summary>The platform with two gateways and two switches behind the AppHost's proxies.</summary>
public sealed class ReplicatedPlatformFixture : MeshPlatformFixture
{
    public override int Replicas => 2;
}

[CollectionDefinition(Name)]
public sealed class ReplicatedPlatformCollection : ICollectionFixture<ReplicatedPlatformFixture>
{
    public const string Name = "Mesh platform, two replicas";
}

/// <summary>
/// The platform the crash campaign kills processes of: its own, so no other test sees the faults,
/// with a notification schedule long enough (1 s, 1 s, 2 s, then doubling to a minute) that a
/// merchant is still being tried when every process is back.
/// </summary>
public sealed class CrashPlatformFixture : MeshPlatformFixture
{
    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        var gateway = builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "gateway"));
        int[] later = [4, 8, 15, 30, 60, 60, 60];
        for (var i = 0; i < later.Length; i++)
        {
            gateway.WithEnvironment($"Notifications__ScheduleSeconds__{i + 3}", later[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CrashPlatformCollection : ICollectionFixture<CrashPlatformFixture>
{
    public const string Name = "Mesh platform, crash campaign";
}

/// <summary>The platform with its services' databases behind PgBouncer in transaction pooling mode.</summary>
public sealed class PooledPlatformFixture : MeshPlatformFixture
{
    protected override string[] AppHostArguments => ["--Mesh:Postgres:Pooler=pgbouncer"];
}

[CollectionDefinition(Name)]
public sealed class PooledPlatformCollection : ICollectionFixture<PooledPlatformFixture>
{
    public const string Name = "Mesh platform, through PgBouncer";
}

/// <summary>
/// The platform on the highly available PostgreSQL (<c>Mesh:Postgres=ha</c>): etcd and two Patroni nodes with
/// synchronous replication, the services following the primary. Its own, so no other test sees a failover.
/// </summary>
public sealed class HaPlatformFixture : MeshPlatformFixture
{
    protected override string[] AppHostArguments => ["--Mesh:Postgres=ha"];

    /// <summary>Patroni's own account of each HA loop (its INFO lines), so that a failed test can tell what the cluster did.</summary>
    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var node in builder.Resources.OfType<ExecutableResource>().Where(r => r.Name.StartsWith("postgres-", StringComparison.Ordinal) && r.Name != "postgres-etcd"))
        {
            builder.CreateResourceBuilder(node).WithEnvironment("PATRONI_LOG_LEVEL", "INFO");
        }
    }

    /// <summary>The last of what <paramref name="nodes"/> logged that tells a story (Patroni's decisions, PostgreSQL's warnings and errors), without the loop's "no action" lines.</summary>
    public string PatroniStory(IEnumerable<string> nodes, int linesPerNode = 40)
    {
        var story = new System.Text.StringBuilder();
        foreach (var node in nodes)
        {
            story.Append("\n--- ").Append(node);
            foreach (var (_, line) in Logs.Where(l => l.Resource == node && !l.Line.Contains("no action", StringComparison.Ordinal)
                && !l.Line.Contains("Lock owner", StringComparison.Ordinal) && !l.Line.Contains("checkpoint", StringComparison.Ordinal)).TakeLast(linesPerNode))
            {
                story.Append("\n").Append(line);
            }
        }
        return story.ToString();
    }
}

[CollectionDefinition(Name)]
public sealed class HaPlatformCollection : ICollectionFixture<HaPlatformFixture>
{
    public const string Name = "Mesh platform, highly available PostgreSQL";
}

/// <summary>
/// The platform whose own keys the rotation tests rotate, with two gateways (each takes up a rotation by
/// itself): its own, so that no other test meets a certificate it did not expect.
/// </summary>
public sealed class KeyRotationPlatformFixture : MeshPlatformFixture
{
    public override int Replicas => 2;
}

[CollectionDefinition(Name)]
public sealed class KeyRotationPlatformCollection : ICollectionFixture<KeyRotationPlatformFixture>
{
    public const string Name = "Mesh platform, its own keys rotated";
}
