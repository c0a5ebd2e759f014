using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Pre-authorization (预授权) through <c>/v1</c>: an order of captureMode <c>hold</c> is paid as a 0100 hold; the merchant captures it
/// once, up to the amount held (the rest goes back to the card), or releases it; a hold past its expiry is released by the platform.
/// What the bank holds and debits, what the ledger books (a capture is the sale; a hold and its release nothing) and the three-way
/// reconciliation are checked, and every refused move is a 409 or 404 that changes nothing.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class HoldTests(MeshPlatformFixture platform)
{
    private static readonly string ApprovedCard = Acquirer.TestCard("622202", 1);
    private const string Bank = "bank_01020000";

    [Fact]
    public async Task Hold_CapturedInFull_IsTheSale_BookedOnce_AndTheMerchantIsTold()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", mode: "deferred");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await HeldOrderAsync(merchant, http, 80_00, server.Url);
        var held = await GetAsync(http, merchant, orderId);
        var authorized = await server.WaitForAsync(r => Body(r).GetProperty("status").GetString() == "authorized");
        var availableHeld = await AvailableAsync(orderId);

        using var captured = await CaptureAsync(http, merchant, orderId, 80_00);
        var answer = await captured.Content.ReadFromJsonAsync<JsonElement>();
        var told = await server.WaitForAsync(r => Body(r).GetProperty("kind").GetString() == "capture");

        Assert.Equal(("authorized", "hold", "8000", "0"), (Field(held, "status"), Field(held, "captureMode"), Field(held, "heldAmt"), Field(held, "capturedAmt")));
        Assert.NotNull(authorized);
        Assert.Equal("8000", Body(authorized).GetProperty("txnAmt").GetString());
        Assert.Equal(HttpStatusCode.OK, captured.StatusCode);
        Assert.Equal(("paid", "0", "8000", "8000"), (Field(answer, "status"), Field(answer, "heldAmt"), Field(answer, "capturedAmt"), Field(answer, "paidAmt")));
        Assert.NotNull(told);
        Assert.Equal(("paid", "8000"), (Body(told).GetProperty("status").GetString(), Body(told).GetProperty("txnAmt").GetString()));
        // The bank: the hold gave way to the debit; the card's available balance is what it was with the hold on.
        Assert.Equal(availableHeld, await AvailableAsync(orderId));
        Assert.Equal(0L, await HeldAtBankAsync(orderId));
        Assert.Equal("purchase:8000", await LedgerAsync(merchant, "purchase:8000"));
        Assert.Equal("purchase:paid", await platform.ScalarAsync<string>("gatewaydb",
            "SELECT string_agg((payload->>'kind') || ':' || (payload->>'status'), ',' ORDER BY outbox_id) FROM outbox WHERE order_id = $1 AND topic = 'settlement'", orderId));
    }

    [Fact]
    public async Task Hold_CapturedInPart_DebitsThePart_AndTheBankGivesTheRestBack()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await HeldOrderAsync(merchant, http, 100_00, "https://shop.example/notify");
        var availableHeld = await AvailableAsync(orderId);
        Assert.Equal(100_00L, await HeldAtBankAsync(orderId));

        using var captured = await CaptureAsync(http, merchant, orderId, 60_00);
        var answer = await captured.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, captured.StatusCode);
        Assert.Equal(("paid", "6000", "10000"), (Field(answer, "status"), Field(answer, "capturedAmt"), Field(answer, "txnAmt")));
        // 100.00 held, 60.00 taken: 40.00 is available again.
        Assert.Equal(availableHeld + 40_00, await AvailableAsync(orderId));
        Assert.Equal(0L, await HeldAtBankAsync(orderId));
        Assert.Equal("purchase:6000", await LedgerAsync(merchant, "purchase:6000"));
        // A captured hold is a sale like any: it can be refunded, against the completion.
        using var refund = await http.PostAsJsonAsync($"/v1/orders/{orderId}/refunds",
            merchant.SignV1(new() { ["merId"] = merchant.MerchantId, ["refundId"] = "r1", ["refundAmt"] = "1000" }, ("orderId", orderId)));
        Assert.Equal(HttpStatusCode.OK, refund.StatusCode);
        Assert.Equal("succeeded", Field(await refund.Content.ReadFromJsonAsync<JsonElement>(), "status"));
    }

    [Fact]
    public async Task Hold_Released_MovesNothing_TheBankGivesItBack_ARepeatIsTheSame_AndACaptureAfterIsRefused()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", mode: "deferred");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await HeldOrderAsync(merchant, http, 55_00, server.Url);
        var availableHeld = await AvailableAsync(orderId);

        using var released = await ReleaseAsync(http, merchant, orderId);
        var first = await released.Content.ReadFromJsonAsync<JsonElement>();
        using var again = await ReleaseAsync(http, merchant, orderId);
        var second = await again.Content.ReadFromJsonAsync<JsonElement>();
        var before = await StateAsync(orderId);
        using var capture = await CaptureAsync(http, merchant, orderId, 55_00);
        var told = await server.WaitForAsync(r => Body(r).GetProperty("status").GetString() == "released");

        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        Assert.Equal(("released", "0", "0"), (Field(first, "status"), Field(first, "heldAmt"), Field(first, "capturedAmt")));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((Field(first, "status"), Field(first, "version")), (Field(second, "status"), Field(second, "version")));
        await AssertProblemAsync(capture, HttpStatusCode.Conflict, "nothing is held any more");
        Assert.Equal(before, await StateAsync(orderId));
        Assert.NotNull(told);
        Assert.Equal("hold", Body(told).GetProperty("kind").GetString());
        // The switch repeats the reversal until the bank acknowledges it: the hold comes off the card.
        await Eventually.TrueAsync(async () => await HeldAtBankAsync(orderId) == 0, "the bank gives back the released amount");
        Assert.Equal(availableHeld + 55_00, await AvailableAsync(orderId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM hold_actions WHERE order_id = $1", orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM outbox WHERE order_id = $1 AND topic = 'settlement'", orderId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId));
    }

    [Fact]
    public async Task Hold_PastItsExpiry_IsReleasedByThePlatform_Once_AndTheMerchantIsTold()
    {
        await using var server = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256", mode: "deferred");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await HeldOrderAsync(merchant, http, 33_00, server.Url);
        var held = await GetAsync(http, merchant, orderId);
        var availableHeld = await AvailableAsync(orderId);

        // Seven days on (the platform's default): the hold's expiry is moved into the past rather than waited for.
        await platform.ScalarAsync<int>("gatewaydb", "UPDATE orders SET hold_expires_at = now() - interval '1 second' WHERE order_id = $1", orderId);
        await Eventually.TrueAsync(async () => await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", orderId) == "expired",
            "the hold past its expiry is released");
        var told = await server.WaitForAsync(r => Body(r).GetProperty("status").GetString() == "expired");
        using var capture = await CaptureAsync(http, merchant, orderId, 10_00);

        var heldDays = (DateTime.ParseExact(Field(held, "holdExpiresAt"), "yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal) - DateTime.UtcNow).TotalDays;
        Assert.InRange(heldDays, 6.99, 7.0);
        Assert.NotNull(told);
        Assert.Equal(("hold", "3300"), (Body(told).GetProperty("kind").GetString(), Body(told).GetProperty("txnAmt").GetString()));
        await AssertProblemAsync(capture, HttpStatusCode.Conflict, "is expired");
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM hold_actions WHERE order_id = $1 AND reason = 'expired'", orderId));
        await Eventually.TrueAsync(async () => await HeldAtBankAsync(orderId) == 0, "the bank gives back the expired amount");
        Assert.Equal(availableHeld + 33_00, await AvailableAsync(orderId));
    }

    [Fact]
    public async Task Capture_Raced_Repeated_OverTheHold_OfASale_AndByAnotherMerchant_HasExactlyOneEffect()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var other = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var orderId = await HeldOrderAsync(merchant, http, 20_00, "https://shop.example/notify");
        var before = await StateAsync(orderId);

        using var over = await CaptureAsync(http, merchant, orderId, 20_01);
        using var byOther = await http.PostAsJsonAsync($"/v1/orders/{orderId}/capture",
            other.SignV1(new() { ["merId"] = other.MerchantId, ["captureAmt"] = "1000" }, ("orderId", orderId)));
        using var releaseByOther = await http.PostAsJsonAsync($"/v1/orders/{orderId}/release",
            other.SignV1(new() { ["merId"] = other.MerchantId }, ("orderId", orderId)));
        using var malformed = await CaptureAsync(http, merchant, orderId, 0);
        var unchanged = await StateAsync(orderId);
        var raced = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => CaptureAsync(http, merchant, orderId, 15_00, $"race-{orderId}-{i}")));
        using var replayed = await CaptureAsync(http, merchant, orderId, 15_00, $"race-{orderId}-{Array.FindIndex(raced, r => r.StatusCode == HttpStatusCode.OK)}");
        using var twice = await CaptureAsync(http, merchant, orderId, 15_00);
        using var releaseAfter = await ReleaseAsync(http, merchant, orderId);

        await AssertProblemAsync(over, HttpStatusCode.Conflict, "At most 2000 minor units");
        await AssertProblemAsync(byOther, HttpStatusCode.NotFound, "No order");
        await AssertProblemAsync(releaseByOther, HttpStatusCode.NotFound, "No order");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(before, unchanged);
        Assert.Equal(1, raced.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(raced.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.True(replayed.Headers.Contains("Idempotent-Replayed"));
        await AssertProblemAsync(twice, HttpStatusCode.Conflict, "a hold is captured once");
        await AssertProblemAsync(releaseAfter, HttpStatusCode.Conflict, "captured");
        Assert.Equal("paid:1500", await platform.ScalarAsync<string>("gatewaydb", "SELECT status || ':' || paid_minor FROM orders WHERE order_id = $1", orderId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM hold_actions WHERE order_id = $1", orderId));
        Assert.Equal(-15_00L, await NetAtBankAsync(orderId));
        Assert.Equal("purchase:1500", await LedgerAsync(merchant, "purchase:1500"));
        // A sale's order has nothing to capture.
        var sale = "sale-" + TestMerchant.NewOrderId();
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(OrdersApiTests.Order(merchant, sale, 5_00)));
        using var ofSale = await CaptureAsync(http, merchant, sale, 5_00);
        await AssertProblemAsync(ofSale, HttpStatusCode.Conflict, "captureMode sale");
        foreach (var response in raced)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task HeldCapturedAndReleased_ReconcileThreeWays_AndTheLedgerBalances()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var capturedId = await HeldOrderAsync(merchant, http, 70_00, "https://shop.example/notify");
        var releasedId = await HeldOrderAsync(merchant, http, 30_00, "https://shop.example/notify");
        using (var captured = await CaptureAsync(http, merchant, capturedId, 45_00))
        using (var released = await ReleaseAsync(http, merchant, releasedId))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (captured.StatusCode, released.StatusCode));
        }
        Assert.Equal("purchase:4500", await LedgerAsync(merchant, "purchase:4500"));
        await Eventually.TrueAsync(async () => await HeldAtBankAsync(releasedId) == 0, "the bank gives back the released amount");
        // The switch's records are cleared into the ledger once settled (3 s in the fixture): wait for the completion's.
        await Eventually.TrueAsync(async () => await platform.ScalarAsync<long>("settlementdb",
            "SELECT count(*) FROM journal_entries WHERE kind = 'interbank_purchase' AND stan || transmission = $1",
            await CaptureKeyAsync(capturedId)) == 1, "the switch's completion is cleared into the ledger");
        var keys = await platform.ScalarAsync<string>("gatewaydb",
            """
            SELECT string_agg(k, ',') FROM (
                SELECT stan || '/' || transmission AS k FROM payments WHERE order_id IN ($1, $2) AND status = 'approved'
                UNION ALL SELECT stan || '/' || transmission FROM hold_actions WHERE order_id IN ($1, $2)) x
            """, capturedId, releasedId);

        var report = await settlement.ReconcileAsync(new ReconcileRequest { SettlementDate = $"{SettlementLedgerTests.DateOf(DateTimeOffset.UtcNow):yyyy-MM-dd}" });
        var flagged = report.Discrepancies.Select(d => $"{d.Stan}/{d.Transmission}").ToHashSet();

        Assert.Equal(4, keys.Split(',').Length);
        Assert.All(keys.Split(','), key => Assert.DoesNotContain(key, flagged));
        Assert.Equal(0L, await platform.ScalarAsync<long>("settlementdb", "SELECT coalesce(sum(amount_minor), 0)::bigint FROM journal_lines"));
    }

    private Task<string> HeldOrderAsync(TestMerchant merchant, HttpClient http, long amountMinor, string backUrl) =>
        HeldOrderAsync(platform, merchant, http, amountMinor, backUrl);

    /// <summary>A /v1 order of captureMode hold, created and paid on its page with the approved test card: its funds are held.</summary>
    internal static async Task<string> HeldOrderAsync(MeshPlatformFixture platform, TestMerchant merchant, HttpClient http, long amountMinor, string backUrl)
    {
        using var consumer = new TestConsumer(platform);
        var orderId = "hold-" + TestMerchant.NewOrderId();
        var order = OrdersApiTests.Order(merchant, orderId, amountMinor);
        order["backUrl"] = backUrl;
        order["captureMode"] = "hold";
        using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(order));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var payUrl = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!;
        Assert.Contains("Payment authorized", await consumer.PayAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), ApprovedCard));
        return orderId;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, TestMerchant merchant, string orderId)
    {
        using var got = await http.GetAsync($"/v1/orders/{orderId}?" + merchant.Query(
            [("merId", merchant.MerchantId), ("timestamp", DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture))],
            ("orderId", orderId)));
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        return await got.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> CaptureAsync(HttpClient http, TestMerchant merchant, string orderId, long amountMinor, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/orders/{orderId}/capture")
        {
            Content = JsonContent.Create(merchant.SignV1(new()
            {
                ["merId"] = merchant.MerchantId,
                ["captureAmt"] = amountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, ("orderId", orderId))),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> ReleaseAsync(HttpClient http, TestMerchant merchant, string orderId) =>
        http.PostAsJsonAsync($"/v1/orders/{orderId}/release", merchant.SignV1(new() { ["merId"] = merchant.MerchantId }, ("orderId", orderId)));

    /// <summary>The STAN and transmission time of the order's approved capture.</summary>
    private Task<string> CaptureKeyAsync(string orderId) => platform.ScalarAsync<string>("gatewaydb",
        "SELECT stan || transmission FROM hold_actions WHERE order_id = $1 AND kind = 'capture' AND status = 'succeeded'", orderId);

    /// <summary>The STAN and transmission time of the order's hold and of its captures, as the bank keys its postings.</summary>
    private async Task<string[]> KeysAsync(string orderId) => (await platform.ScalarAsync<string>("gatewaydb",
        """
        SELECT string_agg(k, ',') FROM (
            SELECT stan || transmission AS k FROM payments WHERE order_id = $1 AND status = 'approved'
            UNION ALL SELECT stan || transmission FROM hold_actions WHERE order_id = $1 AND kind = 'capture') x
        """, orderId)).Split(',');

    private const string OfKeys = "ltrim(acquirer_id, '0') = '8010000' AND stan || transmission = ANY($1)";

    /// <summary>The available balance (balance less holds) of the account the order's hold was taken from, at the bank.</summary>
    private async Task<long> AvailableAsync(string orderId) => await platform.ScalarAsync<long>("issuerdb",
        $"SELECT balance_minor - held_minor FROM {Bank}.accounts WHERE account_id = (SELECT account_id FROM {Bank}.postings WHERE {OfKeys} LIMIT 1)",
        (object)await KeysAsync(orderId));

    /// <summary>What the bank still holds under the order's pre-authorization (its postings' held amounts, reversal and completion included).</summary>
    private async Task<long> HeldAtBankAsync(string orderId) => await platform.ScalarAsync<long>("issuerdb",
        $"SELECT coalesce(sum(held_delta_minor), 0)::bigint FROM {Bank}.postings WHERE {OfKeys}", (object)await KeysAsync(orderId));

    /// <summary>What the bank moved on the card's balance for the order: its hold, completions and reversals.</summary>
    private async Task<long> NetAtBankAsync(string orderId) => await platform.ScalarAsync<long>("issuerdb",
        $"SELECT coalesce(sum(balance_delta_minor), 0)::bigint FROM {Bank}.postings WHERE {OfKeys}", (object)await KeysAsync(orderId));

    private static string? FieldOrNull(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static string Field(JsonElement e, string name) => FieldOrNull(e, name) ?? "";

    /// <summary>The order's row and its hold actions, to compare before and after a refused move.</summary>
    private Task<string> StateAsync(string orderId) => platform.ScalarAsync<string>("gatewaydb",
        """
        SELECT (SELECT o.status || ':' || o.version || ':' || o.paid_minor FROM orders o WHERE o.order_id = $1)
            || '|' || (SELECT count(*) FROM hold_actions h WHERE h.order_id = $1 AND h.status <> 'failed')
        """, orderId);

    /// <summary>The merchant's journal entries (kind:amount), once they are <paramref name="expected"/> (at most 10 s).</summary>
    private Task<string> LedgerAsync(TestMerchant merchant, string expected) =>
        Eventually.UntilAsync(async () => await platform.ScalarAsync<string?>("settlementdb",
                "SELECT string_agg(kind || ':' || amount_minor, ',' ORDER BY entry_id) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId) ?? "",
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
