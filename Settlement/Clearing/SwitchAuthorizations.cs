using Mesh.Contracts.Switch;
using Mesh.ServiceDefaults.Safety;

namespace Mesh.Settlement.Clearing;

/// <summary>
/// The switch's authorizations of a time window, read page by page (the earliest first): a page
/// that was cut short ends before the last millisecond it reached, which the next page starts at,
/// so no record is skipped and none is read twice.
/// </summary>
public static class SwitchAuthorizations
{
    public const int PageMax = 20_000;

    /// <summary>The records received in [from, to), at most about <paramref name="limit"/>, and where the next page starts (null: the window is done).</summary>
    public static async Task<(List<SwitchRecord> Records, DateTimeOffset? NextFrom)> PageAsync(CardSwitch.CardSwitchClient cardSwitch, DateTimeOffset from,
        DateTimeOffset to, int limit, CancellationToken ct)
    {
        var listed = await cardSwitch.ListAuthorizationsAsync(new ListAuthorizationsRequest
        {
            FromUnixMs = from.ToUnixTimeMilliseconds(),
            ToUnixMs = to.ToUnixTimeMilliseconds(),
            Limit = limit,
        }, cancellationToken: ct);
        var records = listed.Records.ToList();
        if (!listed.Truncated)
        {
            return (records, null);
        }
        var lastMs = records[^1].ReceivedAtUnixMs;
        var next = DateTimeOffset.FromUnixTimeMilliseconds(lastMs);
        Invariant.Holds(next > from, "a page cut short still moves forward");
        records.RemoveAll(r => r.ReceivedAtUnixMs >= lastMs);
        return (records, next);
    }

    /// <summary>Every record received in [from, to), page by page.</summary>
    public static async Task<List<SwitchRecord>> AllAsync(CardSwitch.CardSwitchClient cardSwitch, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var all = new List<SwitchRecord>();
        for (DateTimeOffset? next = from; next is { } start;)
        {
            var (records, nextFrom) = await PageAsync(cardSwitch, start, to, PageMax, ct);
            all.AddRange(records);
            next = nextFrom;
        }
        return all;
    }
}
