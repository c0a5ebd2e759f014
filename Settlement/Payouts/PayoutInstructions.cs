using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Safety;
using Mesh.Settlement.Ledger;
using Mesh.Settlement.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using static Mesh.Settlement.Ledger.LedgerWriter;

namespace Mesh.Settlement.Payouts;

/// <summary>
/// Paying merchants through the platform's settlement bank, by ISO 20022. With each close, the
/// pending batches it can pay (in yuan, above zero, to a merchant whose settlement account the
/// ledger knows; rejected ones an operator sent again included) go on a payment instruction file
/// (pain.001) per settlement bank (the bank that holds each merchant's account; the platform's own
/// where none is on record), each batch a transfer, and become <c>sent</c>. The bank's status report (pain.002)
/// moves each transfer to paid (booked as a payout, under the transfer's id) or rejected. A report
/// that does not match its file changes nothing; the same report again changes nothing. Files
/// and reports are made and applied under one lock, so replicas take turns.
/// </summary>
public sealed class PayoutInstructions(NpgsqlDataSource db, LedgerWriter writer, IOptions<PayoutOptions> options, LedgerMetrics metrics, TimeProvider time,
    ILogger<PayoutInstructions> logger)
{
    public const long PayoutLockKey = 0x4D45_5348_5041_594F; // "MESHPAYO"

    public static string BatchReference(DateOnly date, long batchId) => string.Create(CultureInfo.InvariantCulture, $"STL-{date:yyyyMMdd}-{batchId}");

    /// <summary>The MsgId of a date's file for one settlement bank (at most 32 characters: MsgId takes 35).</summary>
    public static string MessageId(DateOnly date, string bankBic) =>
        string.Create(CultureInfo.InvariantCulture, $"MESHPAY-{date:yyyyMMdd}-{PaymentInstruction.Currency}-{bankBic}");

    /// <summary>
    /// The date's payment instruction files, one per settlement bank, made if they are not yet and there is something to pay
    /// (all in one transaction: a date has its files or none); empty when there is nothing.
    /// </summary>
    public async Task<IReadOnlyList<string>> InstructAsync(DateOnly date, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock($1)", PayoutLockKey).ExecuteNonQueryAsync(ct);
        var made = new List<string>();
        await using (var existing = await Sql(connection, tx, "SELECT msg_id FROM payout_files WHERE settlement_date = $1 AND currency = $2 ORDER BY msg_id",
                         date, PaymentInstruction.Currency).ExecuteReaderAsync(ct))
        {
            while (await existing.ReadAsync(ct))
            {
                made.Add(existing.GetString(0));
            }
        }
        if (made.Count > 0)
        {
            return made;
        }
        var payable = new List<(long BatchId, DateOnly Date, string MerchantId, long AmountMinor, string Account, string Bank)>();
        await using (var read = await Sql(connection, tx,
                         """
                         SELECT b.batch_id, b.settlement_date, b.merchant_id, b.net_payable_minor, a.account, a.bank_bic
                         FROM batches b JOIN merchant_payout_accounts a ON a.merchant_id = b.merchant_id
                         WHERE b.fund_status = 'pending' AND b.currency = $1 AND b.net_payable_minor > 0 AND b.settlement_date <= $2
                         ORDER BY b.settlement_date, b.batch_id LIMIT $3 FOR UPDATE OF b
                         """, PaymentInstruction.LedgerCurrency, date, PaymentInstruction.TransfersMax).ExecuteReaderAsync(ct))
        {
            while (await read.ReadAsync(ct))
            {
                var bank = read.GetString(5);
                payable.Add((read.GetInt64(0), read.GetFieldValue<DateOnly>(1), read.GetString(2), read.GetInt64(3), read.GetString(4),
                    bank.Length > 0 ? bank : options.Value.DebtorAgentBic));
            }
        }
        foreach (var atBank in payable.GroupBy(p => p.Bank, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var msgId = MessageId(date, atBank.Key);
            var transfers = atBank.Select((p, i) => new CreditTransfer(string.Create(CultureInfo.InvariantCulture, $"{msgId}-{i + 1:D5}"),
                BatchReference(p.Date, p.BatchId), p.BatchId, p.MerchantId, p.Account, p.AmountMinor, DayClose.Text(p.Date), atBank.Key)).ToList();
            await WriteFileAsync(connection, tx, msgId, date, atBank.Key, transfers, now, ct);
            made.Add(msgId);
        }
        await tx.CommitAsync(ct);
        return made;
    }

    /// <summary>One bank's file of the date and its transfers, and its batches sent.</summary>
    private async Task WriteFileAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string msgId, DateOnly date, string bankBic,
        List<CreditTransfer> transfers, DateTimeOffset now, CancellationToken ct)
    {
        var debtor = new Debtor(options.Value.DebtorName, options.Value.DebtorAccount, options.Value.DebtorAgentBic);
        var content = PaymentInstruction.Write(msgId, now, date.AddDays(1), debtor, transfers);
        var controlSum = transfers.Sum(t => t.AmountMinor);
        await Sql(connection, tx,
            """
            INSERT INTO payout_files (msg_id, settlement_date, currency, transactions, control_sum_minor, content, created_at, creditor_agent_bic)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, msgId, date, PaymentInstruction.Currency, transfers.Count, controlSum, content, now, bankBic).ExecuteNonQueryAsync(ct);
        await Sql(connection, tx,
            """
            INSERT INTO payout_transfers (transfer_id, msg_id, end_to_end_id, batch_id, amount_minor, status)
            SELECT t, $2, e, b, a, 'sent' FROM unnest($1::text[], $3::text[], $4::bigint[], $5::bigint[]) u(t, e, b, a)
            """, transfers.Select(t => t.TransferId).ToArray(), msgId, transfers.Select(t => t.EndToEndId).ToArray(), transfers.Select(t => t.BatchId).ToArray(),
            transfers.Select(t => t.AmountMinor).ToArray()).ExecuteNonQueryAsync(ct);
        var sent = await Sql(connection, tx,
            """
            UPDATE batches b SET fund_status = 'sent', payout_reference = u.t, fund_reason = NULL
            FROM unnest($1::bigint[], $2::text[]) u(id, t) WHERE b.batch_id = u.id AND b.fund_status = 'pending'
            """, transfers.Select(t => t.BatchId).ToArray(), transfers.Select(t => t.TransferId).ToArray()).ExecuteNonQueryAsync(ct);
        Invariant.Holds(sent == transfers.Count, "every batch on a payment file was pending and is now sent");
        metrics.Transfers("sent", transfers.Count);
        logger.LogInformation("Payment instruction file {MsgId} for {Bank}: {Transfers} transfers, {ControlSum} {Currency}", msgId, bankBic, transfers.Count,
            PaymentInstruction.Amount(controlSum), PaymentInstruction.Currency);
    }

    public async Task<List<PayoutFile>> ListAsync(DateOnly? date, CancellationToken ct)
    {
        await using var find = db.CreateCommand(
            """
            SELECT f.msg_id, f.settlement_date, f.currency, f.transactions, f.control_sum_minor, f.created_at, f.creditor_agent_bic,
                   count(*) FILTER (WHERE t.status = 'paid')::int, count(*) FILTER (WHERE t.status = 'rejected')::int, count(*) FILTER (WHERE t.status = 'sent')::int
            FROM payout_files f JOIN payout_transfers t ON t.msg_id = f.msg_id
            WHERE $1::date IS NULL OR f.settlement_date = $1
            GROUP BY f.msg_id ORDER BY f.settlement_date DESC, f.msg_id LIMIT 100
            """);
        find.Parameters.Add(new NpgsqlParameter { Value = (object?)date ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        var files = new List<PayoutFile>();
        await using var row = await find.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            files.Add(new PayoutFile
            {
                MsgId = row.GetString(0),
                SettlementDate = DayClose.Text(row.GetFieldValue<DateOnly>(1)),
                Currency = row.GetString(2),
                Transactions = row.GetInt32(3),
                ControlSumMinor = row.GetInt64(4),
                CreatedAtUnixMs = row.GetFieldValue<DateTimeOffset>(5).ToUnixTimeMilliseconds(),
                CreditorAgentBic = row.GetString(6) is { Length: > 0 } bank ? bank : options.Value.DebtorAgentBic,
                Paid = row.GetInt32(7),
                Rejected = row.GetInt32(8),
                Sent = row.GetInt32(9),
            });
        }
        return files;
    }

    public async Task<PayoutFileContent?> GetAsync(string msgId, CancellationToken ct)
    {
        await using var find = db.CreateCommand("SELECT content FROM payout_files WHERE msg_id = $1");
        BatchSql.Bind(find, msgId);
        return await find.ExecuteScalarAsync(ct) is byte[] content
            ? new PayoutFileContent { Name = $"{msgId}.pain.001.xml", Content = ByteString.CopyFrom(content) }
            : null;
    }

    /// <summary>
    /// Applies the bank's status report on one of the files: all of it, or (when it cannot be read, does not match its file or
    /// contradicts what the bank said before) none of it, with the reason.
    /// </summary>
    public async Task<PaymentStatusReportReply> ApplyReportAsync(byte[] content, CancellationToken ct)
    {
        StatusReport report;
        try
        {
            report = StatusReport.Read(content);
        }
        catch (StatusReportException ex)
        {
            metrics.Report("refused");
            throw Refusal(StatusCode.InvalidArgument, ex.Field, ex.Problem);
        }
        var digest = SHA256.HashData(content);
        var now = time.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock_shared($1)", LedgerLockKey).ExecuteNonQueryAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock($1)", PayoutLockKey).ExecuteNonQueryAsync(ct);
        if (await Sql(connection, tx, "SELECT content_sha256 FROM payout_reports WHERE msg_id = $1", report.MsgId).ExecuteScalarAsync(ct) is byte[] seen)
        {
            await tx.RollbackAsync(ct);
            if (!seen.AsSpan().SequenceEqual(digest))
            {
                metrics.Report("refused");
                throw Refusal(StatusCode.FailedPrecondition, "GrpHdr/MsgId", $"report {report.MsgId} was received before with other content; nothing was changed");
            }
            metrics.Report("repeated");
            return await OutcomeAsync(report, alreadyApplied: true, ct);
        }
        var (count, sum) = await FileTotalsAsync(connection, tx, report.OriginalMsgId, ct);
        if (report.OriginalCount is { } reportedCount && reportedCount != count)
        {
            throw Refused(StatusCode.InvalidArgument, "OrgnlNbOfTxs", $"{report.OriginalMsgId} has {count} transfers, the report says {reportedCount}");
        }
        if (report.OriginalControlSumMinor is { } reportedSum && reportedSum != sum)
        {
            throw Refused(StatusCode.InvalidArgument, "OrgnlCtrlSum",
                $"{report.OriginalMsgId} sums to {PaymentInstruction.Amount(sum)}, the report says {PaymentInstruction.Amount(reportedSum)}");
        }
        var transfers = await TransfersAsync(connection, tx, report.OriginalMsgId, ct);
        var moves = Moves(report, transfers);
        foreach (var (transfer, move, reason) in moves.Where(m => m.Move != TransferMove.None))
        {
            await MoveAsync(connection, tx, transfer, move, reason, now, ct);
        }
        var (paid, rejected) = (moves.Count(m => m.Move == TransferMove.Pay), moves.Count(m => m.Move == TransferMove.Reject));
        await Sql(connection, tx,
            "INSERT INTO payout_reports (msg_id, orgnl_msg_id, content_sha256, paid, rejected, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
            report.MsgId, report.OriginalMsgId, digest, paid, rejected, now).ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        metrics.Report("applied");
        metrics.Transfers("paid", paid);
        metrics.Transfers("rejected", rejected);
        logger.LogInformation("Status report {MsgId} on {OrgnlMsgId}: {Paid} paid, {Rejected} rejected", report.MsgId, report.OriginalMsgId, paid, rejected);
        return await OutcomeAsync(report, alreadyApplied: false, ct);
    }

    /// <summary>What the report does to each transfer it names (every one of the file's, for a group status alone); refused whole if anything does not match.</summary>
    private List<(Transfer Transfer, TransferMove Move, string Reason)> Moves(StatusReport report, Dictionary<string, Transfer> transfers)
    {
        var moves = new List<(Transfer, TransferMove, string)>();
        var statuses = report.Transfers.Count > 0
            ? report.Transfers
            : transfers.Values.Select(t => new TransferStatus(t.EndToEndId, t.TransferId, report.GroupStatus, report.GroupReason, null)).ToList();
        foreach (var status in statuses)
        {
            if (!transfers.TryGetValue(status.EndToEndId, out var transfer))
            {
                throw Refused(StatusCode.InvalidArgument, "OrgnlEndToEndId", $"{status.EndToEndId} is not a transfer of {report.OriginalMsgId}");
            }
            if (status.InstrId.Length > 0 && status.InstrId != transfer.TransferId)
            {
                throw Refused(StatusCode.InvalidArgument, "OrgnlInstrId", $"{status.EndToEndId} was sent as {transfer.TransferId}, not {status.InstrId}");
            }
            if (status.AmountMinor is { } amount && amount != transfer.AmountMinor)
            {
                throw Refused(StatusCode.InvalidArgument, "OrgnlTxRef/Amt/InstdAmt",
                    $"{status.EndToEndId} was sent for {PaymentInstruction.Amount(transfer.AmountMinor)}, the report says {PaymentInstruction.Amount(amount)}");
            }
            if (!StatusReport.Paid.Contains(status.Status) && status.Status != StatusReport.Rejected && !StatusReport.Undecided.Contains(status.Status))
            {
                throw Refused(StatusCode.InvalidArgument, "GrpSts", $"{status.Status} is not a status this platform knows");
            }
            var move = TransferRules.Decide(transfer.State, status.Status);
            if (move == TransferMove.Contradiction)
            {
                throw Refused(StatusCode.FailedPrecondition, "TxSts",
                    $"{status.EndToEndId} is {TransferRules.Text(transfer.State)}; the report says {status.Status}: nothing was changed");
            }
            var reason = status.Reason.Length > 0 ? status.Reason : report.GroupReason;
            moves.Add((transfer, move, move == TransferMove.Reject && reason.Length == 0 ? "rejected by the bank" : reason));
        }
        return moves;
    }

    private async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Transfer transfer, TransferMove move, string reason, DateTimeOffset now,
        CancellationToken ct)
    {
        var status = move == TransferMove.Pay ? "paid" : "rejected";
        await Sql(connection, tx, "UPDATE payout_transfers SET status = $2, reason = $3, reported_at = $4 WHERE transfer_id = $1 AND status = 'sent'",
            transfer.TransferId, status, move == TransferMove.Reject ? reason : null, now).ExecuteNonQueryAsync(ct);
        (string MerchantId, string Currency, long Net)? batch = null;
        await using (var update = await Sql(connection, tx,
                         """
                         UPDATE batches SET fund_status = $2, fund_reason = $3, paid_at = CASE WHEN $2 = 'paid' THEN $4 END
                         WHERE batch_id = $1 AND fund_status = 'sent' AND payout_reference = $5 RETURNING merchant_id, currency, net_payable_minor
                         """, transfer.BatchId, status, move == TransferMove.Reject ? reason : null, now, transfer.TransferId).ExecuteReaderAsync(ct))
        {
            if (await update.ReadAsync(ct))
            {
                batch = (update.GetString(0), update.GetString(1), update.GetInt64(2));
            }
        }
        Invariant.Holds(batch is not null, "a transfer the bank decides is its batch's, sent");
        Invariant.Holds(batch!.Value.Net == transfer.AmountMinor, "a transfer pays exactly its batch's net");
        if (move == TransferMove.Pay)
        {
            await writer.BookPayoutAsync(connection, tx, transfer.BatchId, batch.Value.MerchantId, batch.Value.Currency, batch.Value.Net, transfer.TransferId, now, ct);
        }
    }

    /// <summary>A rejected batch back to pending: the next file sends it again.</summary>
    public async Task<string> RetryAsync(long batchId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock($1)", PayoutLockKey).ExecuteNonQueryAsync(ct);
        var status = await Sql(connection, tx, "SELECT fund_status FROM batches WHERE batch_id = $1 FOR UPDATE", batchId).ExecuteScalarAsync(ct) as string
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no batch {batchId}"));
        if (status == "pending")
        {
            return status;
        }
        if (status != "rejected")
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"batch {batchId} is {status}: only a rejected batch is sent again"));
        }
        await Sql(connection, tx, "UPDATE batches SET fund_status = 'pending', payout_reference = NULL WHERE batch_id = $1", batchId).ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return "pending";
    }

    private async Task<PaymentStatusReportReply> OutcomeAsync(StatusReport report, bool alreadyApplied, CancellationToken ct)
    {
        var reply = new PaymentStatusReportReply { MsgId = report.MsgId, OriginalMsgId = report.OriginalMsgId, AlreadyApplied = alreadyApplied };
        await using var find = db.CreateCommand(
            "SELECT end_to_end_id, transfer_id, batch_id, status, coalesce(reason, '') FROM payout_transfers WHERE msg_id = $1 ORDER BY transfer_id");
        BatchSql.Bind(find, report.OriginalMsgId);
        await using var row = await find.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            reply.Transfers.Add(new TransferOutcome
            {
                EndToEndId = row.GetString(0),
                TransferId = row.GetString(1),
                BatchId = row.GetInt64(2),
                Status = row.GetString(3),
                Reason = row.GetString(4),
            });
        }
        await using var counts = db.CreateCommand("SELECT paid, rejected FROM payout_reports WHERE msg_id = $1");
        BatchSql.Bind(counts, report.MsgId);
        await using var counted = await counts.ExecuteReaderAsync(ct);
        if (await counted.ReadAsync(ct))
        {
            (reply.Paid, reply.Rejected) = (counted.GetInt32(0), counted.GetInt32(1));
        }
        return reply;
    }

    private static async Task<(int Count, long Sum)> FileTotalsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string msgId, CancellationToken ct)
    {
        await using var read = await Sql(connection, tx, "SELECT transactions, control_sum_minor FROM payout_files WHERE msg_id = $1", msgId).ExecuteReaderAsync(ct);
        return await read.ReadAsync(ct)
            ? (read.GetInt32(0), read.GetInt64(1))
            : throw Refusal(StatusCode.InvalidArgument, "OrgnlGrpInfAndSts/OrgnlMsgId", $"{msgId} is not a payment file of this platform");
    }

    private static async Task<Dictionary<string, Transfer>> TransfersAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string msgId, CancellationToken ct)
    {
        var transfers = new Dictionary<string, Transfer>(StringComparer.Ordinal);
        await using var read = await Sql(connection, tx,
            "SELECT transfer_id, end_to_end_id, batch_id, amount_minor, status FROM payout_transfers WHERE msg_id = $1 FOR UPDATE", msgId).ExecuteReaderAsync(ct);
        while (await read.ReadAsync(ct))
        {
            transfers[read.GetString(1)] = new Transfer(read.GetString(0), read.GetString(1), read.GetInt64(2), read.GetInt64(3), TransferRules.Parse(read.GetString(4)));
        }
        return transfers;
    }

    private RpcException Refused(StatusCode code, string field, string problem)
    {
        metrics.Report("refused");
        return Refusal(code, field, problem);
    }

    /// <summary>A refusal with the field at fault as a google.rpc.BadRequest detail; nothing was changed.</summary>
    public static RpcException Refusal(StatusCode code, string field, string problem) =>
        new Google.Rpc.Status
        {
            Code = (int)code,
            Message = $"the status report was refused: {field}: {problem}; nothing was changed",
            Details =
            {
                Google.Protobuf.WellKnownTypes.Any.Pack(new Google.Rpc.BadRequest
                {
                    FieldViolations = { new Google.Rpc.BadRequest.Types.FieldViolation { Field = field, Description = problem } },
                }),
            },
        }.ToRpcException();

    private sealed record Transfer(string TransferId, string EndToEndId, long BatchId, long AmountMinor, TransferState State);
}
