using System.Diagnostics;
using System.Diagnostics.Metrics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using BenchmarkDotNet.Attributes;
using Mesh.Contracts.Settlement;
using Mesh.ServiceDefaults.Database;
using Mesh.Settlement.Ledger;
using Mesh.Settlement.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Mesh.Benchmarks.Ledger;

/// <summary>
/// The ledger's posting of a batch of purchases: one transaction that skips duplicates, opens
/// accounts, writes every entry and its lines, and moves the cached balances, durable on the
/// platform's own PostgreSQL (started through the AppHost, fsync on). The settlement service
/// posts what the gateway's outbox hands it this way, a batch per call. The clock starts once
/// every service is up and <see cref="WarmUpSeconds"/> of postings have run: a platform just
/// started is still compiling and migrating on the same cores.
/// </summary>
[MemoryDiagnoser]
public class LedgerPostingBenchmarks
{
    private const string Currency = "CNY";
    private const int WarmUpSeconds = 20;
    private BenchmarkPlatform _platform = null!;
    private NpgsqlDataSource _db = null!;
    private ServiceProvider _services = null!;
    private LedgerWriter _writer = null!;
    private string _run = null!;
    private long _next;

    /// <summary>Purchases posted in one transaction.</summary>
    [Params(1, 100)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _platform = await BenchmarkPlatform.StartAsync<Projects.Mesh_AppHost>();
        foreach (var project in _platform.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            await _platform.App.ResourceNotifications.WaitForResourceHealthyAsync(project.Name);
        }
        var builder = new NpgsqlDataSourceBuilder(await _platform.App.GetConnectionStringAsync("settlementdb"));
        // The database plans the ledger's statements for their values (settlement's migration 0008).
        MeshDatabase.Prepared(builder.ConnectionStringBuilder);
        _db = builder.Build();
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _writer = new LedgerWriter(_db, SettlementCalendar.From(new SettlementOptions()), new LedgerMetrics(_services.GetRequiredService<IMeterFactory>()),
            TimeProvider.System);
        _run = Guid.NewGuid().ToString("N")[..8];
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(WarmUpSeconds))
        {
            var reply = await PostBatch();
            if (reply.Posted != BatchSize)
            {
                throw new InvalidOperationException($"posted {reply.Posted} of {BatchSize}");
            }
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _db.DisposeAsync();
        await _services.DisposeAsync();
        await _platform.DisposeAsync();
    }

    /// <summary>A batch of new purchases (each a three-line entry: clearing, the merchant's payable, fee income), posted and committed.</summary>
    [Benchmark]
    public Task<RecordReply> PostBatch()
    {
        var events = new LedgerEvent[BatchSize];
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < events.Length; i++)
        {
            var n = Interlocked.Increment(ref _next);
            events[i] = new LedgerEvent
            {
                TransactionId = $"bench-{_run}-{n}",
                Kind = LedgerWriter.Purchase,
                Status = "paid",
                MerchantId = $"80808000000{n % 100:D4}",
                OrderId = $"{_run}{n:D12}",
                IssuerId = "01020000",
                AmountMinor = 12_345,
                Currency = Currency,
                FeeRatePpm = 6_000,
                FeeMinimumMinor = 1,
                OccurredAtUnixMs = now,
                PanMasked = "622202******0128",
                Rrn = $"{n % 1_000_000_000_000:D12}",
                Stan = $"{n % 1_000_000:D6}",
            };
        }
        return _writer.RecordAsync(events, default);
    }
}
