extern alias SettlementService;
using System.Diagnostics.Metrics;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SettlementService::Mesh.Settlement.Clearing;
using SettlementService::Mesh.Settlement.Ledger;
using SettlementService::Mesh.Settlement.Metrics;
using SettlementService::Mesh.Settlement.Payouts;
using SettlementService::Mesh.Settlement.Reconciliation;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The auto-closer as two replicas run it, against the platform's own ledger and switch: the
/// platform's own auto-closer is off in the tests (they close their past dates explicitly), so
/// these rounds run in the test process, each replica with its own objects, at a moment the test
/// chooses (a fake clock half an hour past the day's cut-off).
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class AutoDayCloseTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task TwoReplicas_RoundsAtTheSameMoment_CloseTheDueDayExactlyOnce_WithItsPaymentFile_AndThenNothingIsDue()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var merchant = "3" + System.Security.Cryptography.RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture)
            + "000000";
        var sale = new SettlementLedgerTests.Purchase(0, merchant, 25_000, new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero));
        var e = SettlementLedgerTests.Event($"auto-{merchant}", "purchase", "paid", sale, sale.Amount, sale.At);
        e.PayoutAccount = "6222" + merchant[1..13];
        await settlement.RecordAsync(new RecordRequest { Events = { e } });
        var calendar = SettlementCalendar.From(new SettlementOptions());
        var time = new FakeTimeProvider((calendar.EndOf(day) + TimeSpan.FromMinutes(30)).ToUniversalTime());
        await using var db = NpgsqlDataSource.Create((await platform.App.GetConnectionStringAsync("settlementdb"))!);
        using var switchChannel = await platform.ChannelAsync("switch", "settlement");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var outcomes = new List<string>();
        var log = new RecordingLogger();
        using var listener = Listen(outcomes);
        AutoDayClose Replica()
        {
            var metrics = new LedgerMetrics(services.GetRequiredService<IMeterFactory>());
            var settlementOptions = MsOptions.Create(new SettlementOptions { InterbankSettleAfterMs = 3_000 });
            var writer = new LedgerWriter(db, calendar, metrics, time);
            var interbank = new InterbankIntake(db, writer, new Contracts.Switch.CardSwitch.CardSwitchClient(switchChannel), settlementOptions, time,
                NullLogger<InterbankIntake>.Instance);
            var payouts = new PayoutInstructions(db, writer, MsOptions.Create(new PayoutOptions()), metrics, time, NullLogger<PayoutInstructions>.Instance);
            var days = new DayClose(db, writer, new ReconciliationFiles(db, time), interbank, payouts, calendar, time, NullLogger<DayClose>.Instance);
            return new AutoDayClose(db, days, calendar, MsOptions.Create(new AutoCloseOptions()), metrics, time, log);
        }
        var (first, second) = (Replica(), Replica());

        var notYet = await first.NextAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(1));
        var rounds = await Task.WhenAll(first.RoundAsync(CancellationToken.None), second.RoundAsync(CancellationToken.None));
        var after = await first.RoundAsync(CancellationToken.None);

        Assert.Equal(day, notYet.Date);
        Assert.Equal(time.GetUtcNow().AddMinutes(-1), notYet.DueAt);
        // One replica closed the day; the other found it closed, or found nothing due once it was.
        lock (outcomes)
        {
            Assert.True(outcomes.Count(o => o == "closed") == 1, $"{string.Join(", ", outcomes)}\n{string.Join("\n", log.Lines)}");
            Assert.DoesNotContain(outcomes, o => o is "refused" or "failed");
        }
        Assert.Equal(1L, await platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM settlement_days WHERE settlement_date = $1", day));
        var batch = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = $"{day:yyyy-MM-dd}", MerchantId = merchant })).Batches.Single();
        Assert.Equal(("sent", 25_000L - 150), (batch.FundStatus, batch.NetPayableMinor));
        Assert.Equal(1L, await platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM payout_transfers WHERE batch_id = $1", batch.BatchId));
        // The next day is not due until its own cut-off has passed by half an hour.
        Assert.False(after.Busy);
        Assert.Equal(calendar.EndOf(day.AddDays(1)) + TimeSpan.FromMinutes(30), after.At);
        Assert.All(rounds, r => Assert.True(r.Busy || r.At > time.GetUtcNow()));
        Assert.True((await settlement.VerifyAsync(new VerifyLedgerRequest())).Ok);
    }

    /// <summary>What the auto-closer logged, with any exception, for the assertion's message.</summary>
    private sealed class RecordingLogger : Microsoft.Extensions.Logging.ILogger<AutoDayClose>
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }

    /// <summary>The auto-closer's attempts by outcome, as its meter reports them.</summary>
    private static MeterListener Listen(List<string> outcomes)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "mesh.settlement.day_close.attempts")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    lock (outcomes)
                    {
                        outcomes.Add((string)tag.Value!);
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }
}
