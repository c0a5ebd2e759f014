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
/// </summary>
public sealed class UnresolvedPayments(
    NpgsqlDataSource db,
    Acquirer acquirer,
    CardPayments payments,
    Refunds.RefundDesk refunds,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<UnresolvedPayments> logger) : BackgroundService
{
    public const int BatchSizeMax = 100;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(async ct =>
        {
            await ResolveDueAsync(ct);
            await refunds.ResolveDueAsync(BatchSizeMax, ct);
            return false;
        }, () => TimeSpan.FromMilliseconds(options.Value.ResolvePollMs), time, logger, "Looking up unresolved payments", stoppingToken);

    public async Task ResolveDueAsync(CancellationToken ct)
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
        foreach (var (attempt, panCiphertext) in attempts)
        {
            await ResolveAsync(attempt, panCiphertext, ct);
        }
    }

    private async Task ResolveAsync(PaymentAttempt attempt, byte[] panCiphertext, CancellationToken ct)
    {
        var outcome = await acquirer.OutcomeAsync(attempt.Stan, attempt.Transmission, ct);
        if (!outcome.Received)
        {
            logger.LogInformation("Payment STAN {Stan} never reached the switch: sending it again", attempt.Stan);
            var answer = await acquirer.SendAsync(await acquirer.WithPanAsync(attempt.Request, panCiphertext, ct), ct);
            await payments.SettleAsync(attempt, answer?.GetString(IsoFields.ResponseCode), answer?.GetString(IsoFields.AuthCode), false, ct,
                issuerId: answer?.GetString(IsoFields.ReceivingInstitution));
            return;
        }
        if (outcome.ResponseCode.Length == 0 || outcome.Reversal == ReversalState.Pending)
        {
            return; // still being decided, or still being reversed
        }
        var answered = outcome.Answer.IsEmpty ? null : await acquirer.ReadAnswerAsync(outcome.Answer.Memory, ct);
        var code = answered?.GetString(IsoFields.ResponseCode) ?? outcome.ResponseCode;
        var reversed = code is ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction;
        await payments.SettleAsync(attempt, code, answered?.GetString(IsoFields.AuthCode), reversalAcknowledged: reversed, ct,
            issuerId: answered?.GetString(IsoFields.ReceivingInstitution));
    }
}
