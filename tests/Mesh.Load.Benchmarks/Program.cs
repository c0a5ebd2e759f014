using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Mesh.Load;
using Mesh.NetPay.Api;
using Mesh.NetPay.Signing;
using Microsoft.Extensions.DependencyInjection;

// End-to-end purchases against the whole platform on this machine, and the machine's own limit
// (pgbench TPC-B on the same PostgreSQL) in the same run. Usage:
//   closed [concurrency] [seconds]        N payers, each starting again when done (64, 180 s)
//   open [rate] [seconds]                 a fixed arrival rate (500/s, 180 s)
//   sweep [rate,rate,...] [seconds each]  open loop at rising rates up to the knee, and a chart (SVG)
//   crash [seed] [faults] [payers]        the crash and fault campaign under load (tests/CrashCampaign.cs), then the invariants
//                                         (seed 522327, CI's, unless given; 30 faults, 8 payers)
// Options by environment: LOAD_WARMUP_SECONDS (60: tiered JIT settles in about a minute under load), LOAD_CARDS per bank (500), LOAD_MIX "queries,refunds,credit,holds,voids" percent (5,5,3,3,1),
// LOAD_CHART path of the sweep's SVG (docs/performance-latency.svg).
// The closed and open windows hold a CHECKPOINT at their middle, as hours of running would; the
// durability check compares, order by order, what the generator saw paid with every store.
var mode = args.ElementAtOrDefault(0) ?? "closed";
var warmupSeconds = Env("LOAD_WARMUP_SECONDS", 60);
var cardsPerBank = Env("LOAD_CARDS", 500);
var mixGiven = (Environment.GetEnvironmentVariable("LOAD_MIX") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
var mix = new[] { 5, 5, 3, 3, 1 }.Select((byDefault, i) => i < mixGiven.Length ? mixGiven[i] : byDefault).ToArray();

await using var platform = await BenchmarkPlatform.StartAsync<Projects.Mesh_AppHost>(builder =>
{
    foreach (var issuer in builder.Resources.OfType<ProjectResource>().Where(r => r.Name.StartsWith("issuer-", StringComparison.Ordinal)))
    {
        builder.CreateResourceBuilder(issuer).WithEnvironment("Bank__LoadTestCards", cardsPerBank.ToString(CultureInfo.InvariantCulture));
    }
    if (mode == "crash")
    {
        CrashSettings.Apply(builder);
    }
});
var app = platform.App;
var gateway = app.GetEndpoint("gateway", "http");
// The services' logs, whole, in LOAD_LOGS (a folder) when it is set: one file per resource.
var resourceLogs = app.Services.GetRequiredService<ResourceLoggerService>();
if (Environment.GetEnvironmentVariable("LOAD_LOGS") is { Length: > 0 } logFolder)
{
    Directory.CreateDirectory(logFolder);
    foreach (var resource in app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithEnvironment>())
    {
        _ = Task.Run(async () =>
        {
            await using var file = File.CreateText(Path.Combine(logFolder, resource.Name + ".log"));
            await foreach (var batch in resourceLogs.WatchAsync(resource))
            {
                foreach (var line in batch)
                {
                    await file.WriteLineAsync(line.Content);
                }
                await file.FlushAsync();
            }
        });
    }
}
var processCpu = ProcessCpu.Watch(app);
var merchantKeys = await Merchants.OnboardAsync(platform, gateway, count: 8);
await using var merchantBackend = await MerchantBackend.StartAsync(merchantKeys[0]);
var sharedHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
var merchants = merchantKeys.Select(options => new NetPayClient(options, sharedHttp)).ToList();
var cards = new[] { "622202", "621700" }.SelectMany(bin => Enumerable.Range(1000, cardsPerBank).Select(serial =>
{
    var body = bin + serial.ToString(CultureInfo.InvariantCulture).PadLeft(9, '0');
    return body + Mesh.Iso8583.Messages.Pan.LuhnCheckDigit(body);
})).ToArray();
var work = new Purchases(merchants, merchantBackend.NotifyUrl, app.GetEndpoint("gateway", "https"), cards, mix[0], mix[1],
    await CreditShare.ReadAsync(app, percent: mix[2]), holdPercent: mix[3], voidPercent: mix[4]);

Console.WriteLine($"Mesh end-to-end load: {Environment.ProcessorCount} cores, {cards.Length} cards, {merchants.Count} merchants, mix {mix[0]}% queries {mix[1]}% refunds, {mix[2]}% of purchases by credit card, {mix[3]}% pre-authorized and captured, {mix[4]}% voided once paid");
var idleBefore = MachineCpu.Snapshot();
await Task.Delay(TimeSpan.FromSeconds(10));
Console.WriteLine($"idle for 10 s, CPU per second: {MachineCpu.PerUnit(idleBefore, MachineCpu.Snapshot(), 10, top: 6)} (just started: mostly the JIT tiering up; settled idle is in docs/operations.md)");
Console.WriteLine($"warm-up {warmupSeconds} s");
await LoadRun.ClosedAsync(work, 32, warmupSeconds, "warm-up");
Console.Error.WriteLine();

var report = new Report();
switch (mode)
{
    case "closed":
        {
            var concurrency = int.Parse(args.ElementAtOrDefault(1) ?? "64", CultureInfo.InvariantCulture);
            var seconds = int.Parse(args.ElementAtOrDefault(2) ?? "180", CultureInfo.InvariantCulture);
            var cpu = processCpu.Now();
            var databases = await DatabaseCounters.SnapshotAsync(platform);
            var wal = await DatabaseCounters.WalAsync(platform);
            var updates = await DatabaseCounters.GatewayUpdatesAsync(platform);
            var services = await ServiceCounters.SnapshotAsync(platform);
            await DatabaseCounters.ResetStatementsAsync(platform);
            var (recorder, elapsed, checkpoints) = await WithCheckpointAsync(seconds, () => LoadRun.ClosedAsync(work, concurrency, seconds, $"closed loop, {concurrency} payers"));
            Console.Error.WriteLine();
            report.Phase($"closed loop, {concurrency} payers, {seconds} s", recorder, elapsed, cpu, processCpu.Now());
            Console.WriteLine(checkpoints);
            Console.WriteLine($"PostgreSQL per purchase: {DatabaseCounters.PerPurchase(databases, await DatabaseCounters.SnapshotAsync(platform), recorder.Completed)}");
            Console.WriteLine(DatabaseCounters.PerPurchase(wal, await DatabaseCounters.WalAsync(platform), recorder.Completed));
            Console.WriteLine(DatabaseCounters.PerPurchase(updates, await DatabaseCounters.GatewayUpdatesAsync(platform), recorder.Completed));
            Console.Write(await DatabaseCounters.TopStatementsAsync(platform, recorder.Completed));
            Console.Write(ServiceCounters.PerPurchase(services, await ServiceCounters.SnapshotAsync(platform), recorder.Completed));
            await report.PgBenchAsync(platform, concurrency, recorder.Completed / elapsed.TotalSeconds);
            break;
        }
    case "open":
        {
            var rate = double.Parse(args.ElementAtOrDefault(1) ?? "500", CultureInfo.InvariantCulture);
            var seconds = int.Parse(args.ElementAtOrDefault(2) ?? "180", CultureInfo.InvariantCulture);
            var cpu = processCpu.Now();
            var (recorder, elapsed, checkpoints) = await WithCheckpointAsync(seconds, () => LoadRun.OpenAsync(work, rate, seconds, $"open loop, {rate}/s"));
            Console.Error.WriteLine();
            report.Phase($"open loop, {rate}/s offered, {seconds} s", recorder, elapsed, cpu, processCpu.Now());
            Console.WriteLine(checkpoints);
            await report.PgBenchAsync(platform, 64, recorder.Completed / elapsed.TotalSeconds);
            break;
        }
    case "sweep":
        {
            var rates = (args.ElementAtOrDefault(1) ?? "50,100,150,200,250,300,350,400,500,600").Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture));
            var seconds = int.Parse(args.ElementAtOrDefault(2) ?? "20", CultureInfo.InvariantCulture);
            var points = new List<Report.SweepPoint>();
            foreach (var rate in rates)
            {
                var cpu = processCpu.Now();
                var (recorder, elapsed) = await LoadRun.OpenAsync(work, rate, seconds, $"open loop, {rate}/s");
                Console.Error.WriteLine();
                var point = report.Phase($"open loop, {rate}/s offered, {seconds} s", recorder, elapsed, cpu, processCpu.Now());
                points.Add(point with { OfferedPerSecond = rate });
                if (point.P99Ms > 2_000 || recorder.Failed > recorder.Completed / 100)
                {
                    Console.WriteLine($"past the knee at {rate}/s: stopping the sweep");
                    break;
                }
            }
            var chart = Environment.GetEnvironmentVariable("LOAD_CHART") ?? Path.Combine(Report.RepositoryRoot(), "docs", "performance-latency.svg");
            await File.WriteAllTextAsync(chart, Report.Chart(points));
            Console.WriteLine($"chart: {chart}");
            await report.PgBenchAsync(platform, 64, points.Max(p => p.AchievedPerSecond));
            break;
        }
    case "crash":
        {
            // Without a seed, CI's (CrashCampaignTests'): a run repeats the last unless it names another.
            var seed = args.ElementAtOrDefault(1) is { } given ? int.Parse(given, CultureInfo.InvariantCulture) : Mesh.Testing.CrashCampaign.FixedSeed;
            var faults = int.Parse(args.ElementAtOrDefault(2) ?? "30", CultureInfo.InvariantCulture);
            var payers = int.Parse(args.ElementAtOrDefault(3) ?? "8", CultureInfo.InvariantCulture);
            var campaign = new Mesh.Testing.CrashCampaign(app,
                new Mesh.Testing.CrashCampaignOptions(seed, faults, payers, merchants.Select(m => m.MerchantId).ToArray(), TimeSpan.FromMinutes(10),
                    CrashSettings.AuthorizationTimeoutMs),
                async n =>
                {
                    var one = new Recorder();
                    await work.RunOneAsync(one, System.Diagnostics.Stopwatch.GetTimestamp());
                    return one.Errors.Keys.FirstOrDefault() ?? (one.Completed > 0 ? "paid" : "query or refund answered");
                },
                line => Console.WriteLine(line));
            Console.WriteLine($"crash campaign: seed {seed}, {faults} faults, {payers} payers (rerun: crash {seed} {faults} {payers})");
            var result = await campaign.RunAsync(CancellationToken.None);
            Console.WriteLine(result.ToTable());
            Console.WriteLine($"notifications verified by the merchants' SDK endpoint: {merchantBackend.Told}");
            return result.Passed ? 0 : 2;
        }
    default:
        Console.Error.WriteLine("usage: closed [concurrency] [seconds] | open [rate] [seconds] | sweep [rates] [seconds each] | crash [seed] [faults] [payers]");
        return 1;
}
return await Durability.CheckAsync(platform, merchants.Select(m => m.MerchantId).ToArray(), work, () => merchantBackend.Told) ? 0 : 2;

