using Microsoft.Extensions.DependencyInjection;

namespace Mesh.AppHost.Postgres;

/// <summary>One Patroni-managed PostgreSQL node: PostgreSQL's port, and Patroni's REST API (health, role).</summary>
public sealed class PatroniNodeResource(string name, string command, string workingDirectory, string memberName)
    : ExecutableResource(name, command, workingDirectory)
{
    public const string PostgresEndpointName = "tcp";
    public const string RestEndpointName = "rest";

    /// <summary>The node's name in the Patroni cluster (its member key in etcd).</summary>
    public string MemberName { get; } = memberName;

    public EndpointReference PostgresEndpoint => new(this, PostgresEndpointName);

    public EndpointReference RestEndpoint => new(this, RestEndpointName);
}

/// <summary>
/// The highly available PostgreSQL (<c>Mesh:Postgres=ha</c>): no process of its own. Its connection
/// string names every node and asks for the primary (<c>Target Session Attributes=primary</c>): Npgsql
/// tries the nodes in turn and keeps what it learned of each for a second (<c>Host Recheck Seconds</c>),
/// so a service's next connection after a failover goes to the promoted node.
/// </summary>
public sealed class PatroniClusterResource(string name, IReadOnlyList<PatroniNodeResource> nodes, ParameterResource password)
    : Resource(name), IResourceWithConnectionString
{
    public IReadOnlyList<PatroniNodeResource> Nodes { get; } = nodes;

    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            var text = new ReferenceExpressionBuilder();
            text.AppendLiteral("Host=");
            for (var i = 0; i < Nodes.Count; i++)
            {
                var endpoint = Nodes[i].PostgresEndpoint;
                text.Append($"{(i == 0 ? "" : ",")}{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}");
            }
            text.Append($";Username={PostgresProcessResource.UserName};Password={Password};Target Session Attributes=primary;Host Recheck Seconds=1");
            return text.Build();
        }
    }
}

public static class PatroniCluster
{
    /// <summary>How many PostgreSQL nodes the cluster has: a primary and its synchronous standby.</summary>
    public const int Nodes = 2;

    /// <summary>
    /// etcd (Patroni's consensus store) and <see cref="Nodes"/> Patroni-managed PostgreSQL 15 nodes, from
    /// Debian's packages, with their data under the mesh's data folder: synchronous replication (a commit is
    /// acknowledged once the standby has it), automatic failover, and a returning old primary rewound into a
    /// standby. Every port is one Aspire assigns, so none clashes with the single server's. The cluster
    /// resource is ready once a primary answers; each node's health is Patroni's <c>/health</c>.
    /// </summary>
    public static IResourceBuilder<PatroniClusterResource> AddPatroniCluster(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, MeshDataFolder data, IResourceBuilder<ParameterResource> password, string binaries)
    {
        var etcd = builder.AddEtcd($"{name}-etcd", data);
        var client = etcd.GetEndpoint("client");
        var script = Path.Combine(builder.AppHostDirectory, "Postgres", "run-patroni.sh");
        var nodes = new List<PatroniNodeResource>();
        var cluster = new PatroniClusterResource(name, nodes, password.Resource);
        for (var i = 1; i <= Nodes; i++)
        {
            var node = new PatroniNodeResource($"{name}-{i}", "bash", builder.AppHostDirectory, $"node{i}");
            nodes.Add(node);
            builder.AddResource(node)
                .WithArgs(script)
                .WithEndpoint(name: PatroniNodeResource.PostgresEndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
                .WithHttpEndpoint(name: PatroniNodeResource.RestEndpointName, env: "REST_PORT", isProxied: false)
                .WithEnvironment("NODE_NAME", node.MemberName)
                .WithEnvironment("NODES_DIR", Path.Combine(data.PostgresRoot, "patroni"))
                .WithEnvironment("ETCD_HOSTS", ReferenceExpression.Create($"127.0.0.1:{client.Property(EndpointProperty.Port)}"))
                .WithEnvironment("PG_PASSWORD_FILE", data.PostgresPasswordFile)
                .WithEnvironment("PG_BIN", binaries)
                .WithEnvironment("PG_MAX_CONNECTIONS", builder.Configuration["Postgres:MaxConnections"] ?? "300")
                .WithHttpHealthCheck("/health", endpointName: PatroniNodeResource.RestEndpointName)
                .WithParentRelationship(cluster)
                .WaitFor(etcd);
        }

        var healthCheckKey = $"{name}_ready";
        builder.Services.AddHealthChecks().Add(new(healthCheckKey, _ => new PostgresReadinessCheck(cluster, null), null, null));
        // The cluster runs once any node's PostgreSQL runs; its health check (a query on the primary)
        // decides when the databases, and the services, may start.
        foreach (var node in nodes)
        {
            builder.Eventing.Subscribe<ResourceReadyEvent>(node, async (e, ct) =>
            {
                var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
                var time = e.Services.GetRequiredService<TimeProvider>();
                await notifications.PublishUpdateAsync(cluster, s => s.State?.Text == KnownResourceStates.Running ? s : s with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = time.GetUtcNow().UtcDateTime,
                });
            });
        }
        return builder.AddResource(cluster)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PatroniCluster",
                State = KnownResourceStates.Waiting,
                Properties = [new("Nodes", Nodes)],
            })
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>
    /// A one-member etcd from Debian's <c>etcd-server</c>, Patroni's consensus store: who holds the leader
    /// key, and the cluster's shared configuration. Its data lives next to the nodes'.
    /// </summary>
    private static IResourceBuilder<ExecutableResource> AddEtcd(this IDistributedApplicationBuilder builder, [ResourceName] string name,
        MeshDataFolder data)
    {
        var etcd = builder.AddExecutable(name, "etcd", data.PostgresRoot)
            .WithHttpEndpoint(name: "client", env: "MESH_ETCD_CLIENT_PORT", isProxied: false)
            .WithHttpEndpoint(name: "peer", env: "MESH_ETCD_PEER_PORT", isProxied: false);
        var client = etcd.GetEndpoint("client");
        var peer = etcd.GetEndpoint("peer");
        // etcd binds to IP addresses only, never to a name such as localhost.
        var clientUrl = ReferenceExpression.Create($"http://127.0.0.1:{client.Property(EndpointProperty.Port)}");
        var peerUrl = ReferenceExpression.Create($"http://127.0.0.1:{peer.Property(EndpointProperty.Port)}");
        return etcd
            .WithEnvironment("ETCD_NAME", "mesh")
            .WithEnvironment("ETCD_DATA_DIR", Path.Combine(data.PostgresRoot, "etcd"))
            .WithEnvironment("ETCD_LISTEN_CLIENT_URLS", clientUrl)
            .WithEnvironment("ETCD_ADVERTISE_CLIENT_URLS", clientUrl)
            .WithEnvironment("ETCD_LISTEN_PEER_URLS", peerUrl)
            .WithEnvironment("ETCD_INITIAL_ADVERTISE_PEER_URLS", peerUrl)
            .WithEnvironment("ETCD_INITIAL_CLUSTER", ReferenceExpression.Create($"mesh={peerUrl}"))
            .WithEnvironment("ETCD_LOG_LEVEL", "warn")
            .WithHttpHealthCheck("/health", endpointName: "client");
    }
}
