using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

public static class DatabaseStartup
{
    /// <summary>
    /// Brings the service's schema up to date before it takes traffic. The database may still be
    /// starting, so connection failures are retried for a bounded time.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app, Assembly migrationsAssembly, int timeoutMs = 60_000, string? schema = null)
    {
        var dataSource = app.Services.GetRequiredService<NpgsqlDataSource>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.Database");
        var time = app.Services.GetRequiredService<TimeProvider>();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(timeoutMs), time);
        var delayMs = 200;
        while (true)
        {
            try
            {
                if (schema is not null)
                {
                    // Several tenants in one database (the simulated banks): each its own schema,
                    // which the data source's search path points at.
                    await using var create = dataSource.CreateCommand($"CREATE SCHEMA IF NOT EXISTS \"{schema.Replace("\"", "", StringComparison.Ordinal)}\"");
                    await create.ExecuteNonQueryAsync(cts.Token);
                }
                await SchemaMigrator.MigrateAsync(dataSource, migrationsAssembly, logger, cts.Token);
                // The settings a migration gave the database apply to sessions opened after it: the
                // connections opened before (the migrator's) are closed rather than reused.
                dataSource.Clear();
                return;
            }
            catch (NpgsqlException ex) when (ex.IsTransient && !cts.IsCancellationRequested)
            {
                logger.LogWarning("Database not ready ({Reason}); retrying in {DelayMs} ms", ex.Message, delayMs);
                await Task.Delay(TimeSpan.FromMilliseconds(delayMs), time, cts.Token);
                delayMs = Math.Min(delayMs * 2, 2_000);
            }
        }
    }
}
