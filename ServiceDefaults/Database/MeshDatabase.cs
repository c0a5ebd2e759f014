using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// A service's PostgreSQL data source, as every Mesh service opens it: Aspire's (pooling, health
/// check, traces, metrics) with Npgsql's automatic preparation, so the statements a service runs
/// on every request are parsed once per connection instead of on every execution, and planned
/// once too: a prepared statement keeps its generic plan (<see cref="PlanCacheMode"/>).
/// </summary>
public static class MeshDatabase
{
    /// <summary>How many distinct statements each connection keeps prepared.</summary>
    public const int PreparedStatementsMax = 100;

    /// <summary>How often a statement runs on a connection before it is prepared there.</summary>
    public const int UsesBeforePrepared = 2;

    /// <summary>
    /// PostgreSQL's default plans a prepared statement again on every execution while its generic
    /// plan's estimate looks dearer than the custom ones: for the transaction path's key look-ups
    /// and CTE writes it replanned every time, 8% of the database's CPU under load. Plans do not
    /// change what a statement does; a statement run once is not prepared and still gets a plan for
    /// its values.
    /// </summary>
    public const string PlanCacheMode = "-c plan_cache_mode=force_generic_plan";

    /// <summary>
    /// The data source <paramref name="name"/>, prepared as <see cref="Prepared"/> says; <paramref name="configure"/> adds settings
    /// (a service adding server options appends them to <see cref="NpgsqlConnectionStringBuilder.Options"/>).
    /// </summary>
    public static IHostApplicationBuilder AddMeshDatabase(this IHostApplicationBuilder builder, string name,
        Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        builder.AddNpgsqlDataSource(name, configureDataSourceBuilder: dataSource =>
        {
            Prepared(dataSource.ConnectionStringBuilder);
            configure?.Invoke(dataSource.ConnectionStringBuilder);
        });
        return builder;
    }

    /// <summary>Automatic preparation and generic plans, as every service's data source has them.</summary>
    public static NpgsqlConnectionStringBuilder Prepared(NpgsqlConnectionStringBuilder connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.MaxAutoPrepare = PreparedStatementsMax;
        connection.AutoPrepareMinUsages = UsesBeforePrepared;
        connection.Options = PlanCacheMode;
        return connection;
    }
}
