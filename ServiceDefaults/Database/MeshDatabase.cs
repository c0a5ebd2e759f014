using System.Diagnostics;
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
    /// Server options for a data source whose prepared statements keep their generic plan.
    /// PostgreSQL's default plans a prepared statement again on every execution while its generic
    /// plan's estimate looks dearer than the custom ones; the gateway's key look-ups and CTE writes
    /// were replanned every time, 8% of the database's CPU under load, and so were the issuers'
    /// batches (<c>= ANY($1)</c>, <c>unnest</c>), another 6%. A generic plan cannot see an array's
    /// length, so it suits arrays only where the plan is a key look-up per element whatever the
    /// length: the issuers' few-row batches by primary key, yes; the ledger's batches of hundreds,
    /// no. A plan made while a table is nearly empty may scan it whole until autovacuum's next
    /// analyze replans it (the ledger's duplicate check did, 0.5 ms at 11,000 entries); an issuer's
    /// cards and accounts are loaded before its first authorization.
    /// </summary>
    public const string GenericPlans = "-c plan_cache_mode=force_generic_plan";

    /// <summary>
    /// Server options for a data source whose statements are planned for their values every time:
    /// few, large, and taking arrays. PostgreSQL's default keeps a statement's generic plan once
    /// five custom plans cost no less, and a generic plan made while the ledger was nearly empty
    /// kept scanning it whole for the duplicate check (26 ms of a 100-entry batch at 18,500
    /// entries, against 0.19 ms planned for the array at hand) until the first analyze.
    /// </summary>
    public const string CustomPlans = "-c plan_cache_mode=force_custom_plan";

    /// <summary>
    /// The data source <paramref name="name"/>, prepared as <see cref="Prepared"/> says; <paramref name="configure"/> adds settings
    /// (server options, <see cref="GenericPlans"/> or <see cref="CustomPlans"/>, go in <see cref="NpgsqlConnectionStringBuilder.Options"/>).
    /// </summary>
    public static IHostApplicationBuilder AddMeshDatabase(this IHostApplicationBuilder builder, string name,
        Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        builder.AddNpgsqlDataSource(name, configureDataSourceBuilder: dataSource =>
        {
            Prepared(dataSource.ConnectionStringBuilder);
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
