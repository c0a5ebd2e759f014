using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Settlement.Ledger;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Settlement.Reconciliation;

/// <summary>
/// A settlement date, three ways: the ledger (what the gateway recorded), the switch's
/// authorizations and the banks' postings, matched by STAN and transmission time. An approved
/// purchase is a ledger purchase, an accepted refund advice a ledger refund or reversal, and the
/// bank moved exactly that; a request the switch reversed moved nothing. Known causes are
/// resolved by rule (a reversal the bank posted after the day: <c>late_reversal</c>; one still
/// being repeated: <c>reversal_pending</c>); the rest is listed for operators.
/// </summary>
public sealed class ThreeWayReconciliation(
    NpgsqlDataSource db,
    CardSwitch.CardSwitchClient cardSwitch,
    IHttpClientFactory http,
    SettlementCalendar calendar,
    IOptions<SettlementOptions> options)
{
    public const string Approved = "00";

    private sealed record Posted(string AcquirerId, string Stan, string Transmission, long NetMinor);

    public async Task<ReconcileReply> ReconcileAsync(DateOnly date, CancellationToken ct)
    {
        var (from, to) = (calendar.EndOf(date.AddDays(-1)), calendar.EndOf(date));
        var ledger = new Dictionary<(string, string), (string Kind, long Amount)>();
        await using (var read = db.CreateCommand(
                         """
                         SELECT stan, transmission, kind, amount_minor FROM journal_entries
                         WHERE settlement_date = $1 AND stan IS NOT NULL AND transmission IS NOT NULL AND kind IN ('purchase', 'refund', 'reversal')
                         """))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = date });
            await using var row = await read.ExecuteReaderAsync(ct);
            while (await row.ReadAsync(ct))
            {
                ledger[(row.GetString(0), row.GetString(1))] = (row.GetString(2), row.GetInt64(3));
            }
        }
        var switched = await Clearing.SwitchAuthorizations.AllAsync(cardSwitch, from, to, ct);
        var posted = new Dictionary<(string, string), long>();
        foreach (var issuer in options.Value.Issuers)
        {
            using var client = http.CreateClient(issuer); // with settlement's credential at this bank
            var postings = await client.GetFromJsonAsync<List<Posted>>(
                $"http://{issuer}/admin/postings?fromUnixMs={from.ToUnixTimeMilliseconds()}&toUnixMs={to.ToUnixTimeMilliseconds()}", ct) ?? [];
            foreach (var p in postings)
            {
                posted[(p.Stan, p.Transmission)] = posted.GetValueOrDefault((p.Stan, p.Transmission)) + p.NetMinor;
            }
        }

        var reply = new ReconcileReply();
        void Flag(string kind, (string Stan, string Transmission) key, string detail, string resolvedBy = "") =>
            reply.Discrepancies.Add(new Discrepancy { Kind = kind, Stan = key.Stan, Transmission = key.Transmission, Detail = detail, ResolvedBy = resolvedBy });
        var seen = new HashSet<(string, string)>();
        foreach (var s in switched)
        {
            var key = (s.Stan, s.Transmission);
            seen.Add(key);
            var refund = s.Mti is "0220" or "0221";
            var moved = s.ResponseCode == Approved && s.Mti is "0200" or "0220" or "0221";
            var expectedAtBank = !moved ? 0 : refund ? s.AmountMinor : -s.AmountMinor;
            var atBank = posted.GetValueOrDefault(key);
            var inLedger = ledger.TryGetValue(key, out var entry);
            if (moved && !inLedger)
            {
                Flag("missing_in_ledger", key, $"{s.Mti} {s.AmountMinor} approved by {s.Issuer}, not in the ledger");
                continue;
            }
            if (!moved && inLedger)
            {
                Flag("status_mismatch", key, $"the ledger has a {entry.Kind} of {entry.Amount}; the switch answered {s.ResponseCode}");
                continue;
            }
            if (inLedger && entry.Amount != s.AmountMinor)
            {
                Flag("amount_mismatch", key, $"the ledger has {entry.Amount}, the switch {s.AmountMinor}");
                continue;
            }
            if (atBank != expectedAtBank)
            {
                if (s.Reversal == ReversalState.Acknowledged && atBank == -s.AmountMinor)
                {
                    Flag("amount_mismatch", key, "the bank debited it and reversed it after the day", "late_reversal");
                }
                else if (s.Reversal == ReversalState.Pending)
                {
                    Flag("amount_mismatch", key, "the switch is still repeating its reversal", "reversal_pending");
                }
                else
                {
                    Flag(atBank == 0 ? "missing_at_issuer" : "amount_mismatch", key, $"the bank moved {atBank}, {expectedAtBank} was expected");
                }
                continue;
            }
            reply.Matched++;
        }
        foreach (var (key, entry) in ledger.Where(l => !seen.Contains(l.Key)))
        {
            reply.Discrepancies.Add(new Discrepancy
            {
                Kind = "missing_at_switch",
                Stan = key.Item1,
                Transmission = key.Item2,
                Detail = $"a {entry.Kind} of {entry.Amount} in the ledger the switch has no record of",
            });
        }
        return reply;
    }
}
