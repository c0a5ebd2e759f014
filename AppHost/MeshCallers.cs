using System.Security.Cryptography;

namespace Mesh.AppHost;

/// <summary>The credential the dashboard's commands present at a server: the caller name and its secret parameter.</summary>
public sealed record DashboardCredentialAnnotation(string CallerName, ParameterResource Secret) : IResourceAnnotation;

/// <summary>
/// Least privilege between services: a caller gets a credential per server it calls, a role there,
/// and a secret made new at every start (parameter <c>{caller}-{server}-secret</c>). The server is
/// told the caller's role and secret (<c>Mesh__Callers__{caller}__Role</c>, <c>__Secret</c>), the
/// caller its name and secret for that server (<c>MeshCredentials__{server}__Name</c>,
/// <c>__Secret</c>). One secret per pair: a server that is broken into learns no credential good
/// at another.
/// </summary>
public static class MeshCallers
{
    /// <summary>The caller name of the AppHost's dashboard commands: an operator at every server they reach.</summary>
    public const string Dashboard = "dashboard";

    /// <summary>
    /// <paramref name="caller"/> calls <paramref name="server"/> with <paramref name="role"/>. A caller
    /// that holds a second credential at the same server names it with <paramref name="identity"/>: it is
    /// the caller <c>{caller}-{identity}</c> there, and its client reads <c>MeshCredentials:{server}:{identity}</c>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMeshCaller(this IResourceBuilder<ProjectResource> caller,
        IResourceBuilder<ProjectResource> server, string role, string? identity = null)
    {
        var callerName = identity is null ? caller.Resource.Name : $"{caller.Resource.Name}-{identity}";
        var credential = identity is null ? server.Resource.Name : $"{server.Resource.Name}__{identity}";
        var secret = server.WithMeshCallerSecret(callerName, role);
        return caller
            .WithEnvironment($"MeshCredentials__{credential}__Name", callerName)
            .WithEnvironment($"MeshCredentials__{credential}__Secret", secret);
    }

    /// <summary>The dashboard's commands call <paramref name="server"/>'s <c>/admin</c> routes as an operator (once per server).</summary>
    public static IResourceBuilder<ProjectResource> WithDashboardOperator(this IResourceBuilder<ProjectResource> server)
    {
        if (server.Resource.Annotations.OfType<DashboardCredentialAnnotation>().Any())
        {
            return server;
        }
        var secret = server.WithMeshCallerSecret(Dashboard, "operator");
        return server.WithAnnotation(new DashboardCredentialAnnotation(Dashboard, secret.Resource));
    }

    /// <summary>The headers the dashboard's commands present at <paramref name="server"/>: none if it was given no dashboard credential.</summary>
    public static async Task<(string Name, string Value)[]> DashboardHeadersAsync(IResource server, CancellationToken ct)
    {
        if (server.Annotations.OfType<DashboardCredentialAnnotation>().SingleOrDefault() is not { } credential)
        {
            return [];
        }
        var secret = await credential.Secret.GetValueAsync(ct) ?? "";
        return [("x-mesh-caller", credential.CallerName), ("Authorization", $"Bearer {secret}")];
    }

    private static IResourceBuilder<ParameterResource> WithMeshCallerSecret(this IResourceBuilder<ProjectResource> server, string callerName, string role)
    {
        var secret = server.ApplicationBuilder.AddMeshSecret($"{callerName}-{server.Resource.Name}-secret",
            () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        server.WithEnvironment($"Mesh__Callers__{callerName}__Role", role)
              .WithEnvironment($"Mesh__Callers__{callerName}__Secret", secret);
        return secret;
    }
}
