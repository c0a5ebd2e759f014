using System.Threading.Channels;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// Group commit: the writes of many concurrent requests go to PostgreSQL together, in one round
/// trip and one transaction (one WAL flush), and each request waits until its own writes are
/// durable. A group that fails is retried one request at a time, so one request's bad write
/// fails only that request. A bounded queue and a bounded group size keep memory and latency
/// in check; a few writers run side by side so a slow flush does not stall the rest.
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    public const int QueueMax = 4_096;
    public const int GroupCommandsMax = 512;
    public const int WritersMax = 4;

    private readonly NpgsqlDataSource _db;
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueMax)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = false,
    });
    private readonly Task[] _writers;

    public GroupCommit(NpgsqlDataSource db)
    {
        _db = db;
        _writers = Enumerable.Range(0, WritersMax).Select(_ => Task.Run(WriteAsync)).ToArray();
    }

    /// <summary>
    /// Runs the commands in one transaction with other requests' commands; returns once they are
    /// committed. Each command's <see cref="NpgsqlBatchCommand.RecordsAffected"/> then says what it did.
    /// </summary>
    public async Task ExecuteAsync(IReadOnlyList<NpgsqlBatchCommand> commands, CancellationToken ct)
    {
        Safety.Invariant.Holds(commands.Count is > 0 and <= GroupCommandsMax, "a request's writes fit in one group");
        var pending = new Pending(commands, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, ct);
        await pending.Done.Task.WaitAsync(ct);
    }

    private async Task WriteAsync()
    {
        var group = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            var commands = 0;
            while (commands < GroupCommandsMax && _queue.Reader.TryPeek(out var next) && commands + next.Commands.Count <= GroupCommandsMax
                && _queue.Reader.TryRead(out next))
            {
                group.Add(next);
                commands += next.Commands.Count;
            }
            if (group.Count == 0)
            {
                continue;
            }
            try
            {
                await RunAsync(group);
                group.ForEach(p => p.Done.TrySetResult());
            }
            catch (Exception) when (group.Count > 1)
            {
                foreach (var alone in group)
                {
                    await RunAloneAsync(alone);
                }
            }
            catch (Exception ex)
            {
                group[0].Done.TrySetException(ex);
            }
        }
    }

    private async Task RunAloneAsync(Pending pending)
    {
        try
        {
            await RunAsync([pending]);
            pending.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            pending.Done.TrySetException(ex);
        }
    }

    private async Task RunAsync(IReadOnlyList<Pending> group)
    {
        await using var batch = _db.CreateBatch();
        foreach (var pending in group)
        {
            foreach (var command in pending.Commands)
            {
                batch.BatchCommands.Add(command);
            }
        }
        try
        {
            await batch.ExecuteNonQueryAsync();
        }
        finally
        {
            // The commands stay with the requests that gave them: each reads its own RecordsAffected,
            // and a failed group's commands are run again alone.
            batch.BatchCommands.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private sealed record Pending(IReadOnlyList<NpgsqlBatchCommand> Commands, TaskCompletionSource Done);
}
