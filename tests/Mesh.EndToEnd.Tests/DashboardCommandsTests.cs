using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Mesh.Iso8583.Messages;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The Aspire dashboard's commands, run as an operator runs them: a bank signed off at the switch
/// gets 91 for its cards and pays again once signed on; a bank's fault knob (96 answers) makes a
/// purchase's outcome unknown until it is cleared; the gateway re-sends the notifications it owes.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class DashboardCommandsTests(MeshPlatformFixture platform)
{
    private const string Bank = "issuer-ccb";

    [Fact]
    public async Task ABankSignedOffFromTheDashboard_Gets91_AndPaysAgainOnceSignedOn()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var card = Acquirer.TestCard("621700", 1);
        ExecuteCommandResult signedOff;
        string duringSignOff;
        try
        {
            signedOff = await RunAsync(Bank, "sign-off");
            duringSignOff = (await acquirer.PurchaseAsync(card, "3012", "123456", 2_00)).GetString(IsoFields.ResponseCode)!;
        }
        finally
        {
            var signedOn = await RunAsync(Bank, "sign-on");
            Assert.True(signedOn.Success, signedOn.Message);
            Assert.False(Link(signedOn).GetProperty("signedOffByOperator").GetBoolean());
            await LinkUpAsync();
        }
        var afterSignOn = (await acquirer.PurchaseAsync(card, "3012", "123456", 2_00)).GetString(IsoFields.ResponseCode);

        Assert.True(signedOff.Success, signedOff.Message);
        Assert.False(Link(signedOff).GetProperty("signedOn").GetBoolean());
        Assert.True(Link(signedOff).GetProperty("signedOffByOperator").GetBoolean());
        Assert.Equal(ResponseCodes.IssuerUnavailable, duringSignOff);
        Assert.Equal(ResponseCodes.Approved, afterSignOn);
    }

    [Fact]
    public async Task TheBanks96FaultFromTheDashboard_MakesAPurchase91_UntilTheFaultIsCleared()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var card = Acquirer.TestCard("621700", 1);
        string during;
        try
        {
            await LinkUpAsync();
            var injected = await RunAsync(Bank, "fault-answer-96");
            Assert.True(injected.Success, injected.Message);
            during = (await acquirer.PurchaseAsync(card, "3012", "123456", 3_00)).GetString(IsoFields.ResponseCode)!;
        }
        finally
        {
            var cleared = await RunAsync(Bank, "fault-clear");
            Assert.True(cleared.Success, cleared.Message);
        }
        var after = (await acquirer.PurchaseAsync(card, "3012", "123456", 3_00)).GetString(IsoFields.ResponseCode);

        Assert.Equal(ResponseCodes.IssuerUnavailable, during);
        Assert.Equal(ResponseCodes.Approved, after);
    }

    [Fact]
    public async Task ResendingPendingNotificationsFromTheDashboard_SaysHowManyAreDueNow()
    {
        var resent = await RunAsync("gateway", "resend-pending-notifications");

        Assert.True(resent.Success, resent.Message);
        using var answer = JsonDocument.Parse(resent.Data!.Value);
        Assert.True(answer.RootElement.GetProperty("due").GetInt32() >= 0);
        Assert.False(answer.RootElement.GetProperty("more").GetBoolean());
    }

    /// <summary>The switch reconnects on its own (an echo timeout at worst): the link is up within 30 s, or the switch's lines about it say why not.</summary>
    private async Task LinkUpAsync()
    {
        using var cardSwitch = platform.App.CreateHttpClient("switch", "http");
        for (var i = 0; i < 150; i++)
        {
            var links = await cardSwitch.GetFromJsonAsync<JsonElement>("/admin/links");
            if (links.EnumerateArray().Any(l => l.GetProperty("issuer").GetString() == Bank && l.GetProperty("signedOn").GetBoolean()))
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"{Bank} is not signed on after 30 s; the switch said:\n"
            + string.Join('\n', platform.Logs.Where(l => l.Resource == "switch" && l.Line.Contains(Bank, StringComparison.Ordinal)).TakeLast(20).Select(l => l.Line)));
    }

    private async Task<ExecuteCommandResult> RunAsync(string resource, string command) =>
        await platform.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command);

    private static JsonElement Link(ExecuteCommandResult result) => JsonDocument.Parse(result.Data!.Value).RootElement.Clone();
}
