using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// NetPay's order query as NetPay's integrators send and read it, and the gate codes (GateId) an
/// operator manages: NetPay's own codes work, an added code is accepted at once, a disabled one is
/// refused, and each change is audited.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NetPayQueryAndGateCodeTests(MeshPlatformFixture platform)
{
    private const string Password = "gate codes operator password";

    [Fact]
    public async Task Query_AnswersTheOrdersStateInNetPaysFields_SignedByThePlatform_AndRefusesWhatItShould()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var (paid, unpaid) = (TestMerchant.NewOrderId(), TestMerchant.NewOrderId());
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(paid, 25_00, priv1: "cart=7&gift", gateId: "8607")), Acquirer.TestCard("622202", 1));
        await consumer.StartNetPayAsync(merchant.NetPayOrder(unpaid, 9_00));
        using var netPayKey = await NetPayKeyAsync();

        var ofPaid = await QueryAsync(consumer, merchant.NetPayQuery(paid));
        var ofUnpaid = await QueryAsync(consumer, merchant.NetPayQuery(unpaid));
        using (await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(paid, 5_00, "q-1")))
        {
        }
        var afterRefund = await QueryAsync(consumer, merchant.NetPayQuery(paid));
        var noSuchOrder = await QueryAsync(consumer, merchant.NetPayQuery(TestMerchant.NewOrderId()));
        var otherDate = await QueryAsync(consumer, merchant.NetPayQuery(paid, "20200101"));
        var forged = merchant.NetPayQuery(paid);
        forged["OrdId"] = unpaid;
        var badSignature = await QueryAsync(consumer, forged);
        var refund = merchant.NetPayQuery(paid);
        refund["TransType"] = "0002";
        var notAPurchase = await QueryAsync(consumer, refund);

        Assert.Equal(HttpStatusCode.OK, ofPaid.Status);
        Assert.Equal(["ResponeseCode", "merid", "orderno", "amount", "currencycode", "transdate", "transtype", "status", "checkvalue", "GateId", "Priv1"],
            ofPaid.Fields.Keys);
        Assert.Equal(("0", "1001", "000000002500", "156", "0001", "8607"), (ofPaid.Fields["ResponeseCode"], ofPaid.Fields["status"], ofPaid.Fields["amount"],
            ofPaid.Fields["currencycode"], ofPaid.Fields["transtype"], ofPaid.Fields["GateId"]));
        Assert.Equal("cart%3D7%26gift", ofPaid.Fields["Priv1"]);
        Assert.True(Signed(ofPaid.Fields, netPayKey));
        Assert.Equal(("0", "1000"), (ofUnpaid.Fields["ResponeseCode"], ofUnpaid.Fields["status"]));
        Assert.True(Signed(ofUnpaid.Fields, netPayKey));
        Assert.Equal("1003", afterRefund.Fields["status"]);
        Assert.True(Signed(afterRefund.Fields, netPayKey));
        Assert.Equal((HttpStatusCode.NotFound, "307"), (noSuchOrder.Status, noSuchOrder.Fields["ResponeseCode"]));
        Assert.Equal((HttpStatusCode.NotFound, "307"), (otherDate.Status, otherDate.Fields["ResponeseCode"]));
        Assert.Equal((HttpStatusCode.Forbidden, "902"), (badSignature.Status, badSignature.Fields["ResponeseCode"]));
        Assert.Equal((HttpStatusCode.BadRequest, "901"), (notAPurchase.Status, notAPurchase.Fields["ResponeseCode"]));
        foreach (var refusal in new[] { noSuchOrder, otherDate, badSignature, notAPurchase })
        {
            Assert.Equal(["ResponeseCode", "Message"], refusal.Fields.Keys);
        }
    }

    [Fact]
    public async Task GateCodes_NetPaysOwnWork_AnAddedOneIsAccepted_ADisabledOneRefused_AndEachChangeIsAudited()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var gateId = "9" + Random.Shared.Next(100, 999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var operatorId = await AddPlatformAdminAsync();
        var session = await ConsoleSession.SignInAsync(platform, "/ops", new() { ["operatorId"] = operatorId, ["password"] = Password });
        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };
        async Task<(HttpStatusCode Status, string Html)> PostAsync(string path, Dictionary<string, string> form, string? csrf = null)
        {
            form["csrf"] = csrf ?? session.Csrf!;
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Add("Cookie", session.Cookie);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        async Task<HttpStatusCode> OrderAsync(string gate)
        {
            using var response = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_00, gateId: gate));
            return response.StatusCode;
        }

        var unionPay = await OrderAsync("8607");
        var unknown = await OrderAsync(gateId);
        var added = await PostAsync("/ops/gates", new() { ["gateId"] = gateId, ["bankName"] = "China Merchants Bank" });
        var afterAdding = await OrderAsync(gateId);
        var page = await consumer.OpenAsync(await RedirectOfAsync(consumer, merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_00, gateId: "")));
        var disabled = await PostAsync($"/ops/gates/{gateId}/disable", []);
        var afterDisabling = await OrderAsync(gateId);
        var badCode = await PostAsync("/ops/gates", new() { ["gateId"] = "12a4", ["bankName"] = "x" });
        var noCsrf = await PostAsync($"/ops/gates/{gateId}/disable", [], csrf: "wrong");

        Assert.Equal(HttpStatusCode.Redirect, unionPay);
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal(HttpStatusCode.OK, added.Status);
        Assert.Contains($"{gateId} (China Merchants Bank) is enabled.", added.Html);
        Assert.Equal(HttpStatusCode.Redirect, afterAdding);
        Assert.Contains($"value=\"{gateId}\"", page.Html);
        Assert.Contains("China Merchants Bank", page.Html);
        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.Equal(HttpStatusCode.BadRequest, afterDisabling);
        Assert.Equal(HttpStatusCode.BadRequest, badCode.Status);
        Assert.NotEqual(HttpStatusCode.OK, noCsrf.Status);
        Assert.Equal("gate-code-added,gate-code-disabled", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg(action, ',' ORDER BY audit_id) FROM console_audit WHERE operator_id = $1 AND action LIKE 'gate-code-%'", operatorId));
        Assert.False(await platform.ScalarAsync<bool>("gatewaydb", "SELECT enabled FROM gate_codes WHERE gate_id = $1", gateId));
    }

    private static async Task<string> RedirectOfAsync(TestConsumer consumer, Dictionary<string, string> order)
    {
        using var response = await consumer.PostFormAsync("/pay/TransGet", order);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static async Task<(HttpStatusCode Status, Dictionary<string, string> Fields)> QueryAsync(TestConsumer consumer, Dictionary<string, string> form)
    {
        using var response = await consumer.PostFormAsync("/pay/Query", form);
        return (response.StatusCode, TestMerchant.ReadNetPayAnswer(await response.Content.ReadAsByteArrayAsync()));
    }

    private static bool Signed(IReadOnlyDictionary<string, string> f, RSA netPayKey) =>
        netPayKey.VerifyData(Encoding.UTF8.GetBytes(f["merid"] + f["orderno"] + f["amount"] + f["currencycode"] + f["transdate"] + f["transtype"] + f["status"]),
            Convert.FromHexString(f["checkvalue"]), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1);

    private async Task<RSA> NetPayKeyAsync()
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var key = RSA.Create();
        key.ImportFromPem(await http.GetStringAsync("/v1/platform-netpay-key"));
        return key;
    }

    private async Task<string> AddPlatformAdminAsync()
    {
        var operatorId = "gates" + Random.Shared.Next(100_000, 999_999);
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var added = await admin.PostAsync("/admin/platform-operators",
            System.Net.Http.Json.JsonContent.Create(new { operatorId, role = "platform-admin", password = Password }));
        added.EnsureSuccessStatusCode();
        return operatorId;
    }
}
