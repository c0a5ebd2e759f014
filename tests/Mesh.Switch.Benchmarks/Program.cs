using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Core;
using Mesh.Iso8583.Messages;

// Authorizations end to end: acquirer → gRPC → switch (MAC check, route, PIN translation, MAC)
// → TCP → issuer (MAC, PIN check, durable hold) → back. Usage: [seconds] [concurrency] [cards per bank]
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
var cardsPerBank = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
const int WarmUpSeconds = 15; // tiered JIT settles: the figures are of a service that has run a while

await using var platform = await BenchmarkPlatform.StartAsync<Projects.Mesh_AppHost>(builder =>
{
    foreach (var issuer in builder.Resources.OfType<ProjectResource>().Where(r => r.Name.StartsWith("issuer-", StringComparison.Ordinal)))
    {
        builder.CreateResourceBuilder(issuer).WithEnvironment("Bank__LoadTestCards", cardsPerBank.ToString(CultureInfo.InvariantCulture));
    }
});
var app = platform.App;
var secret = await platform.ParameterAsync("gateway-hsm-secret");
using var acquirer = Acquirer.Create(app.GetEndpoint("hsm", "grpc"), secret, app.GetEndpoint("switch", "grpc"), await app.SecretAsync("gateway", "switch"));

var cards = new[] { "622202", "621700" }
    .SelectMany(bin => Enumerable.Range(1000, cardsPerBank).Select(serial =>
    {
        var body = bin + serial.ToString(CultureInfo.InvariantCulture).PadLeft(9, '0');
        return body + Pan.LuhnCheckDigit(body);
    }))
    .ToArray();
Console.WriteLine($"{cards.Length} cards; PIN blocks made as the payment page does, once per card");
var pinBlocks = await Task.WhenAll(cards.Select(card => acquirer.PinBlockAsync("123456", card)));

// Each purchase needs its own STAN and MAC: made before the clock starts, as the gateway's own work.
var total = (seconds + WarmUpSeconds) * 4_000;
Console.WriteLine($"signing {total} purchases (acquirer-side MACs, not measured)");
var messages = new IsoMessage[total];
var start = DateTime.UtcNow;
await Parallel.ForAsync(0, total, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
    messages[i] = await acquirer.BuildPurchaseAsync(cards[i % cards.Length], "3012", pinBlocks[i % cards.Length], 1, start.AddSeconds(i / 1_000_000)));

var next = -1;
Console.WriteLine($"warm-up {WarmUpSeconds} s, then {seconds} s at {concurrency} purchases in flight");
await RunAsync(WarmUpSeconds, report: false);
await RunAsync(seconds, report: true);

async Task RunAsync(int phaseSeconds, bool report)
{
    var latencies = new List<double>[concurrency];
    var codes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
    var cpuBefore = MachineCpu.Snapshot();
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(phaseSeconds);
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
    {
        var mine = latencies[worker] = [];
        while (clock.Elapsed < until)
        {
            var index = Interlocked.Increment(ref next);
            if (index >= messages.Length)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                var answer = await acquirer.SendAsync(messages[index]);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                codes.AddOrUpdate(answer.GetString(IsoFields.ResponseCode) ?? "??", 1, (_, n) => n + 1);
            }
            catch (RpcException ex)
            {
                codes.AddOrUpdate($"gRPC {ex.StatusCode}", 1, (_, n) => n + 1);
            }
        }
    }));
    if (!report)
    {
        return;
    }
    var elapsed = clock.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    var cpu = MachineCpu.Snapshot();
    Console.WriteLine($"authorizations: {all.Length} in {elapsed:F1} s = {all.Length / elapsed:F0}/s; answers {string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key}: {c.Value}"))}");
    Console.WriteLine($"latency ms: p50 {Percentile(all, 0.50):F2}  p90 {Percentile(all, 0.90):F2}  p99 {Percentile(all, 0.99):F2}  max {all[^1]:F2}");
    Console.WriteLine($"CPU per authorization (all processes {(cpu.Values.Sum() - cpuBefore.Values.Sum()) * 1e6 / Math.Max(1, all.Length):F0} µs): "
        + MachineCpu.PerUnit(cpuBefore, cpu, all.Length));
}
return 0;

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
