using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Publish mode (<c>--publisher manifest</c>) describes a deployment, not this machine: it writes
/// nothing but the manifest (no data folder, certificate, key or secret file), every secret is a
/// parameter the operator supplies, and every file a service reads is a path parameter (where the
/// deployment mounts it). The simulated banks and the demo shop are published only when asked
/// for (<see cref="IncludeSimulatorsKey"/>); a deployment that has them is a test installation,
/// and runs in Development, since the banks issue their test cards through the Hsm's
/// development-only card-issuing role.
/// </summary>
public static class MeshPublishing
{
    public const string IncludeSimulatorsKey = "Mesh:Publish:IncludeSimulators";

    /// <summary>The payment page's public address (the ingress in front of the gateway's https endpoint).</summary>
    public const string GatewayPublicUrl = "gateway-public-url";

    /// <summary>The demo shop's public address, where a consumer's browser comes back to.</summary>
    public const string ShopPublicUrl = "shop-public-url";

    public static bool IsPublishing(this IDistributedApplicationBuilder builder) => builder.ExecutionContext.IsPublishMode;

    /// <summary>The simulated banks and the demo shop: always under <c>dotnet run</c>, published only when asked for.</summary>
    public static bool IncludesSimulators(this IDistributedApplicationBuilder builder) =>
        !builder.IsPublishing() || builder.Configuration.GetValue<bool>(IncludeSimulatorsKey);

    /// <summary>
    /// Whether the development-only parts apply (the card-issuing role, the banks' fault knobs, a
    /// created LMK): the AppHost's environment under <c>dotnet run</c>; a published deployment only
    /// when it carries the simulated banks.
    /// </summary>
    public static bool IsDevelopmentInstallation(this IDistributedApplicationBuilder builder) =>
        builder.IsPublishing() ? builder.IncludesSimulators() : builder.Environment.IsDevelopment();

    /// <summary>The environment every service runs in.</summary>
    public static string ServicesEnvironmentName(this IDistributedApplicationBuilder builder) =>
        !builder.IsPublishing() ? builder.Environment.EnvironmentName
        : builder.IsDevelopmentInstallation() ? Environments.Development : Environments.Production;

    /// <summary>
    /// A secret parameter: under <c>dotnet run</c> with the value <paramref name="localValue"/> makes
    /// (new, or kept in the data folder); published, a parameter without a value, which the operator supplies.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddMeshSecret(this IDistributedApplicationBuilder builder, string name, Func<string> localValue) =>
        builder.IsPublishing() ? builder.AddParameter(name, secret: true) : builder.AddParameter(name, localValue(), secret: true);

    /// <summary>A parameter several resources share (a trust anchor's path): declared by the first, found by the others.</summary>
    public static IResourceBuilder<ParameterResource> SharedParameter(this IDistributedApplicationBuilder builder, string name) =>
        builder.Resources.OfType<ParameterResource>().SingleOrDefault(p => p.Name == name) is { } existing
            ? builder.CreateResourceBuilder(existing)
            : builder.AddParameter(name);

    /// <summary>
    /// Published, a project serves only the endpoints it listens on. Aspire gives every project an
    /// <c>https</c> endpoint in publish mode, on its first port; only the gateway serves HTTPS, and a
    /// reference to another's would name a port nothing speaks TLS on.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithoutHttpsEndpoint(this IResourceBuilder<ProjectResource> project)
    {
        foreach (var https in project.Resource.Annotations.OfType<EndpointAnnotation>().Where(e => e.Name == "https").ToList())
        {
            project.Resource.Annotations.Remove(https);
        }
        return project;
    }
}
