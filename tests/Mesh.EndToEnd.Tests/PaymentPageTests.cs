using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.EndToEnd.Tests;

/// <summary>The payment page's promises, checked over HTTPS the way a browser talks to it.</summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PaymentPageTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task ThePage_LoadsOnlyItsOwnScripts_WithIntegrity_AndForbidsFraming()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        using var posted = await consumer.PostFormAsync("/pay/TransGet", merchant.NetPayOrder(TestMerchant.NewOrderId(), 3_00, gateId: ""));
        using var page = await consumer.Http.GetAsync(posted.Headers.Location);
        var html = await page.Content.ReadAsStringAsync();
        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        var cookie = string.Join(';', page.Headers.GetValues("Set-Cookie"));

        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        var script = Regex.Match(html, "<script src=\"/pay/assets/pay.js\" integrity=\"([^\"]+)\"></script>");
        Assert.True(script.Success, "pay.js is named with its integrity");
        Assert.Matches("^sha384-[A-Za-z0-9+/]+=*$", WebUtility.HtmlDecode(script.Groups[1].Value));
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("name=\"pin\"", html);
        Assert.Contains("name=\"gateId\"", html); // no GateId: the consumer chooses the bank
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OverPlainHttp_ThePaymentPageRedirectsToHttps()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = platform.App.GetEndpoint("gateway", "http") };
        using var response = await http.GetAsync("/pay/assets/pay.js");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal("https", response.Headers.Location!.Scheme);
    }

    [Fact]
    public async Task AForgedCsrfToken_Is403_AndNothingIsPaid()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 5_00));

        using var forged = await consumer.SubmitAsync(page, Acquirer.TestCard("622202", 1), "12/30", "123456", csrf: "forged-token");
        var result = await consumer.PayAsync(page, Acquirer.TestCard("622202", 1));

        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains("Payment successful", result); // the same page still works with its own token
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task AnAlteredPageAddress_IsNoPage_AndTheOrderStaysUnpaid()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 5_00));
        // The session is a sealed token in the address: one character changed, and it opens as nothing.
        var token = page.Action.Split('/')[^1];
        var altered = page with { Action = page.Action[..^token.Length] + token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..] };

        using var forged = await consumer.SubmitAsync(altered, Acquirer.TestCard("622202", 1), "12/30", "123456");

        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        Assert.Equal("created", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task AFormSentAgainAfterAWrongPin_IsRefused_AndTheNewPageStillPays()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 5_00));
        var card = Acquirer.TestCard("622202", 1);

        var wrong = await consumer.PayAsync(page, card, pin: "999999");
        var replayed = await consumer.PayAsync(page, card);
        var paid = await consumer.PayAsync(TestConsumer.Read(wrong), card);

        Assert.Contains("2 tries left", wrong);
        Assert.Contains("out of date", replayed);
        Assert.Contains("Payment successful", paid);
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task ThreeWrongPins_FailTheOrder_TheSecondSaysOneTryLeft()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var card = Acquirer.TestCard("621700", 7);
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 5_00, gateId: "0105"));

        var first = await consumer.PayAsync(page, card, pin: "111111");
        var second = await consumer.PayAsync(TestConsumer.Read(first), card, pin: "222222");
        var third = await consumer.PayAsync(TestConsumer.Read(second), card, pin: "333333");

        Assert.Contains("2 tries left", first);
        Assert.Contains("1 try left", second);
        Assert.Contains("Payment failed", third);
        Assert.Equal("failed", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task ABadCardNumber_IsAskedAgain_WithoutSendingAnything()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 5_00));
        var card = Acquirer.TestCard("622202", 1);

        using var wrongLuhn = await consumer.SubmitAsync(page, card[..^1] + (char)('0' + ((card[^1] - '0' + 1) % 10)), "12/30", "123456");
        using var badExpiry = await consumer.SubmitAsync(page, card, "13/30", "123456");

        Assert.Equal(HttpStatusCode.BadRequest, wrongLuhn.StatusCode);
        Assert.Contains("check the card number", await wrongLuhn.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badExpiry.StatusCode);
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task NoAnswerFromTheBank_ThePageSaysPending_ThenFailedOnceTheReversalIsAcknowledged()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 7_00));

        string pending;
        await SetDropAnswersAsync(bank, true);
        try
        {
            pending = await consumer.PayAsync(page, Acquirer.TestCard("622202", 1));
        }
        finally
        {
            await SetDropAnswersAsync(bank, false);
        }
        var status = "pending";
        for (var i = 0; i < 150 && status == "pending"; i++)
        {
            await Task.Delay(200);
            status = await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId);
        }
        var final = await consumer.Http.GetStringAsync(page.Action + "/result");

        Assert.Contains("Payment pending", pending);
        Assert.Equal("failed", status);
        Assert.Contains("not been charged", final);
        Assert.Equal("reversed", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM payments WHERE order_id = $1", ordId));
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM outbox WHERE order_id = $1 AND payload->>'status' = 'failed'", ordId));
    }

    [Fact]
    public async Task OverTls_ThePlatformAsksBrowsersToKeepToTls_ForAYear_ButNotOverPlainHttp()
    {
        // As a browser would ask for the platform's public name (the development certificate is for localhost: not checked here).
        using var consumer = new TestConsumer(platform);
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var secure = new HttpRequestMessage(HttpMethod.Get, "/health") { Headers = { Host = "pay.mesh.example" } };
        using var plain = new HttpRequestMessage(HttpMethod.Get, "/health") { Headers = { Host = "api.mesh.example" } };

        using var overTls = await consumer.Http.SendAsync(secure);
        using var overHttp = await http.SendAsync(plain);

        Assert.Equal("max-age=31536000; includeSubDomains", string.Join(',', overTls.Headers.GetValues("Strict-Transport-Security")));
        Assert.False(overHttp.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task TheSwitchDownAtSubmit_ThePaymentIsSentAgainWhenItIsBack_AndPaidOnce()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 8_00));
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();

        string pending;
        var stopped = await commands.ExecuteCommandAsync("switch", KnownResourceCommands.StopCommand);
        try
        {
            Assert.True(stopped.Success, stopped.Message);
            pending = await consumer.PayAsync(page, Acquirer.TestCard("622202", 1));
        }
        finally
        {
            var started = await commands.ExecuteCommandAsync("switch", KnownResourceCommands.StartCommand);
            Assert.True(started.Success, started.Message);
            using var healthy = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("switch", healthy.Token);
        }
        var status = "pending";
        for (var i = 0; i < 300 && status == "pending"; i++)
        {
            await Task.Delay(200);
            status = await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId);
        }
        var stan = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan FROM payments WHERE order_id = $1", ordId);

        // The request the gateway kept had no card number (it is stored encrypted only): the Hsm gave it back for the repeat.
        Assert.Contains("Payment pending", pending);
        Assert.Equal("paid", status);
        Assert.Equal(1L, await platform.ScalarAsync<long>("switchdb", "SELECT count(*) FROM authorizations WHERE stan = $1 AND response_code = '00'", stan));
    }

    private static async Task SetDropAnswersAsync(HttpClient bank, bool drop)
    {
        using var response = await bank.PutAsJsonAsync("/admin/faults", new { latencyMs = 0, dropAnswers = drop, closeConnections = false, systemMalfunction = false });
        response.EnsureSuccessStatusCode();
    }
}
