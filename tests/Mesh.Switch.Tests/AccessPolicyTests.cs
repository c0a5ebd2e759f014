using Mesh.Contracts.Switch;
using Mesh.ServiceDefaults.Access;
using Mesh.Switch.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Switch.Tests;

public sealed class AccessPolicyTests
{
    private static readonly string[] Roles = [.. MeshRoles.All];

    [Fact]
    public void EveryMethodOfTheContract_IsNamedInThePolicy_NoneIsLockedByOversight()
    {
        var named = SwitchAccessPolicy.Policy.Methods.Keys.ToHashSet();

        Assert.All(CardSwitch.Descriptor.Methods, m => Assert.Contains($"/{CardSwitch.Descriptor.FullName}/{m.Name}", named));
        Assert.Equal(CardSwitch.Descriptor.Methods.Count, named.Count);
    }

    [Theory]
    [InlineData("Authorize", MeshRoles.Acquirer)]
    [InlineData("GetOutcome", MeshRoles.Acquirer)]
    [InlineData("ListAuthorizations", MeshRoles.Settlement)]
    [InlineData("SetBinRoute", MeshRoles.Operator)]
    [InlineData("DeleteBinRoute", MeshRoles.Operator)]
    [InlineData("OnboardIssuer", MeshRoles.Operator)]
    [InlineData("ChangeZoneKeys", MeshRoles.Operator)]
    [InlineData("ListBinRoutes", MeshRoles.Operator)]
    [InlineData("ListLinks", MeshRoles.Operator)]
    public void AMethodThatMovesMoneyOrChangesRouting_IsAllowedToOneRoleOnly(string method, string role)
    {
        var path = $"/{CardSwitch.Descriptor.FullName}/{method}";

        Assert.Equal([role], Roles.Where(r => SwitchAccessPolicy.Policy.Allows(path, r)));
    }

    [Fact]
    public void WhichBinsAreCredit_IsForTheAcquirerAndOperators_NotForSettlement()
    {
        var path = $"/{CardSwitch.Descriptor.FullName}/ListCardProducts";

        Assert.Equal([MeshRoles.Acquirer, MeshRoles.Operator], Roles.Where(r => SwitchAccessPolicy.Policy.Allows(path, r)).Order());
    }

    [Fact]
    public void AMethodThePolicyDoesNotName_IsRefusedToEveryone_TheHealthServiceIsOpen()
    {
        Assert.DoesNotContain(Roles, r => SwitchAccessPolicy.Policy.Allows("/mesh.switch.CardSwitch/Unlisted", r));
        Assert.DoesNotContain(Roles, r => SwitchAccessPolicy.Policy.Allows("/other.Service/Authorize", r));
        Assert.True(MeshAccessPolicy.IsOpen("/grpc.health.v1.Health/Check"));
        Assert.False(MeshAccessPolicy.IsOpen("/mesh.switch.CardSwitch/Authorize"));
    }

    [Fact]
    public void APolicyNamingARoleThatDoesNotExist_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new MeshAccessPolicy("x.Y", new Dictionary<string, string[]> { ["Z"] = ["root"] }));
    }

    [Fact]
    public void TheCallersOptions_RefuseAnUnknownRole_AndAShortSecret()
    {
        var options = new MeshAccessOptions
        {
            Callers =
            {
                ["gateway"] = new MeshCallerOptions { Role = MeshRoles.Acquirer, Secret = new string('a', 64) },
                ["mallory"] = new MeshCallerOptions { Role = "root", Secret = new string('b', 64) },
                ["lazy"] = new MeshCallerOptions { Role = MeshRoles.Operator, Secret = "short" },
            },
        };

        var problems = options.Problems().ToList();

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("mallory", StringComparison.Ordinal) && p.Contains("Role", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("lazy", StringComparison.Ordinal) && p.Contains("Secret", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gateway", "Bearer gateway-secret-gateway-secret-0001", true)]
    [InlineData("gateway", "Bearer gateway-secret-gateway-secret-0002", false)]
    [InlineData("gateway", "Bearer settlement-secret-settlement-00001", false)]
    [InlineData("settlement", "Bearer gateway-secret-gateway-secret-0001", false)]
    [InlineData("gateway", "gateway-secret-gateway-secret-0001", false)]
    [InlineData("gateway", "Bearer ", false)]
    [InlineData("gateway", null, false)]
    [InlineData("mallory", "Bearer gateway-secret-gateway-secret-0001", false)]
    [InlineData(null, "Bearer gateway-secret-gateway-secret-0001", false)]
    public void ACaller_IsAuthenticatedByItsOwnNameAndSecretOnly(string? name, string? authorization, bool authenticated)
    {
        var callers = Authenticator(("gateway", MeshRoles.Acquirer, "gateway-secret-gateway-secret-0001"),
            ("settlement", MeshRoles.Settlement, "settlement-secret-settlement-00001"));

        var caller = callers.Authenticate(name, authorization);

        Assert.Equal(authenticated, caller is not null);
        Assert.True(caller is null || caller == new MeshCaller("gateway", MeshRoles.Acquirer));
    }

    private static MeshCallerAuthenticator Authenticator(params (string Name, string Role, string Secret)[] callers)
    {
        var options = new MeshAccessOptions();
        foreach (var (name, role, secret) in callers)
        {
            options.Callers[name] = new MeshCallerOptions { Role = role, Secret = secret };
        }
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var metrics = new MeshAccessMetrics(meters, new HostingEnvironment { ApplicationName = "Mesh.Switch.Tests" });
        return new MeshCallerAuthenticator(Microsoft.Extensions.Options.Options.Create(options), metrics, NullLogger<MeshCallerAuthenticator>.Instance);
    }
}
