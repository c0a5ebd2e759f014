using Mesh.Contracts.Switch;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Options;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Payments;

/// <summary>
/// Payments (and refunds) whose outcome the gateway does not know: answered 91/96, or sent and never answered
/// (the call failed, or the gateway stopped). Each is looked up at the switch: a request the
/// switch never received is sent again (a repeat is answered with the first answer, never
/// authorized twice); one being reversed waits for the issuer's acknowledgement, then fails.
/// Between rounds the resolver sleeps until the earliest payment or refund still in flight comes to
/// <see cref="GatewayOptions.ResolveAfterMs"/> (a second while one looked up is still unknown), or
/// a payment marked unknown rings it (<see cref="PaymentsInDoubt"/>), and its fallback poll
/// <see cref="GatewayOptions.ResolvePollMs"/> finds whatever nobody rang for. Holds' captures and releases still unanswered are looked
/// up the same way (<see cref="Holds.HoldDesk.ResolveDueAsync"/>). What it settles is written by <see cref="CardPayments"/>, the refund
/// desk and the hold desk, which ring
/// the workers of its notification and settlement row.
/// </summary>
public sealed class UnresolvedPayments(
    NpgsqlDataSource db,
    Acquirer acquirer,
    CardPayments payments,
    Refunds.RefundDesk refunds,
    Holds.HoldDesk holds,
    PaymentsInDoubt inDoubt,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<UnresolvedPayments> logger) : BackgroundService
{
    public const int BatchSizeMax = 100;

    /// <summary>Rounds start at least this far apart: a guard against a due time that stays due, and against rings in a burst.</summary>
    public static readonly TimeSpan RoundsApartMin = TimeSpan.FromMilliseconds(250);

    /// <summary>While a payment or refund looked up is still unknown (being reversed), it is looked up again this often, or at the fallback poll if sooner.</summary>
    public static readonly TimeSpan StillUnknownLookedUpEvery = TimeSpan.FromSeconds(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(RoundAsync, inDoubt.Signal, () => TimeSpan.FromMilliseconds(options.Value.ResolvePollMs), RoundsApartMin, time, logger,
            "Looking up unresolved payments", stoppingToken);

    /// <summary>
    /// One round: the payments and refunds due looked up. Then again in a second while one is still unknown, else asleep until the
    /// next one in flight comes due.
    /// </summary>
    private async Task<NextRound> RoundAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var dueBefore = now.AddMilliseconds(-options.Value.ResolveAfterMs);
        var refundsDue = await DueTimes.EarliestAsync(db, "SELECT min(created_at) FROM refunds WHERE status = 'pending'", ct) < dueBefore;
        var holdsDue = await DueTimes.EarliestAsync(db, "SELECT min(created_at) FROM hold_actions WHERE status = 'pending'", ct) < dueBefore;
        var (looked, settled) = await ResolveDueAsync(ct);
        if (refundsDue)
        {
            await refunds.ResolveDueAsync(BatchSizeMax, ct);
        }
        if (holdsDue)
        {
            await holds.ResolveDueAsync(BatchSizeMax, ct);
        }
        return looked > settled || refundsDue || holdsDue ? NextRound.Due(now + StillUnknownLookedUpEvery) : NextRound.Due(await NextDueAsync(dueBefore, ct));
    }

    /// <summary>
    /// When the earliest payment or refund still in flight, and not yet due, comes to <see cref="GatewayOptions.ResolveAfterMs"/>;
    /// null when none is.
    /// </summary>
    private async Task<DateTimeOffset?> NextDueAsync(DateTimeOffset dueBefore, CancellationToken ct) =>
        await DueTimes.EarliestAsync(db,
            """
            SELECT least((SELECT min(created_at) FROM payments WHERE status = 'sent' AND created_at >= $1),
                         (SELECT min(created_at) FROM refunds WHERE status = 'pending' AND created_at >= $1),
                         (SELECT min(created_at) FROM hold_actions WHERE status = 'pending' AND created_at >= $1))
            """, ct, dueBefore) is { } sentAt
            ? sentAt.AddMilliseconds(options.Value.ResolveAfterMs)
            : null;

    /// <summary>Looks up the payments due (at most <see cref="BatchSizeMax"/>): how many it looked up, and how many of them it settled.</summary>
    public async Task<(int Looked, int Settled)> ResolveDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var due = db.CreateCommand(
            """
            SELECT p.payment_id, p.merchant_id, p.order_id, p.session_id, p.amount_minor, p.currency, p.pan_masked, p.stan,
                   p.transmission, p.rrn, p.request, p.pan_ciphertext
            FROM payments p
            WHERE p.status = 'unknown' OR (p.status = 'sent' AND p.created_at < $1)
            ORDER BY p.created_at LIMIT $2
            """);
        BatchSql.Bind(due, now.AddMilliseconds(-options.Value.ResolveAfterMs), BatchSizeMax);
        var attempts = new List<(PaymentAttempt Attempt, byte[] PanCiphertext)>();
        await using (var row = await due.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                attempts.Add((new PaymentAttempt(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetInt64(4),
                    row.GetString(5), row.GetString(6), row.GetString(7), row.GetString(8), row.GetString(9), row.GetFieldValue<byte[]>(10)),
                    row.GetFieldValue<byte[]>(11)));
            }
        }
        var settled = 0;
        foreach (var (attempt, panCiphertext) in attempts)
        {
            // A payment another path answered meanwhile comes back not payable: nothing written here.
            settled += await ResolveAsync(attempt, panCiphertext, ct) is { Result: not PaymentResult.NotPayable } ? 1 : 0;
        }
        return (attempts.Count, settled);
    }

    /// <summary>Looks one payment up, and settles it if its outcome is known; the outcome written (null: still unknown).</summary>
    private async Task<PaymentOutcome?> ResolveAsync(PaymentAttempt attempt, byte[] panCiphertext, CancellationToken ct)
    {
        var outcome = await acquirer.OutcomeAsync(attempt.Stan, attempt.Transmission, ct);
        if (!outcome.Received)
        {
            logger.LogInformation("Payment STAN {Stan} never reached the switch: sending it again", attempt.Stan);
            var answer = await acquirer.SendAsync(await acquirer.WithPanAsync(attempt.Request, panCiphertext, ct), ct);
            return await payments.SettleAsync(attempt, answer?.GetString(IsoFields.ResponseCode), answer?.GetString(IsoFields.AuthCode), false, ct,
                issuerId: answer?.GetString(IsoFields.ReceivingInstitution));
        }
        if (outcome.ResponseCode.Length == 0 || outcome.Reversal == ReversalState.Pending)
        {
            return null; // still being decided, or still being reversed
        }
        var answered = outcome.Answer.IsEmpty ? null : await acquirer.ReadAnswerAsync(outcome.Answer.Memory, ct);
        var code = answered?.GetString(IsoFields.ResponseCode) ?? outcome.ResponseCode;
        var reversed = code is ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction;
        return await payments.SettleAsync(attempt, code, answered?.GetString(IsoFields.AuthCode), reversalAcknowledged: reversed, ct,
            issuerId: answered?.GetString(IsoFields.ReceivingInstitution));
    }
}
