using System.Globalization;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// What an SRE scraping the services sees after one approved purchase: each service's meter on
/// <c>/metrics</c> counts it (the gateway's payment, the switch's authorization by issuer and
/// response code, the Hsm's commands by caller, the ledger's entry), and no card number is there.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class MetricsTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task AnApprovedPurchase_IsCountedByEveryServicesMeter_AndNoCardNumberIsInTheMetrics()
    {
        var before = await ScrapeAllAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var card = Acquirer.TestCard("622202", 1); // the approvable test card (7 is the one blocked by wrong PINs)
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(TestMerchant.NewOrderId(), 3_21));
        var result = await consumer.PayAsync(page, card);
        Assert.Contains("successful", result, StringComparison.OrdinalIgnoreCase);

        var after = await Eventually.UntilAsync(ScrapeAllAsync,
            scraped => Sum(scraped["settlement"], "mesh_settlement_entries_total", "kind=\"purchase\"") > Sum(before["settlement"], "mesh_settlement_entries_total", "kind=\"purchase\""),
            "the settlement's purchase entries counted (mesh_settlement_entries_total) past the count before the purchase", TimeSpan.FromSeconds(60));

        double Grew(string service, string name, params string[] labels) => Sum(after[service], name, labels) - Sum(before[service], name, labels);
        Assert.True(Grew("gateway", "mesh_gateway_payments_total", "result=\"approved\"", "response_code=\"00\"") >= 1, after["gateway"]);
        Assert.True(Grew("gateway", "mesh_gateway_orders_total", "protocol=\"netpay\"") >= 1, after["gateway"]);
        Assert.True(Grew("gateway", "mesh_gateway_payment_duration_seconds_count", "result=\"approved\"") >= 1, after["gateway"]);
        Assert.True(Grew("switch", "mesh_switch_authorizations_total", "issuer=\"issuer-icbc\"", "mti=\"0200\"", "response_code=\"00\"") >= 1, after["switch"]);
        Assert.True(Grew("switch", "mesh_switch_issuer_duration_seconds_count", "issuer=\"issuer-icbc\"", "outcome=\"answered\"") >= 1, after["switch"]);
        Assert.True(Sum(after["switch"], "mesh_switch_approval_rate") is > 0 and <= 1, after["switch"]);
        Assert.Contains("mesh_switch_reversals_pending", after["switch"], StringComparison.Ordinal);
        Assert.True(Grew("hsm", "mesh_hsm_commands_total", "command=\"TranslatePin\"", "caller=\"switch\"", "outcome=\"done\"") >= 1, after["hsm"]);
        Assert.True(Grew("hsm", "mesh_hsm_commands_total", "command=\"TranslatePinFromBrowser\"", "caller=\"gateway\"", "outcome=\"done\"") >= 1, after["hsm"]);
        Assert.True(Grew("settlement", "mesh_settlement_entries_total", "kind=\"purchase\"") >= 1, after["settlement"]);
        Assert.True(Grew("settlement", "mesh_settlement_amount_total", "kind=\"purchase\"", "currency=\"156\"") >= 3_21, after["settlement"]);
        Assert.All(after.Values, text => Assert.DoesNotContain(card, text, StringComparison.Ordinal));
    }

    private async Task<Dictionary<string, string>> ScrapeAllAsync()
    {
        var scraped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in new[] { "gateway", "switch", "hsm", "settlement" })
        {
            using var http = platform.App.CreateHttpClient(service, "http");
            scraped[service] = await http.GetStringAsync("/metrics");
        }
        return scraped;
    }

    /// <summary>The sum of a metric's samples whose labels include all of <paramref name="labels"/> (Prometheus text format).</summary>
    private static double Sum(string text, string name, params string[] labels) =>
        text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') is var close and > 0 ? close + 1 : name.Length)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
}
