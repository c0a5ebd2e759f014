extern alias SettlementService;
using Aspire.Hosting.Testing;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Replicas of a service starting together on a database that has no schema yet (Mesh:Replicas on a fresh
/// platform): every one of them migrates without an error, and each script is applied once. Before the
/// migrations' table was created under the advisory lock, two replicas could both create it and one failed
/// on the catalog's unique index and never started.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class SchemaMigrationTests(MeshPlatformFixture platform)
{
    private const int Replicas = 8;

    [Fact]
    public async Task ReplicasStartingTogether_OnAFreshDatabase_AllMigrate_AndEachScriptIsAppliedOnce()
    {
        var server = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("settlementdb"));
        var name = "migrate_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(server.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        server.Database = name;
        await using var db = NpgsqlDataSource.Create(server.ConnectionString);
        var migrations = typeof(SettlementService::Mesh.Settlement.Ledger.LedgerWriter).Assembly;
        var scripts = migrations.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var replicas = Enumerable.Range(0, Replicas).Select(_ => Task.Run(async () =>
        {
            await go.Task;
            await SchemaMigrator.MigrateAsync(db, migrations, NullLogger.Instance, CancellationToken.None);
        })).ToList();
        go.SetResult();
        await Task.WhenAll(replicas);
        (long Rows, long Versions) applied;
        await using (var count = db.CreateCommand("SELECT count(*), count(DISTINCT version) FROM schema_version"))
        await using (var row = await count.ExecuteReaderAsync())
        {
            await row.ReadAsync();
            applied = (row.GetInt64(0), row.GetInt64(1));
        }

        Assert.True(scripts > 0);
        Assert.Equal((scripts, scripts), applied);
    }
}
