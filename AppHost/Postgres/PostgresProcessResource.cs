namespace Mesh.AppHost.Postgres;

/// <summary>
/// A PostgreSQL server run from the machine's own binaries as a process resource: there is no
/// container engine here. Its connection string has the shape <c>AddPostgres</c> gives.
/// </summary>
public sealed class PostgresProcessResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const string UserName = "postgres";

    public ParameterResource Password { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    /// <summary>Services set no session state, so a pooled connection is reused without a DISCARD ALL each time.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Password={Password}");
}

/// <summary>
/// Debian's PgBouncer in transaction pooling mode in front of a <see cref="PostgresProcessResource"/>
/// (<c>Mesh:Postgres:Pooler=pgbouncer</c>): clients log in as the server's superuser, with its password.
/// </summary>
public sealed class PgBouncerResource(string name, string command, string workingDirectory, PostgresProcessResource server)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public PostgresProcessResource Server { get; } = server;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={PostgresProcessResource.UserName};Password={Server.Password}");
}

/// <summary>On a server resource: the pooler its services' databases are reached through.</summary>
public sealed record MeshPoolerAnnotation(IResourceWithConnectionString Pooler) : IResourceAnnotation;

/// <summary>
/// One service's database on a Mesh PostgreSQL server (a process or an operator's own): created on
/// <see cref="Server"/>, reached through <see cref="Route"/> (the server itself, or its pooler).
/// </summary>
public sealed class MeshDatabaseResource(string name, IResourceWithConnectionString server, IResourceWithConnectionString route)
    : Resource(name), IResourceWithParent, IResourceWithConnectionString
{
    public IResourceWithConnectionString Server { get; } = server;

    public IResourceWithConnectionString Route { get; } = route;

    /// <summary>True when the services reach this database through a pooler in transaction mode.</summary>
    public bool ThroughPooler => !ReferenceEquals(Route, Server);

    public string DatabaseName => Name;

    IResource IResourceWithParent.Parent => Server;

    /// <summary>Services set no session state, so a pooled connection is reused without a DISCARD ALL each time.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Route.ConnectionStringExpression};Database={DatabaseName};No Reset On Close=true");
}
