using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.Iso8583.Messages;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Two gateways and two switches (the AppHost's <c>Mesh:Replicas=2</c>) behind the proxies: the
/// purchases, refunds and a reversal spread over both, and each is done exactly once: one
/// authorization per purchase at the switch and the bank, one ledger entry per payment and refund,
/// one notification delivered per order state, the reversal sent until acknowledged and the
/// card's money back.
/// </summary>
[Collection(ReplicatedPlatformCollection.Name)]
public sealed class ReplicasTests(ReplicatedPlatformFixture platform)
{
    private const int Purchases = 8;
    private const int Refunds = 4;
    private const long AmountMinor = 25_00;

    [Fact]
    public async Task TwoGatewaysAndTwoSwitches_SharePurchasesRefundsAndAReversal_AndDoEachOnce()
    {
        await using var merchantEndpoint = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        var orders = new List<string>();
        for (var i = 0; i < Purchases; i++)
        {
            // A new connection for each order and each consumer: the proxy spreads connections over the replicas.
            using var http = platform.App.CreateHttpClient("gateway", "http");
            using var consumer = new TestConsumer(platform);
            var orderId = "rep-" + TestMerchant.NewOrderId();
            var fields = OrdersApiTests.Order(merchant, orderId, AmountMinor);
            fields["backUrl"] = merchantEndpoint.Url;
            using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(fields));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var payUrl = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!;
            Assert.Contains("Payment successful", await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), Acquirer.TestCard("622202", 1)));
            orders.Add(orderId);
        }
        foreach (var orderId in orders.Take(Refunds))
        {
            using var http = platform.App.CreateHttpClient("gateway", "http");
            using var refunded = await http.PostAsJsonAsync($"/v1/orders/{orderId}/refunds",
                merchant.SignV1(new() { ["merId"] = merchant.MerchantId, ["refundId"] = "r-" + orderId, ["refundAmt"] = "100" }, ("orderId", orderId)));
            Assert.Equal(HttpStatusCode.OK, refunded.StatusCode);
        }

        // A purchase whose answer the bank drops: the switch answers 91 and reverses it until the bank acknowledges.
        using var acquirer = await platform.NewAcquirerAsync();
        using var bank = await platform.HttpClientAsync("issuer-ccb");
        var dropped = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("621700", 1), "3012", "123456", 7_00);
        await SetDropAnswersAsync(bank, true);
        IsoMessage answer;
        try
        {
            answer = await acquirer.SendAsync(dropped);
        }
        finally
        {
            await SetDropAnswersAsync(bank, false);
        }
        var stan = dropped.GetString(IsoFields.Stan)!;

        Assert.Equal(ResponseCodes.IssuerUnavailable, answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(1L, await EventuallyAsync("switchdb", "SELECT count(*) FROM reversals WHERE stan = $1 AND acknowledged_at IS NOT NULL", 1, stan));
        Assert.Equal(0L, await IssuerNetAsync("01050000", stan));
        Assert.Equal(1L, await platform.ScalarAsync<long>("switchdb", "SELECT count(*) FROM reversals WHERE stan = $1", stan));

        var ids = orders.ToArray();
        Assert.Equal(Purchases, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM orders WHERE merchant_id = $1 AND order_id = ANY($2) AND status = 'paid'", merchant.MerchantId, ids));
        Assert.Equal(Purchases, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM payments WHERE merchant_id = $1 AND order_id = ANY($2)", merchant.MerchantId, ids));
        Assert.Equal(Purchases, await EventuallyAsync("settlementdb",
            "SELECT count(*) FROM journal_entries WHERE merchant_id = $1 AND kind = 'purchase'", Purchases, merchant.MerchantId));
        Assert.Equal(Refunds, await EventuallyAsync("settlementdb",
            "SELECT count(*) FROM journal_entries WHERE merchant_id = $1 AND kind = 'refund'", Refunds, merchant.MerchantId));
        Assert.Equal(Purchases + Refunds, await EventuallyAsync("gatewaydb",
            "SELECT count(*) FROM outbox WHERE merchant_id = $1 AND topic = 'notification' AND delivered_at IS NOT NULL", Purchases + Refunds, merchant.MerchantId));
        // A notification is delivered once: the merchant got no id twice (a retry after a failure would repeat one, none failed here).
        var told = merchantEndpoint.Received.Select(r => r.Headers.GetValueOrDefault("Mesh-Notification-Id")).ToList();
        Assert.Equal(Purchases + Refunds, told.Count);
        Assert.Equal(told.Count, told.Distinct().Count());

        // Both replicas of each did some of the work (their spans carry their own instance ids).
        // Each gateway keeps one HTTP/2 connection to the switch, so both may reach the same switch replica: acquirers on
        // connections of their own (at most ten) reach the other one too.
        IEnumerable<Otlp.ReceivedSpan> SwitchSpans() => platform.Traces.Spans.Where(s => s.Service == "switch" && s.Name.StartsWith("iso8583 0200", StringComparison.Ordinal));
        int SwitchReplicasSeen() => SwitchSpans().Select(s => s.Instance).Distinct().Count();
        await Eventually.TrueAsync(() => platform.Traces.Spans.Where(s => s.Service == "gateway" && s.Name == "gateway purchase").Select(s => s.Instance).Distinct().Count() == 2,
            "the purchases paid through both gateway replicas (their spans' instance ids)");
        for (var i = 0; i < 10 && SwitchReplicasSeen() < 2; i++)
        {
            var switched = SwitchSpans().Count();
            using var another = await platform.NewAcquirerAsync();
            Assert.Equal(ResponseCodes.Approved, (await another.PurchaseAsync(Acquirer.TestCard("622202", 1), "3012", "123456", 1_00)).GetString(IsoFields.ResponseCode));
            await Eventually.TrueAsync(() => SwitchSpans().Count() > switched, "the new purchase's span at the switch");
        }
        Assert.True(SwitchReplicasSeen() == 2, $"purchases were switched by {SwitchReplicasSeen()} switch replica(s)");
    }

    private static async Task SetDropAnswersAsync(HttpClient bank, bool drop)
    {
        using var response = await bank.PutAsJsonAsync("/admin/faults", new { latencyMs = 0, dropAnswers = drop, closeConnections = false, systemMalfunction = false });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A count that background work brings to <paramref name="expected"/>: the count once it gets there (a minute at most).</summary>
    private Task<long> EventuallyAsync(string database, string sql, long expected, params object[] values) =>
        Eventually.UntilAsync(() => platform.ScalarAsync<long>(database, sql, values), count => count >= expected, $"{database}: {sql} reaching {expected}",
            TimeSpan.FromSeconds(60));

    private async Task<long> IssuerNetAsync(string bankId, string stan)
    {
        var connection = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("issuerdb")) { SearchPath = $"bank_{bankId}" };
        await using var db = new NpgsqlConnection(connection.ConnectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce(sum(balance_delta_minor + held_delta_minor), 0) FROM postings WHERE stan = $1", db);
        command.Parameters.Add(new NpgsqlParameter { Value = stan });
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
