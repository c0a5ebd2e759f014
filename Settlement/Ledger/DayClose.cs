using System.Globalization;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Safety;
using Npgsql;
using static Mesh.Settlement.Ledger.LedgerWriter;

namespace Mesh.Settlement.Ledger;

/// <summary>
/// Closing a settlement date, once its business day has ended: per merchant and currency a batch
/// (gross sales, refunds, fees, adjustments, net payable) and per issuing bank the day's net
/// position. Refunds are charged to their merchants by an entry of the close. Closing twice
/// changes nothing; dates close in order and never reopen; whatever arrives later for a closed
/// date is booked on the first open one. The close puts the pending batches it can pay on the date's
/// payment instruction file (<see cref="Payouts.PayoutInstructions"/>); the bank's report, or an operator
/// by hand, moves a batch to paid. Each
/// merchant's reconciliation files are made with the close. A date closes only once the switch's
/// authorizations of its whole business day are in (interbank clearing): the banks' positions
/// come from them, and what the two sides differ by is kept per currency.
/// </summary>
public sealed class DayClose(NpgsqlDataSource db, LedgerWriter writer, Reconciliation.ReconciliationFiles files, Clearing.InterbankIntake interbank,
    Payouts.PayoutInstructions payouts, SettlementCalendar calendar, TimeProvider time, ILogger<DayClose> logger)
{
    private const string BatchColumns =
        "batch_id, settlement_date, merchant_id, currency, gross_sales_minor, refunds_minor, fees_minor, adjustments_minor, net_payable_minor, transactions, fund_status, coalesce(payout_reference, ''), coalesce(fund_reason, '')";

    public async Task<CloseDayReply> CloseAsync(DateOnly date, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (now < calendar.EndOf(date))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"the business day of {date:yyyy-MM-dd} ends at {calendar.EndOf(date):yyyy-MM-dd HH:mm zzz}; it cannot be closed before"));
        }
        await using (var closed = db.CreateCommand("SELECT 1 FROM settlement_days WHERE settlement_date = $1"))
        {
            closed.Parameters.Add(new NpgsqlParameter { Value = date });
            if (await closed.ExecuteScalarAsync(ct) is not null)
            {
                await payouts.InstructAsync(date, ct);
                return await StoredAsync(date, alreadyClosed: true, ct);
            }
        }
        await TakeInTheSwitchsDayAsync(date, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock($1)", LedgerLockKey).ExecuteNonQueryAsync(ct);
        if (await Sql(connection, tx, "SELECT min(settlement_date) FROM journal_entries WHERE settlement_date < $1 AND settlement_date >= $2", date,
                await FirstOpenDateAsync(connection, tx, ct)).ExecuteScalarAsync(ct) is DateOnly earlier)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{earlier:yyyy-MM-dd} is still open: dates close in order"));
        }
        if (await Sql(connection, tx, "INSERT INTO settlement_days (settlement_date, closed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", date, now)
                .ExecuteNonQueryAsync(ct) == 0)
        {
            await tx.RollbackAsync(ct);
            await payouts.InstructAsync(date, ct);
            return await StoredAsync(date, alreadyClosed: true, ct);
        }
        var batches = new List<Batch>();
        await using (var read = await Sql(connection, tx,
                         """
                         SELECT e.merchant_id, e.currency,
                             coalesce(sum(e.amount_minor) FILTER (WHERE e.kind = 'purchase'), 0)
                               - coalesce(sum(e.amount_minor) FILTER (WHERE e.kind = 'reversal' AND o.settlement_date = e.settlement_date), 0),
                             coalesce(sum(e.amount_minor) FILTER (WHERE e.kind = 'refund'), 0),
                             coalesce(sum(e.fee_minor) FILTER (WHERE e.kind = 'purchase'), 0)
                               - coalesce(sum(e.fee_minor) FILTER (WHERE e.kind = 'reversal' AND o.settlement_date = e.settlement_date), 0),
                             -coalesce(sum(e.amount_minor - e.fee_minor) FILTER (WHERE e.kind = 'reversal' AND o.settlement_date < e.settlement_date), 0),
                             count(*)::int
                         FROM journal_entries e LEFT JOIN journal_entries o ON o.entry_id = e.original_entry_id
                         WHERE e.settlement_date = $1 AND e.kind IN ('purchase', 'refund', 'reversal') AND (e.kind <> 'reversal' OR o.entry_id IS NOT NULL)
                         GROUP BY e.merchant_id, e.currency ORDER BY e.merchant_id, e.currency
                         """, date).ExecuteReaderAsync(ct))
        {
            while (await read.ReadAsync(ct))
            {
                var (gross, refunds, fees, adjustments) = (read.GetInt64(2), read.GetInt64(3), read.GetInt64(4), read.GetInt64(5));
                batches.Add(new Batch
                {
                    SettlementDate = Text(date),
                    MerchantId = read.GetString(0),
                    Currency = read.GetString(1),
                    GrossSalesMinor = gross,
                    RefundsMinor = refunds,
                    FeesMinor = fees,
                    AdjustmentsMinor = adjustments,
                    NetPayableMinor = gross - fees - refunds + adjustments,
                    Transactions = read.GetInt32(6),
                    FundStatus = "pending",
                });
            }
        }
        var clearing = batches.Where(b => b.RefundsMinor != 0).Select(b => new PlannedEntry($"refunds-cleared:{b.SettlementDate}:{b.MerchantId}:{b.Currency}",
            "refunds_cleared", date, b.MerchantId, null, null, b.RefundsMinor, 0, b.Currency, null, null, null, now,
            PostingRules.RefundsCleared(b.MerchantId, b.Currency, b.RefundsMinor))).ToList();
        if (clearing.Count > 0)
        {
            await writer.WriteAsync(connection, tx, clearing, ct);
        }
        // Each batch is what the ledger says its merchant is owed for the day, to the cent.
        var owed = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var read = await Sql(connection, tx,
                         """
                         SELECT l.account_id, sum(l.amount_minor)::bigint FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.entry_id
                         WHERE e.settlement_date = $1 AND e.kind <> 'payout' AND e.merchant_id IS NOT NULL AND l.account_id LIKE 'merchant:%'
                         GROUP BY l.account_id
                         """, date).ExecuteReaderAsync(ct))
        {
            while (await read.ReadAsync(ct))
            {
                owed[read.GetString(0)] = -read.GetInt64(1);
            }
        }
        foreach (var batch in batches)
        {
            Invariant.Holds(owed.GetValueOrDefault(PostingRules.MerchantPayable(batch.MerchantId, batch.Currency)) == batch.NetPayableMinor,
                $"the batch of {batch.MerchantId} for {batch.SettlementDate} equals its ledger movement");
            batch.BatchId = (long)(await Sql(connection, tx,
                """
                INSERT INTO batches (settlement_date, merchant_id, currency, gross_sales_minor, refunds_minor, fees_minor, adjustments_minor, net_payable_minor,
                                     transactions, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING batch_id
                """, date, batch.MerchantId, batch.Currency, batch.GrossSalesMinor, batch.RefundsMinor, batch.FeesMinor, batch.AdjustmentsMinor,
                batch.NetPayableMinor, batch.Transactions, now).ExecuteScalarAsync(ct))!;
        }
        await Sql(connection, tx,
            """
            WITH moved AS (
                SELECT l.account_id, sum(l.amount_minor) AS net FROM journal_lines l JOIN journal_entries e ON e.entry_id = l.entry_id
                WHERE e.settlement_date = $1 AND (l.account_id LIKE 'issuer:%' OR l.account_id LIKE 'platform:interbank-clearing:%')
                GROUP BY l.account_id),
            positions AS (
                INSERT INTO issuer_positions (settlement_date, issuer_id, currency, net_minor)
                SELECT $1, split_part(account_id, ':', 2), split_part(account_id, ':', 4), net FROM moved WHERE account_id LIKE 'issuer:%')
            INSERT INTO clearing_differences (settlement_date, currency, amount_minor)
            SELECT $1, split_part(account_id, ':', 3), net FROM moved WHERE account_id LIKE 'platform:interbank-clearing:%'
            """, date).ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        // The day's files come with the close (made once; a failure here leaves them to be made on first download).
        foreach (var merchantId in batches.Select(b => b.MerchantId).Distinct(StringComparer.Ordinal))
        {
            await files.GetAsync(merchantId, date, Reconciliation.ReconciliationFiles.Detail, ct);
            await files.GetAsync(merchantId, date, Reconciliation.ReconciliationFiles.Totals, ct);
        }
        // The payment instruction file too: made once; a failure here leaves it to the next close of the date (the auto-closer's, or the operator's).
        await payouts.InstructAsync(date, ct);
        logger.LogInformation("Settlement date {Date} closed: {Batches} merchant batches and their files", Text(date), batches.Count);
        return await StoredAsync(date, alreadyClosed: false, ct);
    }

    /// <summary>
    /// The switch's side of the date, taken in up to the end of its business day first; refused while
    /// the day's last authorizations are too recent to have settled, or the switch cannot be asked.
    /// </summary>
    private async Task TakeInTheSwitchsDayAsync(DateOnly date, CancellationToken ct)
    {
        bool caughtUp;
        try
        {
            caughtUp = await interbank.CatchUpAsync(calendar.EndOf(date), ct);
        }
        catch (RpcException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"the switch's authorizations of {Text(date)} could not be taken in ({ex.Status.StatusCode}: {ex.Status.Detail}); nothing was closed"));
        }
        if (!caughtUp)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"the switch's authorizations up to {calendar.EndOf(date):yyyy-MM-dd HH:mm:ss zzz} have not all settled yet; close {Text(date)} again shortly"));
        }
    }

    public async Task<CloseDayReply> StoredAsync(DateOnly date, bool alreadyClosed, CancellationToken ct)
    {
        var reply = new CloseDayReply { AlreadyClosed = alreadyClosed };
        reply.Batches.AddRange(await BatchesAsync(date, null, ct));
        await using var stored = db.CreateBatch();
        stored.BatchCommands.Add(BatchSql.Command("SELECT issuer_id, currency, net_minor FROM issuer_positions WHERE settlement_date = $1 ORDER BY 1, 2", date));
        stored.BatchCommands.Add(BatchSql.Command("SELECT currency, amount_minor FROM clearing_differences WHERE settlement_date = $1 ORDER BY 1", date));
        await using var row = await stored.ExecuteReaderAsync(ct);
        while (await row.ReadAsync(ct))
        {
            reply.IssuerPositions.Add(new IssuerPosition { SettlementDate = Text(date), IssuerId = row.GetString(0), Currency = row.GetString(1), NetMinor = row.GetInt64(2) });
        }
        await row.NextResultAsync(ct);
        while (await row.ReadAsync(ct))
        {
            reply.ClearingDifferences.Add(new ClearingDifference { Currency = row.GetString(0), AmountMinor = row.GetInt64(1) });
        }
        return reply;
    }

    public async Task<Batch?> BatchAsync(long batchId, CancellationToken ct) => (await BatchesAsync(null, null, ct, batchId)).SingleOrDefault();

    public async Task<List<Batch>> BatchesAsync(DateOnly? date, string? merchantId, CancellationToken ct, long? batchId = null)
    {
        await using var find = db.CreateCommand(
            $"""
            SELECT {BatchColumns} FROM batches WHERE ($1::date IS NULL OR settlement_date = $1) AND ($2::text IS NULL OR merchant_id = $2)
                AND ($3::bigint IS NULL OR batch_id = $3) ORDER BY settlement_date, merchant_id LIMIT 1000
            """);
        find.Parameters.Add(new NpgsqlParameter { Value = (object?)date ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        find.Parameters.Add(new NpgsqlParameter { Value = (object?)merchantId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        find.Parameters.Add(new NpgsqlParameter { Value = (object?)batchId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        await using var row = await find.ExecuteReaderAsync(ct);
        var batches = new List<Batch>();
        while (await row.ReadAsync(ct))
        {
            batches.Add(new Batch
            {
                BatchId = row.GetInt64(0),
                SettlementDate = Text(row.GetFieldValue<DateOnly>(1)),
                MerchantId = row.GetString(2),
                Currency = row.GetString(3),
                GrossSalesMinor = row.GetInt64(4),
                RefundsMinor = row.GetInt64(5),
                FeesMinor = row.GetInt64(6),
                AdjustmentsMinor = row.GetInt64(7),
                NetPayableMinor = row.GetInt64(8),
                Transactions = row.GetInt32(9),
                FundStatus = row.GetString(10),
                PayoutReference = row.GetString(11),
                FundReason = row.GetString(12),
                Reference = Payouts.PayoutInstructions.BatchReference(row.GetFieldValue<DateOnly>(1), row.GetInt64(0)),
            });
        }
        return batches;
    }

    /// <summary>
    /// Records a batch's payout by hand (a pending batch, or one the bank rejected): paid, and the merchant's payable settled in
    /// cash. Recording it again changes nothing; a batch on a payment file the bank has not answered is left to the bank's report.
    /// </summary>
    public async Task<Batch?> RecordPayoutAsync(long batchId, string reference, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock_shared($1)", LedgerLockKey).ExecuteNonQueryAsync(ct);
        (string MerchantId, string Currency, long Net)? paid = null;
        await using (var update = await Sql(connection, tx,
                         """
                         UPDATE batches SET fund_status = 'paid', payout_reference = $2, paid_at = $3, fund_reason = NULL WHERE batch_id = $1 AND fund_status IN ('pending', 'rejected')
                         RETURNING merchant_id, currency, net_payable_minor
                         """, batchId, reference, now).ExecuteReaderAsync(ct))
        {
            if (await update.ReadAsync(ct))
            {
                paid = (update.GetString(0), update.GetString(1), update.GetInt64(2));
            }
        }
        if (paid is { } batch)
        {
            await writer.BookPayoutAsync(connection, tx, batchId, batch.MerchantId, batch.Currency, batch.Net, reference, now, ct);
        }
        await tx.CommitAsync(ct);
        return await BatchAsync(batchId, ct);
    }

    public static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
