using Mesh.Contracts.Settlement;
using Mesh.Settlement.Metrics;
using Npgsql;

namespace Mesh.Settlement.Ledger;

/// <summary>
/// The ledger's audit: every entry has two lines or more summing to zero, every line belongs to an
/// entry and an account, every cached balance equals the sum of its account's lines, and all lines
/// together sum to zero. What it found goes to <see cref="LedgerMetrics"/>, for the alert on a
/// ledger that does not balance.
/// </summary>
public sealed class LedgerVerifier(NpgsqlDataSource db, LedgerMetrics metrics)
{
    public const int ProblemsListedMax = 50;

    public async Task<VerifyLedgerReply> VerifyAsync(CancellationToken ct)
    {
        var reply = new VerifyLedgerReply();
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT 'entry ' || entry_id || ' sums to ' || sum(amount_minor) || ' over ' || count(*) || ' lines' FROM journal_lines GROUP BY entry_id HAVING sum(amount_minor) <> 0 OR count(*) < 2 LIMIT {ProblemsListedMax}"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            SELECT 'line ' || l.entry_id || '/' || l.line_no || CASE WHEN e.entry_id IS NULL THEN ' has no entry' ELSE ' names no account ' || l.account_id END
            FROM journal_lines l LEFT JOIN journal_entries e ON e.entry_id = l.entry_id LEFT JOIN accounts a ON a.account_id = l.account_id
            WHERE e.entry_id IS NULL OR a.account_id IS NULL LIMIT {ProblemsListedMax}
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            SELECT 'account ' || a.account_id || ' caches ' || a.balance_minor || ' but its lines sum to ' || coalesce(l.total, 0)
            FROM accounts a LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM journal_lines GROUP BY account_id) l ON l.account_id = a.account_id
            WHERE a.balance_minor <> coalesce(l.total, 0) LIMIT {ProblemsListedMax}
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT coalesce(sum(amount_minor), 0)::bigint, (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM accounts) FROM journal_lines"));
        await using var row = await batch.ExecuteReaderAsync(ct);
        for (var result = 0; result < 3; result++)
        {
            while (await row.ReadAsync(ct))
            {
                reply.Problems.Add(row.GetString(0));
            }
            await row.NextResultAsync(ct);
        }
        await row.ReadAsync(ct);
        reply.LedgerSumMinor = row.GetInt64(0);
        reply.Entries = row.GetInt64(1);
        reply.Accounts = row.GetInt64(2);
        if (reply.LedgerSumMinor != 0)
        {
            reply.Problems.Add($"the ledger sums to {reply.LedgerSumMinor}, not zero");
        }
        reply.Ok = reply.Problems.Count == 0;
        metrics.Verified(reply.Problems.Count, reply.LedgerSumMinor);
        return reply;
    }
}
