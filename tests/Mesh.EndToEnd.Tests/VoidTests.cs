using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Voids (撤销) through <c>POST /v1/orders/{orderId}/void</c>: before the cut-off of the business day it was paid on, a paid order
/// with nothing refunded is reversed at the issuer in full, the ledger nets to zero with no fee, and the merchant is told "voided";
/// after the cut-off, or of an order not paid or refunded, the void is a 409 and nothing changes.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class VoidTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);

    [Fact]
    public async Task Void_OfAPaidOrder_ReversesItAtTheIssuer_NetsToZeroInTheLedger_TellsTheMerchant_AndRepeatsTheSame()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", mode: "deferred");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await PaidOrderAsync(merchant, http, 42_00, server.Url);

        using var voided = await VoidAsync(http, merchant, orderId);
        var first = await voided.Content.ReadFromJsonAsync<JsonElement>();
        using var again = await VoidAsync(http, merchant, orderId);
        var second = await again.Content.ReadFromJsonAsync<JsonElement>();
        var told = await server.WaitForAsync(r => Body(r).GetProperty("status").GetString() == "voided");

        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        Assert.Equal(("voided", "4200"), (first.GetProperty("status").GetString(), first.GetProperty("txnAmt").GetString()));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((first.GetProperty("status").GetString(), first.GetProperty("version").GetString()),
            (second.GetProperty("status").GetString(), second.GetProperty("version").GetString()));
        Assert.Equal("voided", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", orderId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM refunds WHERE order_id = $1", orderId));
        Assert.NotNull(told);
        Assert.Equal((orderId, first.GetProperty("version").GetString()), (Body(told).GetProperty("orderId").GetString(), Body(told).GetProperty("version").GetString()));
        // The issuer's ledger: the purchase and its reversal cancel out on the card.
        var purchase = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan || transmission FROM payments WHERE order_id = $1 AND status = 'approved'", orderId);
        var reversal = await platform.ScalarAsync<string>("gatewaydb",
            "SELECT stan || transmission FROM refunds WHERE order_id = $1 AND kind = 'void' AND status = 'succeeded'", orderId);
        const string Postings = "FROM bank_01020000.postings WHERE ltrim(acquirer_id, '0') = '8010000' AND stan || transmission IN ($1, $2)";
        Assert.Equal(2L, await platform.ScalarAsync<long>("issuerdb", $"SELECT count(*) {Postings}", purchase, reversal));
        Assert.Equal(0L, await platform.ScalarAsync<long>("issuerdb", $"SELECT coalesce(sum(balance_delta_minor + held_delta_minor), 0)::bigint {Postings}",
            purchase, reversal));
        // Settlement: the sale and its reversal, no fee kept, nothing owed to the merchant.
        Assert.Equal("purchase:paid,reversal:voided", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg((payload->>'kind') || ':' || (payload->>'status'), ',' ORDER BY outbox_id) FROM outbox WHERE order_id = $1 AND topic = 'settlement'", orderId));
        Assert.Equal("purchase,reversal", await LedgerAsync(merchant, "purchase,reversal"));
        Assert.Equal(0L, await platform.ScalarAsync<long>("settlementdb", "SELECT balance_minor FROM accounts WHERE account_id = $1",
            $"merchant:{merchant.MerchantId}:payable:156"));
        Assert.Equal(0L, await platform.ScalarAsync<long>("settlementdb",
            "SELECT coalesce(sum(CASE kind WHEN 'reversal' THEN -fee_minor ELSE fee_minor END), 0)::bigint FROM journal_entries WHERE merchant_id = $1",
            merchant.MerchantId));
    }

    [Fact]
    public async Task Void_OfARefundedOrder_OfAnUnpaidOrder_AndOfNoOrder_IsRefused_AndChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var refundedId = await PaidOrderAsync(merchant, http, 30_00, "https://shop.example/notify");
        using var refund = await http.PostAsJsonAsync($"/v1/orders/{refundedId}/refunds",
            merchant.SignV1(new() { ["merId"] = merchant.MerchantId, ["refundId"] = "r1", ["refundAmt"] = "1000" }, ("orderId", refundedId)));
        Assert.Equal(HttpStatusCode.OK, refund.StatusCode);
        var unpaidId = "unpaid-" + TestMerchant.NewOrderId();
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, unpaidId, 5_00)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var before = await StateAsync(refundedId, unpaidId);

        using var ofRefunded = await VoidAsync(http, merchant, refundedId);
        using var ofUnpaid = await VoidAsync(http, merchant, unpaidId);
        using var ofNone = await VoidAsync(http, merchant, "no-" + TestMerchant.NewOrderId());

        await AssertProblemAsync(ofRefunded, HttpStatusCode.Conflict, "refund");
        await AssertProblemAsync(ofUnpaid, HttpStatusCode.Conflict, "only a paid order can be voided");
        await AssertProblemAsync(ofNone, HttpStatusCode.NotFound, "No order");
        Assert.Equal(before, await StateAsync(refundedId, unpaidId));
    }

    [Fact]
    public async Task Void_AfterTheCutoffOfTheDayItWasPaid_IsRefused_SayingARefundIsNeeded_AndChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await PaidOrderAsync(merchant, http, 18_00, "https://shop.example/notify");
        // Paid two days ago: its business day has ended whatever the time of day now.
        await platform.ScalarAsync<int>("gatewaydb", "UPDATE orders SET paid_at = paid_at - interval '2 days' WHERE order_id = $1", orderId);
        var before = await StateAsync(orderId, orderId);

        using var voided = await VoidAsync(http, merchant, orderId);

        await AssertProblemAsync(voided, HttpStatusCode.Conflict, "a refund is needed instead");
        Assert.Equal(before, await StateAsync(orderId, orderId));
        Assert.Equal("paid", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", orderId));
    }

    private static Task<HttpResponseMessage> VoidAsync(HttpClient http, TestMerchant merchant, string orderId) =>
        http.PostAsJsonAsync($"/v1/orders/{orderId}/void", merchant.SignV1(new() { ["merId"] = merchant.MerchantId }, ("orderId", orderId)));

    private async Task<string> PaidOrderAsync(TestMerchant merchant, HttpClient http, long amountMinor, string backUrl)
    {
        using var consumer = new TestConsumer(platform);
        var orderId = "void-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, amountMinor);
        order["backUrl"] = backUrl;
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(order));
        var payUrl = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!;
        Assert.Contains("Payment successful", await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), ApprovedCard));
        return orderId;
    }

    /// <summary>The two orders' rows and their refunds, to compare before and after a refused void.</summary>
    private Task<string> StateAsync(string orderId, string otherOrderId) => platform.ScalarAsync<string>("gatewaydb",
        """
        SELECT (SELECT string_agg(o.status || ':' || o.version || ':' || o.refunded_minor, ',' ORDER BY o.order_id) FROM orders o WHERE o.order_id IN ($1, $2))
            || '|' || (SELECT count(*) FROM refunds r WHERE r.order_id IN ($1, $2))
        """, orderId, otherOrderId);

    /// <summary>The merchant's journal entries' kinds, once they are <paramref name="expected"/> (at most 10 s).</summary>
    private Task<string> LedgerAsync(TestMerchant merchant, string expected) =>
        Eventually.UntilAsync(async () => await platform.ScalarAsync<string?>("settlementdb",
                "SELECT string_agg(kind, ',' ORDER BY entry_id) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId) ?? "",
            booked => booked == expected, $"{merchant.MerchantId}'s journal entries booked as {expected}", TimeSpan.FromSeconds(10));

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static JsonElement Body(ReceivedNotification received) => JsonDocument.Parse(received.Body).RootElement;
}
