using Aspire.Hosting.Testing;
using Npgsql;

namespace Mesh.Load;

/// <summary>
/// Every order the generator saw paid is paid, once, at each store that keeps it, and no other is:
/// the gateway's orders, the switch's approved 0200s, the issuers' debits and the ledger's
/// purchases, compared order by order once the gateway's outbox has drained (a count hides a lost
/// order behind a doubled one). Switch and issuers know a purchase by its STAN and transmission
/// time; the gateway's payments say which order each one paid. Then the refunds the generator saw
/// succeed, the money at the issuers, and the merchants' notifications.
/// </summary>
public static class Durability
{
    private const int ExamplesShown = 3;
    private const int DrainPollsMax = 120;
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(500);
    private static readonly string[] IssuerSchemas = ["bank_01020000", "bank_01050000"];

    /// <summary>Prints each store's missing and extra orders, then one verdict; true when every check passed.</summary>
    public static async Task<bool> CheckAsync(BenchmarkPlatform platform, string[] merchantIds, Purchases work, Func<long> merchantsTold)
    {
        var app = platform.App;
        async Task<List<T>> ReadAsync<T>(string database, string sql, Func<NpgsqlDataReader, T> row, params object[] values)
        {
            await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync(database));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<T>();
            while (await reader.ReadAsync())
            {
                rows.Add(row(reader));
            }
            return rows;
        }
        async Task<long> CountAsync(string database, string sql) => (await ReadAsync(database, sql, r => r.GetInt64(0), (object)merchantIds))[0];

        // The outbox drained: every settlement row taken by the ledger, every notification delivered (or given up, which the owed count below shows).
        const string Undrained = "SELECT count(*) FROM outbox WHERE merchant_id = ANY($1) AND delivered_at IS NULL AND superseded_at IS NULL AND given_up_at IS NULL";
        for (var poll = 0; poll < DrainPollsMax && await CountAsync("gatewaydb", Undrained) > 0; poll++)
        {
            await Task.Delay(DrainPoll);
        }

        var seenPaid = work.SeenPaid.ToHashSet();
        var seenRefunds = work.SeenRefundedMinor;
        // A payment's STAN and transmission time name its order; a declined or reversed one too, so a stray approval still shows which order it was.
        // A held order's capture is its sale: the completion (a 0200) and the bank's debit carry the capture's STAN.
        var orderOfMessage = (await ReadAsync("gatewaydb",
            """
            SELECT stan, transmission, merchant_id, order_id FROM payments WHERE merchant_id = ANY($1)
            UNION ALL SELECT stan, transmission, merchant_id, order_id FROM hold_actions WHERE merchant_id = ANY($1)
            """,
            r => (Message: (r.GetString(0), r.GetString(1)), Order: new OrderKey(r.GetString(2), r.GetString(3))), (object)merchantIds))
            .ToDictionary(p => p.Message, p => p.Order);
        OrderKey OrderOf((string Stan, string Transmission) message) =>
            orderOfMessage.TryGetValue(message, out var order) ? order : new OrderKey("no gateway payment", $"STAN {message.Stan} at {message.Transmission}");

        // A refunded order stays 'paid' (refunded_minor counts it); a voided one was paid.
        var gateway = await ReadAsync("gatewaydb", "SELECT merchant_id, order_id FROM orders WHERE merchant_id = ANY($1) AND status IN ('paid', 'voided')",
            r => new OrderKey(r.GetString(0), r.GetString(1)), (object)merchantIds);
        // An approval later reversed (0420) paid nothing.
        var switchApproved = (await ReadAsync("switchdb",
            """
            SELECT a.stan, a.transmission FROM authorizations a
            WHERE a.mti = '0200' AND a.response_code = '00'
              AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.acquirer_id = a.acquirer_id AND r.stan = a.stan AND r.transmission = a.transmission AND r.advice_mti = '0420')
            """, r => (r.GetString(0), r.GetString(1)))).Select(OrderOf).ToList();
        var postings = string.Join(" UNION ALL ", IssuerSchemas.Select(schema => $"SELECT kind, acquirer_id, stan, transmission FROM {schema}.postings"));
        var issuerDebited = (await ReadAsync("issuerdb",
            $"""
            WITH p AS ({postings})
            SELECT d.stan, d.transmission FROM p d
            WHERE d.kind = 'debit'
              AND NOT EXISTS (SELECT 1 FROM p r WHERE r.kind = 'reversal' AND r.acquirer_id = d.acquirer_id AND r.stan = d.stan AND r.transmission = d.transmission)
            """, r => (r.GetString(0), r.GetString(1)))).Select(OrderOf).ToList();
        var ledger = await ReadAsync("settlementdb",
            """
            SELECT e.merchant_id, e.order_id FROM journal_entries e
            WHERE e.merchant_id = ANY($1) AND e.kind = 'purchase'
              AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.kind = 'reversal' AND r.original_entry_id = e.entry_id)
            """, r => new OrderKey(r.GetString(0), r.GetString(1)), (object)merchantIds);
        var gatewayRefunds = await ReadAsync("gatewaydb", "SELECT merchant_id, refund_id FROM refunds WHERE merchant_id = ANY($1) AND kind = 'refund' AND status = 'succeeded'",
            r => new RefundKey(r.GetString(0), r.GetString(1)), (object)merchantIds);

