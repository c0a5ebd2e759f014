using Grpc.Core;
using Mesh.ServiceDefaults.Background;
using Mesh.Settlement.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Settlement.Ledger;

/// <summary>When the business day closes by itself: how long after the cut-off, and how often a close that could not run is tried again.</summary>
public sealed class AutoCloseOptions
{
    public const string Section = "Settlement:AutoClose";

    public bool Enabled { get; set; } = true;

    /// <summary>A day is closed this long after its cut-off, when the switch's last authorizations have settled and come in.</summary>
    public int AfterCutoffMinutes { get; set; } = 30;

    /// <summary>A close that was refused (the switch's side not in yet) or failed is tried again after this long.</summary>
    public int RetryIntervalSeconds { get; set; } = 60;
}

/// <summary>The next settlement date to close and when it falls due.</summary>
public readonly record struct DayCloseDue(DateOnly Date, DateTimeOffset DueAt);

/// <summary>
/// Which date the auto-closer closes next: the earliest open date that has entries, or else the
/// last business day that has ended (a day with nothing in it closes too), never one closed
/// already; due <see cref="AutoCloseOptions.AfterCutoffMinutes"/> after its cut-off.
/// </summary>
public static class DayCloseSchedule
{
    public static DayCloseDue Next(DateTimeOffset now, DateOnly? lastClosed, DateOnly? earliestOpenWithEntries, SettlementCalendar calendar, TimeSpan afterCutoff)
    {
        var previous = calendar.DateOf(now).AddDays(-1);
        var date = earliestOpenWithEntries is { } first && first < previous ? first : previous;
        if (lastClosed is { } closed && date <= closed)
        {
            date = closed.AddDays(1);
        }
        return new DayCloseDue(date, calendar.EndOf(date) + afterCutoff);
    }
}

/// <summary>
/// Closes each business day by itself once it is due (<see cref="DayCloseSchedule"/>), through
/// <see cref="DayClose.CloseAsync"/>: the same preconditions as the operator's command (the
/// switch's side of the day in), tried again every <see cref="AutoCloseOptions.RetryIntervalSeconds"/>
/// until it can. Every replica runs it; the close's ledger lock and its one row per date make the
/// second replica's attempt find the day closed. How long the day has been due is a gauge
/// (<c>mesh.settlement.day_close.overdue</c>) that the alert on a late day watches.
/// </summary>
public sealed class AutoDayClose(NpgsqlDataSource db, DayClose days, SettlementCalendar calendar, IOptions<AutoCloseOptions> options, LedgerMetrics metrics,
    TimeProvider time, ILogger<AutoDayClose> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Enabled
            ? PollingLoop.RunAsync(RoundAsync, signal: null, () => TimeSpan.FromSeconds(options.Value.RetryIntervalSeconds), TimeSpan.Zero, time, logger,
                "Closing the business day", stoppingToken)
            : Task.CompletedTask;

    /// <summary>One round: the next date closed if it is due; when to look again.</summary>
    public async Task<NextRound> RoundAsync(CancellationToken ct)
    {
        var due = await NextAsync(ct);
        var now = time.GetUtcNow();
        if (now < due.DueAt)
        {
            metrics.CloseOverdue(TimeSpan.Zero);
            return NextRound.Due(due.DueAt);
        }
        try
        {
            var closed = await days.CloseAsync(due.Date, ct);
            metrics.CloseAttempted(closed.AlreadyClosed ? "already_closed" : "closed");
            metrics.CloseOverdue(TimeSpan.Zero);
            if (!closed.AlreadyClosed)
            {
                logger.LogInformation("Closed {Date} by itself, {Minutes:F0} minutes after it fell due", DayClose.Text(due.Date), (now - due.DueAt).TotalMinutes);
            }
            return NextRound.AtOnce;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            metrics.CloseAttempted("refused");
            metrics.CloseOverdue(now - due.DueAt);
            logger.LogWarning("{Date} cannot close yet, {Minutes:F0} minutes after it fell due: {Reason}", DayClose.Text(due.Date), (now - due.DueAt).TotalMinutes,
                ex.Status.Detail);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.CloseAttempted("failed");
            metrics.CloseOverdue(now - due.DueAt);
            logger.LogError(ex, "Closing {Date} failed; it is tried again in {Seconds} s", DayClose.Text(due.Date), options.Value.RetryIntervalSeconds);
        }
        return NextRound.Due(now.AddSeconds(options.Value.RetryIntervalSeconds));
    }

    public async Task<DayCloseDue> NextAsync(CancellationToken ct)
    {
        await using var read = db.CreateCommand(
            """
            WITH closed AS (SELECT max(settlement_date) AS d FROM settlement_days)
            SELECT (SELECT d FROM closed), (SELECT min(settlement_date) FROM journal_entries WHERE settlement_date > coalesce((SELECT d FROM closed), '-infinity'))
            """);
        await using var row = await read.ExecuteReaderAsync(ct);
        await row.ReadAsync(ct);
        return DayCloseSchedule.Next(time.GetUtcNow(), row.IsDBNull(0) ? null : row.GetFieldValue<DateOnly>(0), row.IsDBNull(1) ? null : row.GetFieldValue<DateOnly>(1),
            calendar, TimeSpan.FromMinutes(options.Value.AfterCutoffMinutes));
    }
}
