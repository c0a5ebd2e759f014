using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// Group commit: the writes of many concurrent requests go to PostgreSQL together, in one round
/// trip and one transaction (one WAL flush), and each request waits until its own writes are
/// durable. A group that fails is run again one request at a time (see <see cref="MicroBatcher{TItem, TResult}"/>).
/// </summary>
public sealed class GroupCommit(NpgsqlDataSource db) : IAsyncDisposable
{
    public const int GroupRequestsMax = 256;
    public const int WritersMax = 4;
    public const int RequestCommandsMax = 64;

    private readonly MicroBatcher<IReadOnlyList<NpgsqlBatchCommand>, bool> _batcher = new(group => RunAsync(db, group), GroupRequestsMax, WritersMax);

    /// <summary>
    /// Runs the commands in one transaction with other requests' commands; returns once they are
    /// committed. Each command's <see cref="NpgsqlBatchCommand.RecordsAffected"/> then says what it did.
    /// </summary>
    public async Task ExecuteAsync(IReadOnlyList<NpgsqlBatchCommand> commands, CancellationToken ct)
    {
        Safety.Invariant.Holds(commands.Count is > 0 and <= RequestCommandsMax, "a request's writes are a few statements");
        await _batcher.SubmitAsync(commands, ct);
    }

    private static async Task<IReadOnlyList<bool>> RunAsync(NpgsqlDataSource db, IReadOnlyList<IReadOnlyList<NpgsqlBatchCommand>> group)
    {
        await using var batch = db.CreateBatch();
        foreach (var command in group.SelectMany(commands => commands))
        {
            batch.BatchCommands.Add(command);
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
        return new bool[group.Count];
    }

    public ValueTask DisposeAsync() => _batcher.DisposeAsync();
}