        var (issuerNet, issuerHeld) = (await ReadAsync("issuerdb",
            $"""
            SELECT coalesce(sum(balance_delta_minor), 0)::bigint, coalesce(sum(held_delta_minor), 0)::bigint
            FROM ({string.Join(" UNION ALL ", IssuerSchemas.Select(s => $"SELECT * FROM {s}.postings"))}) p
            """,
            r => (r.GetInt64(0), r.GetInt64(1))))[0];
        var expectedIssuerNet = -(seenPaid.Count * Purchases.AmountMinor) + seenRefunds.Values.Sum() + (work.SeenVoided.Count * Purchases.AmountMinor);

        const string Owed = "SELECT count(*) FROM outbox WHERE merchant_id = ANY($1) AND topic = 'notification' AND delivered_at IS NULL AND superseded_at IS NULL";
        var owed = await CountAsync("gatewaydb", Owed);
        var delivered = await CountAsync("gatewaydb", "SELECT count(*) FROM outbox WHERE merchant_id = ANY($1) AND topic = 'notification' AND delivered_at IS NOT NULL");
        var told = merchantsTold();

        Console.WriteLine();
        Console.WriteLine("== durability, order by order (whole run, warm-up included)");
        Console.WriteLine($"the generator saw {seenPaid.Count} orders paid ({work.SeenVoided.Count} of them then voided) and {seenRefunds.Count} refunds succeed ({seenRefunds.Values.Sum()} minor units)");
        var failed = new List<string>();
        void Compare<T>(string store, HashSet<T> seen, IReadOnlyList<T> found) where T : notnull
        {
            var foundOnce = found.ToHashSet();
            var missing = seen.Where(k => !foundOnce.Contains(k)).ToList();
            var extra = foundOnce.Where(k => !seen.Contains(k)).ToList();
            var twice = found.Count - foundOnce.Count;
            Console.WriteLine($"  {store,-26} {found.Count,7}: missing {missing.Count}{Examples(missing)}, extra {extra.Count}{Examples(extra)}, more than once {twice}");
            if (missing.Count > 0 || extra.Count > 0 || twice > 0)
            {
                failed.Add(store);
            }
        }
        Compare("gateway orders paid", seenPaid, gateway);
        Compare("switch approved 0200s", seenPaid, switchApproved);
        Compare("issuers' debits", seenPaid, issuerDebited);
        // A void is booked as the purchase's reversal: the ledger keeps the sales not voided.
        Compare("ledger purchases", seenPaid.Except(work.SeenVoided).ToHashSet(), ledger);
        Compare("gateway refunds succeeded", seenRefunds.Keys.ToHashSet(), gatewayRefunds);
        Console.WriteLine($"issuers' postings net {issuerNet} minor units; −(seen paid − seen voided) × {Purchases.AmountMinor} + seen refunded = {expectedIssuerNet}");
        if (issuerNet != expectedIssuerNet)
        {
            failed.Add("issuers' money");
        }
        var expectedHeld = work.HeldNotCaptured * Purchases.AmountMinor;
        Console.WriteLine($"issuers' holds {issuerHeld} minor units; holds seen authorized and not captured × {Purchases.AmountMinor} = {expectedHeld}");
        if (issuerHeld != expectedHeld)
        {
            failed.Add("issuers' holds");
        }
        Console.WriteLine($"notifications delivered {delivered}, verified by the merchants' SDK endpoint {told}, still owed {owed}");
        if (owed > 0 || told < delivered)
        {
            failed.Add("notifications");
        }
        Console.WriteLine(failed.Count == 0
            ? "every check passed: each order seen paid is paid once at gateway, switch, issuers and ledger, no other is; refunds, money and notifications agree"
            : $"MISMATCH: {string.Join(", ", failed)}");
        return failed.Count == 0;
    }

    private static string Examples<T>(IEnumerable<T> keys) =>
        keys.Select(k => $"{k}").Order(StringComparer.Ordinal).Take(ExamplesShown).ToList() is { Count: > 0 } shown ? $" (e.g. {string.Join(", ", shown)})" : "";
}
