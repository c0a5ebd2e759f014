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

/// <summary>One service's database on a Mesh PostgreSQL server (a process or an operator's own).</summary>
public sealed class MeshDatabaseResource(string name, IResourceWithConnectionString server)
    : Resource(name), IResourceWithParent, IResourceWithConnectionString
{
    public IResourceWithConnectionString Server { get; } = server;

    public string DatabaseName => Name;

    IResource IResourceWithParent.Parent => Server;

    /// <summary>Services set no session state, so a pooled connection is reused without a DISCARD ALL each time.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Server.ConnectionStringExpression};Database={DatabaseName};No Reset On Close=true");
}
