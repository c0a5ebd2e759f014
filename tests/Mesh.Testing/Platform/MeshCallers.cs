using System.Net.Http.Headers;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Testing;

/// <summary>
/// A test's credentials at a Mesh server, as the AppHost made them: the caller's name and the secret
/// parameter <c>{caller}-{server}-secret</c>. <see cref="Dashboard"/> is the AppHost's dashboard
/// commands, an operator at the switch, settlement and every bank. Linked into the end-to-end tests
/// and the load generators.
/// </summary>
public static class MeshCallers
{
    public const string CallerHeader = "x-mesh-caller";
    public const string Dashboard = "dashboard";

    public static async Task<string> SecretAsync(this DistributedApplication app, string caller, string server)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var name = $"{caller}-{server}-secret";
        return (await model.Resources.OfType<ParameterResource>().Single(p => p.Name == name).GetValueAsync(CancellationToken.None))!;
    }

    /// <summary>An HttpClient for <paramref name="server"/>'s http endpoint that presents <paramref name="caller"/>'s credential there.</summary>
    public static async Task<HttpClient> CreateCallerHttpClientAsync(this DistributedApplication app, string server, string caller = Dashboard)
    {
        var http = app.CreateHttpClient(server, "http");
        http.DefaultRequestHeaders.Present(caller, await app.SecretAsync(caller, server));
        return http;
    }

    public static void Present(this HttpRequestHeaders headers, string? caller, string? secret)
    {
        if (caller is not null)
        {
            headers.Add(CallerHeader, caller);
        }
        if (secret is not null)
        {
            headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
    }
}
