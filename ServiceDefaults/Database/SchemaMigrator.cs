using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// Applies a service's schema scripts at start: embedded resources named <c>NNNN_what.sql</c>,
/// each once, in order, in its own transaction. An advisory lock keeps replicas from racing.
/// </summary>
public static class SchemaMigrator
{
    private const long AdvisoryLockKey = 0x4D45_5348_0001; // "MESH" + 1
    private const int ScriptsMax = 1000;

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, Assembly assembly, ILogger logger, CancellationToken ct)
    {
        var scripts = LoadScripts(assembly);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Under the lock too: two replicas creating the table at once, IF NOT EXISTS or not, can both pass the check
        // and one fails on the catalog's unique index (pg_type_typname_nsp_index), and that replica does not start.
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await LockAsync(connection, tx, ct);
            await using var create = new NpgsqlCommand(
                """
                CREATE TABLE IF NOT EXISTS schema_version (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, connection, tx);
            await create.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
        }

        foreach (var (version, name, sql) in scripts)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await LockAsync(connection, tx, ct);
            await using (var check = new NpgsqlCommand("SELECT 1 FROM schema_version WHERE version = @v", connection, tx))
            {
                check.Parameters.AddWithValue("v", version);
                if (await check.ExecuteScalarAsync(ct) is not null)
                {
                    await tx.RollbackAsync(ct);
                    continue;
                }
            }
            await using (var apply = new NpgsqlCommand(sql, connection, tx))
            {
                await apply.ExecuteNonQueryAsync(ct);
            }
            await using (var record = new NpgsqlCommand("INSERT INTO schema_version (version, name) VALUES (@v, @n)", connection, tx))
            {
                record.Parameters.AddWithValue("v", version);
                record.Parameters.AddWithValue("n", name);
                await record.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            logger.LogInformation("Applied schema migration {Version} {Name}", version, name);
        }
    }

    /// <summary>Holds the migrations' advisory lock until <paramref name="tx"/> ends: one replica migrates at a time.</summary>
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, tx);
        lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
        await lockCommand.ExecuteNonQueryAsync(ct);
    }

    internal static List<(int Version, string Name, string Sql)> LoadScripts(Assembly assembly)
    {
        var scripts = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var fileName = resource.Split('.')[^2];
            var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(fileName.AsSpan(0, underscore), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Migration resource '{resource}' is not named NNNN_what.sql");
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add((version, fileName[(underscore + 1)..], reader.ReadToEnd()));
        }
        Safety.Invariant.Holds(scripts.Count <= ScriptsMax, "migration count within its limit");
        scripts.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 1; i < scripts.Count; i++)
        {
            Safety.Invariant.Holds(scripts[i].Item1 != scripts[i - 1].Item1, "migration versions are unique");
        }
        return scripts;
    }
}
