using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// A service's PostgreSQL data source, as every Mesh service opens it: Aspire's (pooling, health
/// check, traces, metrics) with Npgsql's automatic preparation, so the statements a service runs
/// on every request are parsed once per connection instead of on every execution; and a command
/// is traced only inside a traced operation (<see cref="InsideATrace"/>).
/// </summary>
public static class MeshDatabase
{
    /// <summary>How many distinct statements each connection keeps prepared.</summary>
    public const int PreparedStatementsMax = 100;

    /// <summary>How often a statement runs on a connection before it is prepared there.</summary>
    public const int UsesBeforePrepared = 2;

    /// <summary>
    /// The configuration key the AppHost sets when a service's connections go through a pooler in
    /// transaction mode (PgBouncer): consecutive transactions of one client may run on different
    /// server connections, so a statement prepared on one (by name) is unknown on the next, and
    /// automatic preparation is off. Npgsql's unnamed statements (parse, bind, execute in one
    /// round trip) still work.
    /// </summary>
    public const string TransactionPoolingKey = "Mesh:Database:TransactionPooling";

    /// <summary>
    /// The data source <paramref name="name"/>, prepared as <see cref="Prepared"/> says (unless a transaction pooler is in
    /// between, <see cref="TransactionPoolingKey"/>); <paramref name="configure"/> adds client settings. Server settings
    /// (plan cache mode, timeouts) are the database's own, set by the service's migrations, never startup options
    /// (<c>-c</c>), which a pooler in transaction mode refuses.
    /// </summary>
    public static IHostApplicationBuilder AddMeshDatabase(this IHostApplicationBuilder builder, string name,
        Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        builder.AddNpgsqlDataSource(name, configureDataSourceBuilder: dataSource =>
        {
            if (!builder.Configuration.GetValue<bool>(TransactionPoolingKey))
            {
                Prepared(dataSource.ConnectionStringBuilder);
            }
            configure?.Invoke(dataSource.ConnectionStringBuilder);
            // A physical connection's opening is left to the metrics (db.client.connection.create_time):
            // Npgsql traces it whoever opens it, so a poll's pool growth began traces of its own.
            dataSource.ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => InsideATrace())
                .ConfigureBatchFilter(_ => InsideATrace())
                .ConfigureCopyOperationFilter(_ => InsideATrace())
                .EnablePhysicalOpenTracing(false));
        });
        return builder;
    }

    /// <summary>
    /// True inside a traced operation (a request, a call, a poll's work that traces itself). A
    /// background poll's query runs outside any: each, several a second on an idle platform, was a
    /// trace of its own and buried the payments' traces on the dashboard. A poll that finds work
    /// is traced from the work's own calls on (a notification sent, a reversal, a ledger batch).
    /// </summary>
    public static bool InsideATrace() => Activity.Current is { Recorded: true };

    /// <summary>Automatic preparation, as every service's data source has it.</summary>
    public static NpgsqlConnectionStringBuilder Prepared(NpgsqlConnectionStringBuilder connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.MaxAutoPrepare = PreparedStatementsMax;
        connection.AutoPrepareMinUsages = UsesBeforePrepared;
        return connection;
    }
}
