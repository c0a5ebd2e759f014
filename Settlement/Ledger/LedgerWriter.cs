using System.Diagnostics;
using Mesh.Contracts.Settlement;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Safety;
using Mesh.Settlement.Metrics;
using Npgsql;

namespace Mesh.Settlement.Ledger;

/// <summary>An entry about to be written, with its lines.</summary>
public sealed record PlannedEntry(string TransactionId, string Kind, DateOnly SettlementDate, string? MerchantId, string? OrderId, string? IssuerId,
    long AmountMinor, long FeeMinor, string Currency, string? PanMasked, string? Rrn, string? Stan, DateTimeOffset OccurredAt, Line[] Lines)
{
    /// <summary>ISO 8583 field 7 of the message that moved the money (with the STAN, its key at the switch and the bank).</summary>
    public string? Transmission { get; init; }

    public long EntryId { get; set; }

    /// <summary>The purchase a reversal takes back (in the ledger already, or earlier in the same batch).</summary>
    public PlannedEntry? Original { get; init; }
}

/// <summary>
/// Writes movements into the ledger, a batch per transaction: duplicates (by transaction id) are
/// skipped; each event becomes an entry whose lines sum to zero (checked here and by the
/// database); accounts are opened on first use and their cached balances moved in the same
/// transaction. Writers share the ledger lock that closing a day takes alone, so no entry slips
/// into a date while it closes; an event whose date is closed goes to the first open date.
/// </summary>
public sealed class LedgerWriter(NpgsqlDataSource db, SettlementCalendar calendar, LedgerMetrics metrics, TimeProvider time)
{
    public const long LedgerLockKey = 0x4D45_5348_4C45_4447; // "MESHLEDG"
    public const string Purchase = "purchase";
    public const string Refund = "refund";
    public const string Reversal = "reversal";
    public const string InterbankPurchase = "interbank_purchase";
    public const string InterbankRefund = "interbank_refund";

    /// <summary>The ledger's spans: one per posted event, in the trace of the payment that moved the money.</summary>
    public static readonly ActivitySource Telemetry = new("Mesh.Settlement");

