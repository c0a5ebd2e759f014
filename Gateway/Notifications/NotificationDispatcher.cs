using Mesh.Gateway.Metrics;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Notifications;

/// <summary>
/// Sends the notifications that are due. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c> and
/// leased (their next attempt moved past the send's timeout), so replicas share the work and never
/// send one notification twice at once; a replica that dies mid-send leaves the lease to expire.
/// After a round it sleeps until the earliest next attempt in the table (a retry, a lease, any
/// replica's), or until a writer that made one due now rings it (<see cref="Wake"/>), or the
/// fallback poll (<see cref="NotificationOptions.PollMs"/>), which finds what a writer that does
/// not ring made due.
/// </summary>
public sealed class NotificationDispatcher(
    NpgsqlDataSource db,
    NotificationSender sender,
    GatewayMetrics metrics,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    public const int SendsInParallelMax = 8;

    /// <summary>Rings for a notification made due now are taken together when they come closer than this.</summary>
    public static readonly TimeSpan RoundsApartMin = TimeSpan.FromMilliseconds(250);

    private readonly BacklogSchedule _backlog = new(time);
    private readonly WorkSignal _due = new();

    /// <summary>A notification was made due now (its row committed): the dispatcher looks at once rather than at its fallback poll.</summary>
    public void Wake() => _due.Wake();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(PassAsync, _due, () => TimeSpan.FromMilliseconds(options.Value.PollMs), RoundsApartMin, time, logger,
            "Dispatching notifications", stoppingToken);

    /// <summary>One pass: at once again when the batch was full, else when the earliest notification still owed is due.</summary>
    private async Task<NextRound> PassAsync(CancellationToken ct)
    {
        var full = await DispatchDueAsync(ct) >= options.Value.BatchSizeMax;
        await _backlog.MeasureIfDueAsync(MeasureBacklogAsync, ct);
        return full ? NextRound.AtOnce : NextRound.Due(await NextDueAsync(ct));
    }

    /// <summary>When the earliest notification still owed is due (its next attempt, or its lease's end); null when none is owed.</summary>
    public Task<DateTimeOffset?> NextDueAsync(CancellationToken ct) =>
        DueTimes.EarliestAsync(db,
            """
            SELECT min(next_attempt_at) FROM outbox
            WHERE topic = 'notification' AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL
            """, ct);

    /// <summary>Notifications owed, and how long the oldest has waited, into <see cref="GatewayMetrics"/>.</summary>
    public async Task MeasureBacklogAsync(CancellationToken ct)
    {
        var (owed, oldestAgeSeconds) = await QueueBacklog.MeasureAsync(db,
            """
            SELECT count(*), min(created_at) FROM outbox
            WHERE topic = 'notification' AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL
            """, time, ct);
        metrics.Backlog(owed, oldestAgeSeconds);
    }

    /// <summary>Claims and sends one batch of due notifications; how many were claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var claim = db.CreateCommand(
            """
            UPDATE outbox o SET next_attempt_at = $2 FROM (
                SELECT outbox_id FROM outbox
                WHERE topic = 'notification' AND delivered_at IS NULL AND given_up_at IS NULL AND superseded_at IS NULL AND next_attempt_at <= $1
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
            WHERE o.outbox_id = due.outbox_id
            RETURNING o.outbox_id
            """);
        BatchSql.Bind(claim, now, NotificationSchedule.LeaseUntil(now, options.Value.TimeoutMs), options.Value.BatchSizeMax);
        var ids = new List<long>();
        await using (var row = await claim.ExecuteReaderAsync(ct))
        {
            while (await row.ReadAsync(ct))
            {
                ids.Add(row.GetInt64(0));
            }
        }
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = SendsInParallelMax, CancellationToken = ct },
            async (id, token) => await sender.SendAsync(id, token));
        return ids.Count;
    }
}