// The load's window with a CHECKPOINT at its middle, and what pg_stat_bgwriter counted in it.
async Task<(Recorder Recorder, TimeSpan Elapsed, string Checkpoints)> WithCheckpointAsync(int seconds, Func<Task<(Recorder, TimeSpan)>> load)
{
    var before = await DatabaseCounters.CheckpointsAsync(platform);
    var middle = TimeSpan.FromSeconds(seconds / 2.0);
    var checkpoint = DatabaseCounters.CheckpointAfterAsync(platform, middle);
    var (recorder, elapsed) = await load();
    var took = await checkpoint;
    return (recorder, elapsed, DatabaseCounters.InWindow(before, await DatabaseCounters.CheckpointsAsync(platform), middle, took));
}

static int Env(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;

/// <summary>
/// The crash campaign's timings: the switch's timeout and the gateway's look-ups short enough for
/// the queues to drain in minutes, and a notification schedule long enough (1 s doubling to 5 min)
/// that a merchant is still being tried when every process is back.
/// </summary>
internal static class CrashSettings
{
    public const int AuthorizationTimeoutMs = 2_000;

    public static void Apply(IDistributedApplicationTestingBuilder builder)
    {
        var projects = builder.Resources.OfType<ProjectResource>().ToDictionary(r => r.Name);
        builder.CreateResourceBuilder(projects["switch"])
            .WithEnvironment("Switch__AuthorizationTimeoutMs", AuthorizationTimeoutMs.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("Switch__ReversalPollMs", "200");
        var gateway = builder.CreateResourceBuilder(projects["gateway"])
            .WithEnvironment("Gateway__ResolveAfterMs", "4000")
            .WithEnvironment("Gateway__ResolvePollMs", "500")
            .WithEnvironment("Notifications__PollMs", "200");
        int[] schedule = [1, 2, 4, 8, 15, 30, 60, 120, 300, 300, 300];
        for (var i = 0; i < schedule.Length; i++)
        {
            gateway.WithEnvironment($"Notifications__ScheduleSeconds__{i}", schedule[i].ToString(CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>The load's merchants: ECDSA P-256 keys (cheap to sign with, as a busy merchant would choose), onboarded through the admin API, each with its SDK client.</summary>
internal static class Merchants
{
    public static async Task<IReadOnlyList<NetPayClientOptions>> OnboardAsync(BenchmarkPlatform platform, Uri gateway, int count)
    {
        using var admin = new HttpClient { BaseAddress = gateway };
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        var merchants = new List<NetPayClientOptions>();
        for (var i = 0; i < count; i++)
        {
            var key = MerchantKey.CreateEcdsaP256();
            var merchantId = $"70000000000{i:D4}";
            using var created = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(admin, "/admin/merchants", new
            {
                merchantId,
                name = $"Load merchant {i}",
                publicKeyPem = key.ExportPublicKeyPem(),
                notificationMode = "deferred",
                notificationProtocol = "plain",
                feeRatePpm = 6_000,
                feeMinimumMinor = 1,
                settlementAccount = "1202020209000012345",
            });
            created.EnsureSuccessStatusCode();
            merchants.Add(new NetPayClientOptions { GatewayUrl = gateway, MerchantId = merchantId, Key = key });
        }
        return merchants;
    }
}