    public async Task<RecordReply> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        var spans = PaymentSpans(events);
        try
        {
            return await PostAsync(events, ct);
        }
        finally
        {
            var current = Activity.Current;
            foreach (var span in spans)
            {
                span.Dispose();
            }
            Activity.Current = current;
        }
    }

    /// <summary>
    /// A "ledger post …" span per event that carries its payment's traceparent, as a child of that
    /// payment's trace (the batch's own request span stays the current one).
    /// </summary>
    private static List<Activity> PaymentSpans(IReadOnlyList<LedgerEvent> events)
    {
        var spans = new List<Activity>();
        var current = Activity.Current;
        foreach (var e in events)
        {
            if (ActivityContext.TryParse(e.Traceparent, null, out var payment)
                && Telemetry.StartActivity($"ledger post {e.Kind}", ActivityKind.Consumer, payment) is { } span)
            {
                span.SetTag("mesh.transaction_id", e.TransactionId).SetTag("mesh.merchant_id", e.MerchantId).SetTag("mesh.order_id", e.OrderId)
                    .SetTag("mesh.amount_minor", e.AmountMinor).SetTag("mesh.currency", e.Currency);
                spans.Add(span);
            }
        }
        Activity.Current = current;
        return spans;
    }

    private async Task<RecordReply> PostAsync(IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        var reply = new RecordReply();
        await KeepPayoutAccountsAsync(events, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Sql(connection, tx, "SELECT pg_advisory_xact_lock_shared($1)", LedgerLockKey).ExecuteNonQueryAsync(ct);
        var firstOpen = await FirstOpenDateAsync(connection, tx, ct);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await using (var existing = await Sql(connection, tx, "SELECT transaction_id FROM journal_entries WHERE transaction_id = ANY($1)",
                         (object)events.Select(e => e.TransactionId).Distinct().ToArray()).ExecuteReaderAsync(ct))
        {
            while (await existing.ReadAsync(ct))
            {
                seen.Add(existing.GetString(0));
            }
        }
        var originals = await OriginalsAsync(connection, tx, events.Where(e => e.Kind == Reversal).ToList(), ct);
        var planned = new List<PlannedEntry>();
        foreach (var e in events)
        {
            if (!seen.Add(e.TransactionId))
            {
                reply.Duplicates++;
                continue;
            }
            var occurredAt = DateTimeOffset.FromUnixTimeMilliseconds(e.OccurredAtUnixMs);
            var date = calendar.DateOf(occurredAt);
            date = date < firstOpen ? firstOpen : date;
            PlannedEntry? entry = e.Kind switch
            {
                Purchase when e.Status == "paid" => PurchaseEntry(e, date, occurredAt),
                Refund when e.Status == "succeeded" => Entry(e, Refund, date, occurredAt, 0, null, PostingRules.Refund(e.Currency, e.AmountMinor)),
                Reversal => ReversalEntry(e, date, occurredAt, originals),
                InterbankPurchase => Entry(e, InterbankPurchase, date, occurredAt, 0, null, PostingRules.InterbankPurchase(e.IssuerId, e.Currency, e.AmountMinor)),
                InterbankRefund => Entry(e, InterbankRefund, date, occurredAt, 0, null, PostingRules.InterbankRefund(e.IssuerId, e.Currency, e.AmountMinor)),
                _ => null,
            };
            if (entry is null)
            {
                reply.WithoutEntry++;
                continue;
            }
            Invariant.Holds(entry.Lines.Sum(l => l.AmountMinor) == 0 && entry.Lines.Length >= 2, "a journal entry's lines sum to zero");
            if (entry.Kind == Purchase)
            {
                originals[(e.MerchantId, e.OrderId)] = entry;
            }
            planned.Add(entry);
        }
        if (planned.Count > 0)
        {
            await WriteAsync(connection, tx, planned, ct);
        }
        await tx.CommitAsync(ct);
        reply.Posted = planned.Count;
        foreach (var entry in planned)
        {
            metrics.Posted(entry.Kind, entry.Currency, entry.Lines.Length, entry.AmountMinor);
        }
        metrics.Duplicates(reply.Duplicates);
        return reply;
    }

    /// <summary>
    /// The merchants' settlement accounts the events carry, kept where they are new or changed (read
    /// first, so that the usual batch writes nothing and holds no row lock).
    /// </summary>
    private async Task KeepPayoutAccountsAsync(IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        var carried = new SortedDictionary<string, (string Account, string Bank)>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.MerchantId.Length > 0 && e.PayoutAccount.Length > 0))
        {
            carried[e.MerchantId] = (e.PayoutAccount, e.PayoutBank);
        }
        if (carried.Count == 0)
        {
            return;
        }
        await using (var known = db.CreateCommand("SELECT merchant_id, account, bank_bic FROM merchant_payout_accounts WHERE merchant_id = ANY($1)"))
        {
            BatchSql.Bind(known, (object)carried.Keys.ToArray());
            await using var row = await known.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                if (carried[row.GetString(0)] == (row.GetString(1), row.GetString(2)))
                {
                    carried.Remove(row.GetString(0));
                }
            }
        }
        if (carried.Count == 0)
        {
            return;
        }
        await using var keep = db.CreateCommand(
            """
            INSERT INTO merchant_payout_accounts (merchant_id, account, bank_bic, updated_at) SELECT *, $4 FROM unnest($1::text[], $2::text[], $3::text[])
            ON CONFLICT (merchant_id) DO UPDATE SET account = excluded.account, bank_bic = excluded.bank_bic, updated_at = excluded.updated_at
            """);
        await BatchSql.Bind(keep, carried.Keys.ToArray(), carried.Values.Select(v => v.Account).ToArray(), carried.Values.Select(v => v.Bank).ToArray(),
            time.GetUtcNow()).ExecuteNonQueryAsync(ct);
    }

    private PlannedEntry PurchaseEntry(LedgerEvent e, DateOnly date, DateTimeOffset occurredAt)
    {
        var fee = PostingRules.Fee(e.AmountMinor, e.FeeRatePpm, e.FeeMinimumMinor);
        return Entry(e, Purchase, date, occurredAt, fee, null, PostingRules.Purchase(e.MerchantId, e.Currency, e.AmountMinor, fee));
    }

    /// <summary>The purchase's lines negated; without a purchase on the books, the money waits in suspense for operators.</summary>
    private static PlannedEntry ReversalEntry(LedgerEvent e, DateOnly date, DateTimeOffset occurredAt, Dictionary<(string, string), PlannedEntry> originals)
    {
        if (originals.TryGetValue((e.MerchantId, e.OrderId), out var original))
        {
            return Entry(e, Reversal, date, occurredAt, original.FeeMinor, original, PostingRules.Reversal(original.Lines)) with { AmountMinor = original.AmountMinor };
        }
        return Entry(e, Reversal, date, occurredAt, 0, null, PostingRules.UnmatchedReversal(e.Currency, e.AmountMinor));
    }

    private static PlannedEntry Entry(LedgerEvent e, string kind, DateOnly date, DateTimeOffset occurredAt, long fee, PlannedEntry? original, Line[] lines) =>
        new(e.TransactionId, kind, date, Blank(e.MerchantId), Blank(e.OrderId), e.IssuerId, e.AmountMinor, fee, e.Currency, Blank(e.PanMasked), Blank(e.Rrn),
            Blank(e.Stan), occurredAt, lines.Where(l => l.AmountMinor != 0).ToArray())
        {
            Original = original,
            Transmission = Blank(e.Transmission),
        };

    /// <summary>The purchases (already in the ledger) that reversals take back, by merchant and order.</summary>
    private static async Task<Dictionary<(string, string), PlannedEntry>> OriginalsAsync(NpgsqlConnection connection, NpgsqlTransaction tx,
        List<LedgerEvent> reversals, CancellationToken ct)
    {
        var found = new Dictionary<(string, string), PlannedEntry>();
        if (reversals.Count == 0)
        {
            return found;
        }
        await using var read = await Sql(connection, tx,
            """
            SELECT e.entry_id, e.merchant_id, e.order_id, e.settlement_date, e.amount_minor, e.fee_minor, e.currency, e.transaction_id, l.account_id, l.amount_minor
            FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.entry_id
            WHERE e.kind = 'purchase' AND (e.merchant_id, e.order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            ORDER BY e.entry_id, l.line_no
            """, reversals.Select(r => r.MerchantId).ToArray(), reversals.Select(r => r.OrderId).ToArray()).ExecuteReaderAsync(ct);
        var lines = new Dictionary<long, List<Line>>();
        while (await read.ReadAsync(ct))
        {
            var entryId = read.GetInt64(0);
            if (!lines.TryGetValue(entryId, out var list))
            {
                lines[entryId] = list = [];
                found[(read.GetString(1), read.GetString(2))] = new PlannedEntry(read.GetString(7), Purchase, read.GetFieldValue<DateOnly>(3), read.GetString(1),
                    read.GetString(2), null, read.GetInt64(4), read.GetInt64(5), read.GetString(6), null, null, null, default, [])
                {
                    EntryId = entryId,
                };
            }
            list.Add(new Line(read.GetString(8), read.GetInt64(9)));
        }
        foreach (var key in found.Keys.ToList())
        {
            found[key] = found[key] with { Lines = [.. lines[found[key].EntryId]] };
        }
        return found;
    }

    /// <summary>Writes planned entries, their lines and the balances they move, inside the caller's transaction.</summary>
    public async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<PlannedEntry> planned, CancellationToken ct)
    {
        await using (var ids = await Sql(connection, tx, "SELECT nextval(pg_get_serial_sequence('journal_entries', 'entry_id')) FROM generate_series(1, $1)",
                         planned.Count).ExecuteReaderAsync(ct))
        {
            foreach (var entry in planned)
            {
                await ids.ReadAsync(ct);
                entry.EntryId = ids.GetInt64(0);
            }
        }
        var lines = planned.SelectMany(p => p.Lines.Select((l, i) => (p.EntryId, LineNo: (short)(i + 1), l.AccountId, l.AmountMinor))).ToList();
        var accounts = lines.Select(l => l.AccountId).Distinct(StringComparer.Ordinal).ToArray();
        var now = time.GetUtcNow();
        await Sql(connection, tx,
            """
            INSERT INTO accounts (account_id, kind, currency, created_at)
            SELECT a, k, split_part(a, ':', -1), $3 FROM unnest($1::text[], $2::text[]) u(a, k) ON CONFLICT DO NOTHING
            """, accounts, accounts.Select(PostingRules.KindOf).ToArray(), now).ExecuteNonQueryAsync(ct);
        await Sql(connection, tx,
            """
            INSERT INTO journal_entries (entry_id, transaction_id, kind, settlement_date, merchant_id, order_id, issuer_id, amount_minor, fee_minor, currency,
                                         pan_masked, rrn, stan, original_entry_id, occurred_at, transmission, recorded_at)
            OVERRIDING SYSTEM VALUE
            SELECT *, $17 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                                      $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::timestamptz[], $16::text[])
            """,
            planned.Select(p => p.EntryId).ToArray(), planned.Select(p => p.TransactionId).ToArray(), planned.Select(p => p.Kind).ToArray(),
            planned.Select(p => p.SettlementDate).ToArray(), planned.Select(p => p.MerchantId).ToArray(), planned.Select(p => p.OrderId).ToArray(),
            planned.Select(p => p.IssuerId).ToArray(), planned.Select(p => p.AmountMinor).ToArray(), planned.Select(p => p.FeeMinor).ToArray(),
            planned.Select(p => p.Currency).ToArray(), planned.Select(p => p.PanMasked).ToArray(), planned.Select(p => p.Rrn).ToArray(),
            planned.Select(p => p.Stan).ToArray(), planned.Select(p => p.Original?.EntryId).ToArray(),
            planned.Select(p => p.OccurredAt.ToUniversalTime()).ToArray(), planned.Select(p => p.Transmission).ToArray(), now).ExecuteNonQueryAsync(ct);
        await Sql(connection, tx,
            "INSERT INTO journal_lines (entry_id, line_no, account_id, amount_minor) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::bigint[])",
            lines.Select(l => l.EntryId).ToArray(), lines.Select(l => l.LineNo).ToArray(), lines.Select(l => l.AccountId).ToArray(),
            lines.Select(l => l.AmountMinor).ToArray()).ExecuteNonQueryAsync(ct);
        var deltas = lines.GroupBy(l => l.AccountId, StringComparer.Ordinal).Select(g => (Account: g.Key, Delta: g.Sum(l => l.AmountMinor)))
            .OrderBy(d => d.Account, StringComparer.Ordinal).ToList();
        await Sql(connection, tx,
            """
            UPDATE accounts a SET balance_minor = a.balance_minor + d.delta
            FROM unnest($1::text[], $2::bigint[]) d(account_id, delta) WHERE a.account_id = d.account_id
            """, deltas.Select(d => d.Account).ToArray(), deltas.Select(d => d.Delta).ToArray()).ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// A batch's payout, inside the caller's transaction: the merchant's payable settled in cash under <paramref name="reference"/>,
    /// on today's settlement date (or the first open one). A zero batch moves no money.
    /// </summary>
    public async Task BookPayoutAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long batchId, string merchantId, string currency, long netMinor,
        string reference, DateTimeOffset now, CancellationToken ct)
    {
        if (netMinor == 0)
        {
            return;
        }
        var open = await FirstOpenDateAsync(connection, tx, ct);
        var date = calendar.DateOf(now) < open ? open : calendar.DateOf(now);
        var payout = new PlannedEntry($"payout:{batchId}", "payout", date, merchantId, null, null, netMinor, 0, currency, null, reference, null, now,
            PostingRules.Payout(merchantId, currency, netMinor));
        Invariant.Holds(payout.Lines.Sum(l => l.AmountMinor) == 0, "a payout's lines sum to zero");
        await WriteAsync(connection, tx, [payout], ct);
    }

    public static async Task<DateOnly> FirstOpenDateAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct) =>
        await Sql(connection, tx, "SELECT max(settlement_date) FROM settlement_days").ExecuteScalarAsync(ct) is DateOnly closed
            ? closed.AddDays(1)
            : DateOnly.MinValue;

    public static NpgsqlCommand Sql(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, params object?[] values) =>
        BatchSql.Bind(new NpgsqlCommand(sql, connection, tx), values);

    private static string? Blank(string value) => value.Length == 0 ? null : value;
}
