using System.Diagnostics;
using System.Globalization;
using Mesh.Contracts.Settlement;

// Usage: dotnet run -c Release --project tests/Mesh.Settlement.Benchmarks -- [seconds=20] [closeTransactions=1000000]
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
var closeTransactions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
await using var platform = await BenchmarkPlatform.StartAsync<Projects.Mesh_AppHost>();
// The gateway records (its credential at settlement); an operator closes days and verifies (the dashboard's).
using var channel = await platform.App.OpenCallerChannelAsync("settlement", "gateway");
var settlement = new Settlement.SettlementClient(channel);
using var operatorChannel = await platform.App.OpenCallerChannelAsync("settlement", MeshCallers.Dashboard);
var operations = new Settlement.SettlementClient(operatorChannel);
var day = new DateOnly(2021, 3, 1);

var batched = await PostAsync("batched: 500 events per call, 4 writers", writers: 4, perCall: 500, TimeSpan.FromSeconds(seconds), day);
var single = await PostAsync("one event per call (one insert per transaction), 16 writers", writers: 16, perCall: 1, TimeSpan.FromSeconds(seconds), day);
Console.WriteLine($"ratio batched / one per transaction: {batched / single:F1}x");

// The posting runs' day closes first (dates close in order); then a day of closeTransactions purchases
// over 1,000 merchants, and its close with every merchant's files.
await operations.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" }, deadline: DateTime.UtcNow.AddMinutes(30));
var closeDay = day.AddDays(3);
var loaded = Stopwatch.StartNew();
var parts = Enumerable.Range(0, closeTransactions / 5_000).ToList();
await Parallel.ForEachAsync(parts, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (part, ct) =>
{
    var request = new RecordRequest();
    request.Events.AddRange(Enumerable.Range(0, 5_000).Select(i => Purchase($"close-{part}-{i}", (part * 5_000 + i) % 1_000, closeDay, i)));
    await settlement.RecordAsync(request, cancellationToken: ct);
    // The switch's side of the same purchases (interbank clearing): what the banks' positions are made of.
    var cleared = new RecordRequest();
    cleared.Events.AddRange(request.Events.Select(p => new LedgerEvent
    {
        TransactionId = "switch:" + p.TransactionId,
        Kind = "interbank_purchase",
        IssuerId = p.IssuerId,
        AmountMinor = p.AmountMinor,
        Currency = p.Currency,
        OccurredAtUnixMs = p.OccurredAtUnixMs,
    }));
    await settlement.RecordAsync(cleared, cancellationToken: ct);
});
Console.WriteLine($"loaded {closeTransactions:N0} transactions and their interbank clearing in {loaded.Elapsed.TotalSeconds:F1} s");
var closing = Stopwatch.StartNew();
var closed = await operations.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{closeDay:yyyy-MM-dd}" }, deadline: DateTime.UtcNow.AddMinutes(30));
Console.WriteLine($"closed {closeDay:yyyy-MM-dd}: {closed.Batches.Count:N0} batches, {closed.Batches.Sum(b => b.Transactions):N0} transactions, "
    + $"{closed.IssuerPositions.Count} bank positions, clearing difference {closed.ClearingDifferences.Sum(d => d.AmountMinor)}, files included, in {closing.Elapsed.TotalSeconds:F1} s");
var verified = await operations.VerifyAsync(new VerifyLedgerRequest(), deadline: DateTime.UtcNow.AddMinutes(10));
Console.WriteLine($"verify: ok={verified.Ok}, {verified.Entries:N0} entries, ledger sum {verified.LedgerSumMinor}");

async Task<double> PostAsync(string name, int writers, int perCall, TimeSpan duration, DateOnly date)
{
    var posted = 0L;
    var calls = 0L;
    var run = Guid.NewGuid().ToString("N")[..8];
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(async writer =>
    {
        var n = 0;
        while (stop.Elapsed < duration)
        {
            var request = new RecordRequest();
            for (var i = 0; i < perCall; i++, n++)
            {
                request.Events.Add(Purchase($"{run}-{writer}-{n}", n % 100, date, n));
            }
            var reply = await settlement.RecordAsync(request);
            Interlocked.Add(ref posted, reply.Posted);
            Interlocked.Increment(ref calls);
        }
    }));
    var rate = posted / stop.Elapsed.TotalSeconds;
    Console.WriteLine($"{name}: {posted:N0} entries ({posted * 3:N0} lines) in {stop.Elapsed.TotalSeconds:F1} s = {rate:N0} postings/s, {calls:N0} calls");
    return rate;
}

static LedgerEvent Purchase(string id, int merchant, DateOnly date, int i) => new()
{
    TransactionId = id,
    Kind = "purchase",
    Status = "paid",
    MerchantId = $"9{merchant:D14}",
    OrderId = id,
    IssuerId = i % 2 == 0 ? "01020000" : "01050000",
    AmountMinor = 1_000 + i % 50_000,
    Currency = "156",
    FeeRatePpm = 6_000,
    FeeMinimumMinor = 100,
    OccurredAtUnixMs = new DateTimeOffset(date.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero).AddMilliseconds(i).ToUnixTimeMilliseconds(),
    PanMasked = "622202******0015",
    Rrn = "000000000001",
    Stan = "000001",
};
