using System.Globalization;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Mesh.Switch.Authorization;
using Mesh.Switch.Journal;
using Mesh.Switch.Links;
using Mesh.Switch.Metrics;
using Mesh.Switch.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Switch.Reversals;

/// <summary>
/// Advices owed to issuers, in switchdb so they survive a restart: reversals of requests whose
/// outcome is unknown (0420, repeated as 0421 with back-off until a 0430) and refunds whose first
/// answer never came (repeated as 0221 until a 0230). Rows are claimed with
/// <c>FOR UPDATE SKIP LOCKED</c>, so switch replicas share the queue. Each pass also sweeps
/// requests a switch claimed but never answered (it stopped while they were at the issuer) into
/// the queue. Between passes the queue sleeps until its earliest advice is due or its earliest
/// unanswered request would be an orphan, until an advice is queued in this process, or until its
/// fallback poll (<see cref="SwitchOptions.ReversalPollMs"/>), which finds another replica's.
/// </summary>
public sealed class ReversalQueue(
    NpgsqlDataSource db,
    IssuerLinks links,
    SecurityModule security,
    MessageJournal journal,
    SwitchMetrics metrics,
    IOptions<SwitchOptions> options,
    TimeProvider time,
    ILogger<ReversalQueue> logger) : BackgroundService
{
    private readonly BacklogSchedule _backlog = new(time);
    private readonly WorkSignal _queued = new();

    /// <summary>
    /// Passes that were not busy start at least this far apart (or the fallback poll apart, if shorter): advices queued by a
    /// burst of timeouts go out together.
    /// </summary>
    public static readonly TimeSpan PassesApartMin = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long after <see cref="Enqueue"/> the queue looks: the advice is written with the request's answer, in a group
    /// commit that takes milliseconds, after <see cref="Enqueue"/> returns. One written later waits for the fallback poll.
    /// </summary>
    public static readonly TimeSpan QueuedLookAfter = TimeSpan.FromMilliseconds(200);

    /// <summary>An advice that has failed this often is still repeated, at the longest back-off, and logged as stuck.</summary>
    public const int AttemptsBeforeAlarm = 20;

    /// <summary>A claimed request still unanswered after this many authorization timeouts was abandoned by a switch that stopped.</summary>
    public const int OrphanAfterTimeouts = 3;

    /// <summary>
    /// The advice owed for a request sent to an issuer whose outcome is unknown, to be written in
    /// the same round trip as the request's answer: the queue row is durable before the acquirer
    /// hears anything.
    /// </summary>
    public NpgsqlBatchCommand Enqueue(string issuer, IsoMessage original, string reason)
    {
        var insert = BatchSql.Command(
            """
            INSERT INTO reversals (issuer, acquirer_id, stan, transmission, amount_minor, processing_code, currency, reason, next_attempt_at, created_at,
                                   advice_mti, original_mti, original_data)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12)
            ON CONFLICT (acquirer_id, stan, transmission) DO NOTHING
            """,
            issuer, original.GetString(IsoFields.AcquirerId)!, original.GetString(IsoFields.Stan)!, original.GetString(IsoFields.TransmissionDateTime)!,
            long.Parse(original.GetString(IsoFields.AmountTransaction)!, CultureInfo.InvariantCulture), original.GetString(IsoFields.ProcessingCode) ?? "000000",
            original.GetString(IsoFields.Currency) ?? "156", reason, time.GetUtcNow(), ReversalProtocol.AdviceFor(original.Mti), original.Mti,
            original.GetString(IsoFields.OriginalDataElements));
        logger.LogWarning("{Advice} queued to {Issuer} for {Mti} STAN {Stan}: {Reason}", ReversalProtocol.AdviceFor(original.Mti), issuer, original.Mti,
            original.GetString(IsoFields.Stan), reason);
        _queued.WakeAt(time.GetUtcNow() + QueuedLookAfter);
        return insert;
    }

    /// <summary>
    /// Requests claimed more than <see cref="OrphanAfterTimeouts"/> timeouts ago and never answered
    /// are answered in the claim as an unknown outcome is (91; a refund advice 00, accepted for
    /// delivery) and queued like one; a repeat of the request then gets that answer.
    /// </summary>
    public async Task<int> SweepOrphansAsync(CancellationToken ct)
    {
        await using var sweep = db.CreateCommand(
            """
            WITH orphans AS (
                UPDATE authorizations SET response_code = CASE WHEN mti IN ('0220', '0221') THEN '00' ELSE '91' END, answered_at = @now
                WHERE answered_at IS NULL AND issuer IS NOT NULL AND created_at < @before
                RETURNING issuer, acquirer_id, stan, transmission, amount_minor, processing_code, currency, mti, original_data)
            INSERT INTO reversals (issuer, acquirer_id, stan, transmission, amount_minor, processing_code, currency, reason, next_attempt_at, created_at,
                                   advice_mti, original_mti, original_data)
            SELECT issuer, acquirer_id, stan, transmission, amount_minor, coalesce(processing_code, '000000'), coalesce(currency, '156'),
                   'claimed but never answered: the switch stopped with the request at the issuer', @now, @now,
                   CASE WHEN mti IN ('0220', '0221') THEN '0220' ELSE '0420' END, coalesce(mti, '0200'), original_data
            FROM orphans
            ON CONFLICT (acquirer_id, stan, transmission) DO NOTHING
            """);
        sweep.Parameters.AddWithValue("now", time.GetUtcNow());
        sweep.Parameters.AddWithValue("before", time.GetUtcNow().AddMilliseconds(-(long)OrphanAfterTimeouts * options.Value.AuthorizationTimeoutMs));
        var swept = await sweep.ExecuteNonQueryAsync(ct);
        if (swept > 0)
        {
            logger.LogWarning("{Count} requests claimed but never answered were queued for reversal", swept);
        }
        return swept;
    }

    public async Task<long> PendingAsync(string issuer, CancellationToken ct)
    {
        await using var count = db.CreateCommand("SELECT count(*) FROM reversals WHERE issuer = @i AND acknowledged_at IS NULL");
        count.Parameters.AddWithValue("i", issuer);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Advices not yet acknowledged, and how long the oldest has waited, into <see cref="SwitchMetrics"/>.</summary>
    public async Task MeasureBacklogAsync(CancellationToken ct)
    {
        var (pending, oldestAgeSeconds) = await QueueBacklog.MeasureAsync(db,
            "SELECT count(*), min(created_at) FROM reversals WHERE acknowledged_at IS NULL", time, ct);
        metrics.Backlog(pending, oldestAgeSeconds);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(PassAsync, _queued, () => TimeSpan.FromMilliseconds(options.Value.ReversalPollMs), PassesApartMin, time, logger,
            "Reversal queue pass", stoppingToken);

    /// <summary>
    /// One pass: sweep orphans, send what is due, and now and then count the backlog. Never busy: the next pass waits for the
    /// earliest advice due (one left over from a full batch is due already) or request that would be an orphan.
    /// </summary>
    private async Task<NextRound> PassAsync(CancellationToken ct)
    {
        await SweepOrphansAsync(ct);
        await SendDueAsync(ct);
        await _backlog.MeasureIfDueAsync(MeasureBacklogAsync, ct);
        return NextRound.Due(await NextDueAsync(ct));
    }

    /// <summary>When the earliest advice not yet acknowledged is due, or the earliest request claimed and not yet answered would be swept as an orphan.</summary>
    public Task<DateTimeOffset?> NextDueAsync(CancellationToken ct) =>
        DueTimes.EarliestAsync(db,
            """
            SELECT least((SELECT min(next_attempt_at) FROM reversals WHERE acknowledged_at IS NULL),
                         (SELECT min(created_at) FROM authorizations WHERE answered_at IS NULL AND issuer IS NOT NULL) + $1)
            """, ct, TimeSpan.FromMilliseconds((long)OrphanAfterTimeouts * options.Value.AuthorizationTimeoutMs));

    /// <summary>One pass: claim the advices that are due, send each, record the outcome, all in one transaction.</summary>
    public async Task SendDueAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var due = new List<PendingAdvice>();
        await using (var claim = new NpgsqlCommand(
            $"""
            SELECT reversal_id, issuer, acquirer_id, stan, transmission, amount_minor, processing_code, currency, attempts,
                   advice_mti, original_mti, original_data
            FROM reversals WHERE acknowledged_at IS NULL AND next_attempt_at <= @now
            ORDER BY next_attempt_at LIMIT {options.Value.ReversalBatchMax} FOR UPDATE SKIP LOCKED
            """, connection, tx))
        {
            claim.Parameters.AddWithValue("now", time.GetUtcNow());
            await using var rows = await claim.ExecuteReaderAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                due.Add(new PendingAdvice(rows.GetInt64(0), rows.GetString(1), rows.GetString(2), rows.GetString(3), rows.GetString(4),
                    rows.GetInt64(5), rows.GetString(6), rows.GetString(7), rows.GetInt32(8), rows.GetString(9), rows.GetString(10),
                    rows.IsDBNull(11) ? null : rows.GetString(11)));
            }
        }
        // Sent in parallel: the rows stay locked only as long as the slowest issuer takes.
        var outcomes = await Task.WhenAll(due.Select(advice => SendAsync(advice, ct)));
        for (var i = 0; i < due.Count; i++)
        {
            var advice = due[i];
            var answerCode = outcomes[i];
            var acknowledged = answerCode is not null;
            await using var update = new NpgsqlCommand(acknowledged
                ? "UPDATE reversals SET attempts = attempts + 1, acknowledged_at = @now, response_code = @code WHERE reversal_id = @id"
                : "UPDATE reversals SET attempts = attempts + 1, next_attempt_at = @next WHERE reversal_id = @id", connection, tx);
            update.Parameters.AddWithValue("id", advice.Id);
            update.Parameters.AddWithValue("code", (object?)answerCode ?? DBNull.Value);
            update.Parameters.AddWithValue("now", time.GetUtcNow());
            update.Parameters.AddWithValue("next", time.GetUtcNow().AddMilliseconds(ReversalProtocol.BackoffMs(advice.Attempts + 1, options.Value.ReversalBackoffMsMax)));
            await update.ExecuteNonQueryAsync(ct);
            if (!acknowledged && advice.Attempts + 1 >= AttemptsBeforeAlarm)
            {
                logger.LogError("Reversal {ReversalId} to {Issuer} still unacknowledged after {Attempts} attempts", advice.Id, advice.Issuer, advice.Attempts + 1);
            }
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Sends one advice; the issuer's field 39 when it acknowledged it, null when it must be repeated.</summary>
    private async Task<string?> SendAsync(PendingAdvice advice, CancellationToken ct)
    {
        var link = links.Find(advice.Issuer);
        if (link is not { IsSignedOn: true })
        {
            return null;
        }
        var message = ReversalProtocol.Message(advice, options.Value.InstitutionId, link.BankId);
        await security.SignAsync(link.ZakId, message, ct);
        var started = time.GetTimestamp();
        try
        {
            var answer = await link.ExchangeAsync(message, options.Value.AuthorizationTimeoutMs, ct);
            await journal.RecordAsync(advice.Issuer, message, answer, ExchangeOutcome.Answered, time.GetElapsedTime(started).TotalMilliseconds, ct);
            return ReversalProtocol.Acknowledgement(message, answer, await security.MacIsValidAsync(link.ZakId, answer, ct));
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or IsoLinkException)
        {
            await journal.RecordAsync(advice.Issuer, message, null, ExchangeOutcome.Timeout, time.GetElapsedTime(started).TotalMilliseconds, ct);
            return null;
        }
    }
}
