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
    /// connection string is a secret parameter the operator supplies.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddMeshPostgres(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, MeshDataFolder data)
    {
        if (builder.IsPublishing() || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddConnectionString(name);
        }

        var password = builder.AddParameter($"{name}-password", OwnerOnlyFile.ReadOrCreateSecret(data.PostgresPasswordFile), secret: true);
        var script = Path.Combine(builder.AppHostDirectory, "Postgres", "run-postgres.sh");
        var server = new PostgresProcessResource(name, "bash", builder.AppHostDirectory, password.Resource);
        var healthCheckKey = $"{name}_ready";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, _ => new PostgresReadinessCheck(server, null), null, null));
        return builder.AddResource(server)
            .WithArgs(script)
            .WithEndpoint(name: PostgresProcessResource.EndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
            .WithEnvironment("PG_BIN", builder.Configuration["Postgres:BinDir"] ?? BinariesDefault)
            .WithEnvironment("PGDATA", data.PostgresData)
            .WithEnvironment("PG_PASSWORD_FILE", data.PostgresPasswordFile)
            .WithEnvironment("PG_MAX_CONNECTIONS", builder.Configuration["Postgres:MaxConnections"] ?? "300")
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<MeshDatabaseResource> AddDatabase(this IResourceBuilder<IResourceWithConnectionString> server,
        [ResourceName] string name)
    {
        var database = new MeshDatabaseResource(name, server.Resource);
        var healthCheckKey = $"{name}_ready";
        server.ApplicationBuilder.Services.AddHealthChecks()
            .Add(new(healthCheckKey, _ => new PostgresReadinessCheck(server.Resource, name), null, null));

        // A database has no process of its own: it runs once its server is ready, and its health
        // check (which creates it on first start) decides when the services that need it may start.
        server.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (e, ct) =>
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
