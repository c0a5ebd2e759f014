using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
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
    public async Task TheDashboardLinks_TheConsoles_TheApiReference_AndTheShop_AndEachOpens()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var gateway = await platform.App.ResourceNotifications.WaitForResourceAsync("gateway",
            e => e.Snapshot.Urls.Count(u => u.DisplayProperties.DisplayName.Length > 0) >= 3, wait.Token);
        var shop = await platform.App.ResourceNotifications.WaitForResourceAsync("shop",
            e => e.Snapshot.Urls.Any(u => u.DisplayProperties.DisplayName == Mesh.AppHost.ResourceLinks.Shop), wait.Token);
        var links = gateway.Snapshot.Urls.Concat(shop.Snapshot.Urls).Where(u => u.DisplayProperties.DisplayName.Length > 0)
            .ToDictionary(u => u.DisplayProperties.DisplayName, u => u.Url);
        using var browser = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });

        var opened = new Dictionary<string, (int Status, string Path)>();
        foreach (var name in new[] { Mesh.AppHost.ResourceLinks.MerchantConsole, Mesh.AppHost.ResourceLinks.OperatorConsole, Mesh.AppHost.ResourceLinks.ApiReference,
            Mesh.AppHost.ResourceLinks.Shop })
        {
            using var response = await browser.GetAsync(links[name]);
            opened[name] = ((int)response.StatusCode, response.RequestMessage!.RequestUri!.AbsolutePath);
        }

        // The consoles send a visitor to sign in; the API reference and the shop open.
        Assert.Equal((200, "/console/login"), opened[Mesh.AppHost.ResourceLinks.MerchantConsole]);
        Assert.Equal((200, "/ops/login"), opened[Mesh.AppHost.ResourceLinks.OperatorConsole]);
        Assert.Equal(200, opened[Mesh.AppHost.ResourceLinks.ApiReference].Status);
        Assert.StartsWith("/scalar", opened[Mesh.AppHost.ResourceLinks.ApiReference].Path, StringComparison.Ordinal);
        Assert.Equal((200, "/"), opened[Mesh.AppHost.ResourceLinks.Shop]);
        Assert.StartsWith("https://", links[Mesh.AppHost.ResourceLinks.MerchantConsole], StringComparison.Ordinal);
    }

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
    public async Task ResendingPendingNotificationsFromTheDashboard_DeliversOneTheScheduleGaveUpOn_AndCountsItDue()
    {
        await using var server = await MerchantServer.StartAsync();
        server.AlwaysFail = true;
        using var merchant = await TestMerchant.OnboardAsync(platform, mode: "deferred");
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var paid = await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 11_00, bgRetUrl: server.Url)),
            Acquirer.TestCard("622202", 1));
        // The fixture's schedule (1 s, 1 s, 2 s) gives up after four failed attempts; then the merchant fixes its endpoint.
        var givenUp = await NotificationReachesAsync(merchant.MerchantId, ordId, "given_up_at IS NOT NULL");
        server.AlwaysFail = false;

        var resent = await RunAsync("gateway", "resend-pending-notifications");
        var delivered = await server.WaitForAsync(r => Encoding.ASCII.GetString(r.Body).Contains($"orderno={ordId}", StringComparison.Ordinal));
        var recorded = await NotificationReachesAsync(merchant.MerchantId, ordId, "delivered_at IS NOT NULL AND given_up_at IS NULL");

        Assert.Contains("Payment successful", paid);
        Assert.True(givenUp, $"the notification of order {ordId} was not given up within 30 s");
        Assert.True(resent.Success, resent.Message);
        using var answer = JsonDocument.Parse(resent.Data!.Value);
        Assert.InRange(answer.RootElement.GetProperty("due").GetInt32(), 1, 9_999); // this order's notification at least, less than one call's limit
        Assert.False(answer.RootElement.GetProperty("more").GetBoolean());
        Assert.NotNull(delivered);
        Assert.True(recorded, $"the notification of order {ordId} is not recorded delivered within 30 s");
    }

    /// <summary>Whether the order's (current) notification is in the given state in gatewaydb within 30 s.</summary>
    private async Task<bool> NotificationReachesAsync(string merchantId, string orderId, string state)
    {
        for (var i = 0; i < 150; i++)
        {
            if (await platform.ScalarAsync<long>("gatewaydb",
                $"SELECT count(*) FROM outbox WHERE topic = 'notification' AND merchant_id = $1 AND order_id = $2 AND superseded_at IS NULL AND {state}",
                merchantId, orderId) > 0)
            {
                return true;
            }
            await Task.Delay(200);
        }
        return false;
    }

    /// <summary>The switch reconnects on its own (an echo timeout at worst): the link is up within 30 s, or the switch's lines about it say why not.</summary>
    private async Task LinkUpAsync()
    {
        using var cardSwitch = await platform.HttpClientAsync("switch");
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
