using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Mesh.ServiceDefaults.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Switch.Tests;

/// <summary>
/// The <c>/admin</c> routes' door on a real Kestrel listening on every address: the operator's
/// credential opens it on loopback; none, a wrong one or another role's does not; and from
/// another host over plain HTTP even the operator's is refused.
/// </summary>
public sealed class AdminRouteDoorTests : IAsyncLifetime
{
    private const string OperatorSecret = "operator-secret-operator-secret-0001";
    private const string SettlementSecret = "settlement-secret-settlement-00001";
    private WebApplication _app = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:Callers:dashboard:Role"] = MeshRoles.Operator,
            ["Mesh:Callers:dashboard:Secret"] = OperatorSecret,
            ["Mesh:Callers:settlement:Role"] = MeshRoles.Settlement,
            ["Mesh:Callers:settlement:Secret"] = SettlementSecret,
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Any, 0));
        builder.AddMeshCallerAccess();
        _app = builder.Build();
        _app.MapGroup("/admin").RequireMeshCaller(MeshRoles.Operator).MapPost("/levers", () => "pulled");
        await _app.StartAsync();
        _port = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized)]
    [InlineData("dashboard", "wrong-secret-wrong-secret-wrong-00", HttpStatusCode.Unauthorized)]
    [InlineData("dashboard", SettlementSecret, HttpStatusCode.Unauthorized)]
    [InlineData("settlement", SettlementSecret, HttpStatusCode.Forbidden)]
    [InlineData("dashboard", OperatorSecret, HttpStatusCode.OK)]
    public async Task OnLoopback_OnlyTheOperatorsCredentialOpensTheDoor(string? caller, string? secret, HttpStatusCode expected)
    {
        using var response = await PostAsync(IPAddress.Loopback, caller, secret);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? "text/plain" : "application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task FromAnotherHostOverPlainHttp_EvenTheOperatorIsRefused()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (address is null)
        {
            return; // a machine with loopback only has no other host to be
        }

        using var response = await PostAsync(address, "dashboard", OperatorSecret);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("HTTPS", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PostAsync(IPAddress address, string? caller, string? secret)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}:{_port}/admin/levers");
        if (caller is not null)
        {
            request.Headers.Add(MeshCallerAuthenticator.CallerHeader, caller);
        }
        if (secret is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        }
        return await http.SendAsync(request);
    }
}
