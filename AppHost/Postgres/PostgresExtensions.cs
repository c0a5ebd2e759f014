using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.AppHost.Postgres;

public static class PostgresExtensions
{
    private const string BinariesDefault = "/usr/lib/postgresql/15/bin";

    /// <summary>
    /// The platform's PostgreSQL: an operator's server when <c>ConnectionStrings:{name}</c> is set,
    /// otherwise the machine's PostgreSQL 15 binaries run as a process on the port Aspire assigns,
    /// with <c>initdb</c> into the data folder on first start. Published, always the former: the
    /// connection string is a secret parameter the operator supplies. With <c>Mesh:Postgres:Pooler=pgbouncer</c>
    /// the process server gets Debian's PgBouncer in front, in transaction mode, and the services'
    /// databases are reached through it (<see cref="AddPgBouncer"/>). With <c>Mesh:Postgres=ha</c>, two
    /// Patroni-managed nodes with synchronous replication instead (<see cref="PatroniCluster.AddPatroniCluster"/>);
    /// with <c>Mesh:Postgres=container</c>, Aspire's own PostgreSQL container resource (run or published).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddMeshPostgres(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, MeshDataFolder data)
    {
        var topology = builder.Configuration[TopologyKey] ?? Process;
        if (topology is not (Process or HighlyAvailable or Container))
        {
            throw new InvalidOperationException($"{TopologyKey} is {Process} (the default), {HighlyAvailable} or {Container}, not {topology}");
        }
        if (topology == Container)
        {
            // Aspire's own PostgreSQL resource, where a container engine runs it (this machine has none): its
            // image, its volume, its password parameter, published as a container. PostgreSQL 15, as everywhere else.
            return builder.AddPostgres(name).WithImageTag("15").WithDataVolume();
        }
        if (builder.IsPublishing() || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddConnectionString(name);
        }

        var password = builder.AddParameter($"{name}-password", OwnerOnlyFile.ReadOrCreateSecret(data.PostgresPasswordFile), secret: true);
        if (topology == HighlyAvailable)
        {
            return builder.AddPatroniCluster(name, data, password, builder.Configuration["Postgres:BinDir"] ?? BinariesDefault);
        }
        var script = Path.Combine(builder.AppHostDirectory, "Postgres", "run-postgres.sh");
        var server = new PostgresProcessResource(name, "bash", builder.AppHostDirectory, password.Resource);
        var healthCheckKey = $"{name}_ready";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, _ => new PostgresReadinessCheck(server, null), null, null));
        var resource = builder.AddResource(server)
            .WithArgs(script)
            .WithEndpoint(name: PostgresProcessResource.EndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
            .WithEnvironment("PG_BIN", builder.Configuration["Postgres:BinDir"] ?? BinariesDefault)
            .WithEnvironment("PGDATA", data.PostgresData)
            .WithEnvironment("PG_PASSWORD_FILE", data.PostgresPasswordFile)
            .WithEnvironment("PG_MAX_CONNECTIONS", builder.Configuration["Postgres:MaxConnections"] ?? "300")
            .WithHealthCheck(healthCheckKey);
        var pooler = builder.Configuration[PoolerKey];
        if (pooler is { Length: > 0 } and not PgBouncer)
        {
            throw new InvalidOperationException($"{PoolerKey} is {PgBouncer} or unset, not {pooler}");
        }
        if (pooler == PgBouncer)
        {
            resource.WithAnnotation(new MeshPoolerAnnotation(builder.AddPgBouncer($"{name}-pgbouncer", resource, data).Resource));
        }
        return resource;
    }

    /// <summary>Where the AppHost is told which PostgreSQL to run, and the topologies it knows.</summary>
    public const string TopologyKey = "Mesh:Postgres";
    public const string Process = "process";
    public const string HighlyAvailable = "ha";
    public const string Container = "container";

    /// <summary>Where the AppHost is told to put a pooler in front of its PostgreSQL, and the one it knows.</summary>
    public const string PoolerKey = "Mesh:Postgres:Pooler";
    public const string PgBouncer = "pgbouncer";

    /// <summary>
    /// Debian's PgBouncer as a process in front of <paramref name="server"/>, in transaction mode:
    /// its pools' server connections are shared by every service's client pools a transaction at a time.
    /// </summary>
    public static IResourceBuilder<PgBouncerResource> AddPgBouncer(this IDistributedApplicationBuilder builder, [ResourceName] string name,
        IResourceBuilder<PostgresProcessResource> server, MeshDataFolder data)
    {
        var script = Path.Combine(builder.AppHostDirectory, "Postgres", "run-pgbouncer.sh");
        var pooler = new PgBouncerResource(name, "bash", builder.AppHostDirectory, server.Resource);
        var healthCheckKey = $"{name}_ready";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, _ => new PostgresReadinessCheck(pooler, null), null, null));
        return builder.AddResource(pooler)
            .WithArgs(script)
            .WithEndpoint(name: PgBouncerResource.EndpointName, scheme: "tcp", env: "PGBOUNCER_PORT", isProxied: false)
            .WithEnvironment("PGBOUNCER_DIR", Path.Combine(data.PostgresRoot, "pgbouncer"))
            .WithEnvironment("PG_HOST", server.Resource.PrimaryEndpoint.Property(EndpointProperty.Host))
            .WithEnvironment("PG_PORT", server.Resource.PrimaryEndpoint.Property(EndpointProperty.Port))
            .WithEnvironment("PG_PASSWORD_FILE", data.PostgresPasswordFile)
            .WithEnvironment("PGBOUNCER_POOL_SIZE", builder.Configuration["Postgres:PoolerPoolSize"] ?? "20")
            .WithHealthCheck(healthCheckKey)
            .WaitFor(server);
    }

    /// <summary>
    /// A service's database on <paramref name="server"/>, reached through the server's pooler when it has one
    /// and <paramref name="pooled"/> (a database whose clients need session state, such as a search path of
    /// their own, is reached directly).
    /// </summary>
    public static IResourceBuilder<MeshDatabaseResource> AddDatabase(this IResourceBuilder<IResourceWithConnectionString> server,
        [ResourceName] string name, bool pooled = true)
    {
        var route = pooled && server.Resource.Annotations.OfType<MeshPoolerAnnotation>().SingleOrDefault() is { } pooler
            ? pooler.Pooler : server.Resource;
        var database = new MeshDatabaseResource(name, server.Resource, route);
        var healthCheckKey = $"{name}_ready";
        server.ApplicationBuilder.Services.AddHealthChecks()
            .Add(new(healthCheckKey, _ => new PostgresReadinessCheck(server.Resource, name), null, null));

        // A database has no process of its own: it runs once its server (or pooler) is ready, and its health
        // check (which creates it on first start) decides when the services that need it may start. The check
        // asks the server itself: through a pooler it would open a server connection to the database before
        // the service's migrations gave the database its settings, and that connection would live on without them.
        server.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(route, async (e, ct) =>
        {
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            var time = e.Services.GetRequiredService<TimeProvider>();
            await notifications.PublishUpdateAsync(database, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = time.GetUtcNow().UtcDateTime,
            });
        });
        return server.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [new("Database", name)],
            })
            .WithHealthCheck(healthCheckKey);
    }
}
