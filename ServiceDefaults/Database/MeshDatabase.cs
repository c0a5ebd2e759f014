using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>
/// A service's PostgreSQL data source, as every Mesh service opens it: Aspire's (pooling, health
/// check, traces, metrics) with Npgsql's automatic preparation, so the statements a service runs
/// on every request are parsed and planned once per connection instead of on every execution.
/// </summary>
public static class MeshDatabase
{
    /// <summary>How many distinct statements each connection keeps prepared.</summary>
    public const int PreparedStatementsMax = 100;

    /// <summary>How often a statement runs on a connection before it is prepared there.</summary>
    public const int UsesBeforePrepared = 2;

    public static IHostApplicationBuilder AddMeshDatabase(this IHostApplicationBuilder builder, string name,
        Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        builder.AddNpgsqlDataSource(name, configureDataSourceBuilder: dataSource =>
        {
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = PreparedStatementsMax;
            dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = UsesBeforePrepared;
            configure?.Invoke(dataSource.ConnectionStringBuilder);
        });
        return builder;
    }
}
