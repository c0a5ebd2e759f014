using Mesh.ServiceDefaults.Grpc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// How a service identifies itself to another: its caller name and secret on every call, from
/// <c>MeshCredentials:{credential}:Name</c> and <c>:Secret</c> (set by the AppHost; one secret per
/// caller and server). <c>credential</c> is the server's resource name (<c>switch</c>), or the
/// server and a second identity (<c>switch:operator</c>) for a caller that holds two.
/// </summary>
public static class MeshCallerCredentials
{
    public const string Section = "MeshCredentials";

    /// <summary>A gRPC client of another Mesh service that presents <paramref name="credential"/>.</summary>
    public static IHttpClientBuilder WithMeshCallerCredentials(this IHttpClientBuilder client, IConfiguration configuration, string credential)
    {
        var (name, secret) = Of(configuration, credential);
        return client.WithCallerCredentials(name, secret);
    }

    /// <summary>An HttpClient that presents <paramref name="credential"/> on every request (the <c>/admin</c> routes).</summary>
    public static IHttpClientBuilder AddMeshCallerHandler(this IHttpClientBuilder client, IConfiguration configuration, string credential)
    {
        var (name, secret) = Of(configuration, credential);
        return client.AddHttpMessageHandler(() => new MeshCallerHandler(name, secret));
    }

    public static (string Name, string Secret) Of(IConfiguration configuration, string credential) =>
        (configuration[$"{Section}:{credential}:Name"] ?? "", configuration[$"{Section}:{credential}:Secret"] ?? "");

    internal static IHttpClientBuilder WithCallerCredentials(this IHttpClientBuilder client, string name, string secret) =>
        client
            .AsMeshGrpcClient()
            .AddCallCredentials((_, metadata) =>
            {
                metadata.Add(MeshCallerAuthenticator.CallerHeader, name);
                metadata.Add(MeshCallerAuthenticator.AuthorizationHeader, $"Bearer {secret}");
                return Task.CompletedTask;
            })
            // Inside the mesh gRPC is plain HTTP/2 (h2c): the secret travels on loopback or the private network.
            .ConfigureChannel(options => options.UnsafeUseInsecureChannelCallCredentials = true);
}

/// <summary>Adds the caller's name and secret to every request of an HttpClient.</summary>
public sealed class MeshCallerHandler(string name, string secret) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(MeshCallerAuthenticator.CallerHeader);
        request.Headers.Add(MeshCallerAuthenticator.CallerHeader, name);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        return base.SendAsync(request, cancellationToken);
    }
}
