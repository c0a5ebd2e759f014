using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.ServiceDefaults.Background;
using Mesh.Settlement.Ledger;
using Microsoft.Extensions.Options;
using Npgsql;
using static Mesh.Settlement.Ledger.LedgerWriter;

namespace Mesh.Settlement.Clearing;

/// <summary>
/// Interbank clearing: the switch's authorizations taken into the ledger as the issuers' side of
/// each payment, the way a scheme member takes in the network's clearing. An authorization is
/// taken once it has settled (older than <see cref="SettlementOptions.InterbankSettleAfterMs"/>:
/// answered, or reversed, by then), window by window of received time; every purchase an issuer
/// approved (and the switch did not reverse) is an <c>interbank_purchase</c>, every refund advice
/// it accepted an <c>interbank_refund</c>, idempotent on the switch's key (acquirer, STAN,
/// transmission). How far it has come is kept in <c>interbank_intake</c>, claimed under a row
/// lock, so replicas take turns; a round takes at most
/// <see cref="SettlementOptions.InterbankRecordsMax"/> authorizations, the earliest first.
/// </summary>
public sealed class InterbankIntake(
    NpgsqlDataSource db,
    LedgerWriter writer,
    CardSwitch.CardSwitchClient cardSwitch,
    IOptions<SettlementOptions> options,
    TimeProvider time,
    ILogger<InterbankIntake> logger) : BackgroundService
{
    public const string Approved = "00";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(async ct => await TakeInAsync(ct) is { MoreWaiting: true }, () => TimeSpan.FromMilliseconds(options.Value.InterbankPollMs), time,
            logger, "Taking the switch's authorizations into the ledger", stoppingToken);

    /// <summary>Everything received before this has been taken in.</summary>
    public async Task<DateTimeOffset> TakenToAsync(CancellationToken ct)
    {
        await using var read = db.CreateCommand("SELECT taken_to FROM interbank_intake WHERE id = 1");
        return Utc((DateTime)(await read.ExecuteScalarAsync(ct))!);
    }

    /// <summary>One round: the settled authorizations after the last one taken, recorded; false for <c>MoreWaiting</c> once caught up.</summary>
    public async Task<(DateTimeOffset TakenTo, bool MoreWaiting)> TakeInAsync(CancellationToken ct)
    {
        var settledBefore = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().AddMilliseconds(-options.Value.InterbankSettleAfterMs).ToUnixTimeMilliseconds());
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var from = Utc((DateTime)(await Sql(connection, tx, "SELECT taken_to FROM interbank_intake WHERE id = 1 FOR UPDATE").ExecuteScalarAsync(ct))!);
        if (from >= settledBefore)
        {
            return (from, false);
        }
        var (records, nextFrom) = await SwitchAuthorizations.PageAsync(cardSwitch, from, settledBefore, options.Value.InterbankRecordsMax, ct);
        var to = nextFrom ?? settledBefore;
        var events = records.Select(Event).OfType<LedgerEvent>().ToList();
        var (posted, duplicates) = (0, 0);
        foreach (var chunk in events.Chunk(options.Value.RecordBatchMax))
        {
            var reply = await writer.RecordAsync(chunk, ct);
            (posted, duplicates) = (posted + reply.Posted, duplicates + reply.Duplicates);
        }
        await Sql(connection, tx, "UPDATE interbank_intake SET taken_to = $1 WHERE id = 1", to).ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        if (events.Count > 0)
        {
            logger.LogInformation("Interbank clearing to {TakenTo:O}: {Posted} entries from {Records} authorizations ({Duplicates} already in)", to, posted,
                records.Count, duplicates);
        }
        return (to, to < settledBefore);
    }

    /// <summary>Takes rounds in until everything received before <paramref name="until"/> is in; false if that has not settled yet.</summary>
    public async Task<bool> CatchUpAsync(DateTimeOffset until, CancellationToken ct)
    {
        for (var round = 0; round < RoundsMax; round++)
        {
            var (takenTo, more) = await TakeInAsync(ct);
            if (takenTo >= until)
            {
                return true;
            }
            if (!more)
            {
                return false;
            }
        }
        return await TakenToAsync(ct) >= until;
    }

    /// <summary>Catching up a long outage is at most this many rounds per call.</summary>
    public const int RoundsMax = 10_000;

    private static DateTimeOffset Utc(DateTime timestamp) => new(DateTime.SpecifyKind(timestamp, DateTimeKind.Utc));

    /// <summary>What an authorization moved between the platform and the issuer, if anything.</summary>
    public static LedgerEvent? Event(SwitchRecord r)
    {
        var kind = (r.Mti, r.ResponseCode, r.Reversal) switch
        {
            ("0200", Approved, ReversalState.None) => InterbankPurchase,
            ("0220" or "0221", Approved, _) => InterbankRefund,
            _ => null,
        };
        return kind is null || r.IssuerId.Length == 0 || r.AmountMinor <= 0 ? null : new LedgerEvent
        {
            TransactionId = $"switch:{r.AcquirerId}:{r.Stan}:{r.Transmission}",
            Kind = kind,
            IssuerId = r.IssuerId,
            AmountMinor = r.AmountMinor,
            Currency = r.Currency,
            OccurredAtUnixMs = r.ReceivedAtUnixMs,
            Stan = r.Stan,
            Transmission = r.Transmission,
        };
    }
}
