using System.Diagnostics;
using System.Net;
using Mesh.EndToEnd.Tests.Otlp;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// One purchase is one trace: from the page's submit through the gateway, the Hsm and the switch to
/// the issuer and back, then on to the ledger's posting and every attempt to notify the merchant
/// (the first on the page's path, the repeats from the dispatcher).
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PaymentTraceTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task APurchase_FromThePagesSubmitToTheIssuer_IsOneTrace()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(TestMerchant.NewOrderId(), 4_56));
        var form = new Dictionary<string, string> { ["csrf"] = page.Csrf, ["pan"] = Acquirer.TestCard("622202", 1), ["expiry"] = "12/30", ["pinScheme"] = page.PinScheme };
        TestConsumer.Seal(page, "123456", form);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var submit = new HttpRequestMessage(HttpMethod.Post, page.Action) { Content = new FormUrlEncodedContent(form) };
        submit.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await consumer.Http.SendAsync(submit);
        HashSet<string> services = [];
        for (var i = 0; i < 50 && !services.IsSupersetOf(["gateway", "hsm", "switch", "issuer-icbc"]); i++)
        {
            await Task.Delay(200);
            services = platform.Traces.Spans.Where(s => s.TraceId == traceId).Select(s => s.Service).ToHashSet();
        }

        // The merchant's address (shop.example) does not resolve: the page's attempt fails and the dispatcher repeats it a second later.
        List<ReceivedSpan> later = [];
        for (var i = 0; i < 75 && !(later.Any(s => s.Service == "settlement") && later.Count(s => s.Name == "notify merchant") >= 2); i++)
        {
            await Task.Delay(200);
            later = platform.Traces.Spans.Where(s => s.TraceId == traceId && s.Name is "ledger post purchase" or "notify merchant").ToList();
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the submit answers with the result
        Assert.Contains("Payment successful", await response.Content.ReadAsStringAsync());
        Assert.True(services.IsSupersetOf(["gateway", "hsm", "switch", "issuer-icbc"]), $"services in the trace: {string.Join(", ", services)}");
        Assert.Contains(platform.Traces.Spans, s => s.TraceId == traceId && s.Service == "gateway" && s.Name == "gateway purchase");
        Assert.Contains(platform.Traces.Spans, s => s.TraceId == traceId && s.Service == "switch" && s.Name == "iso8583 0200 → issuer-icbc");
        Assert.Contains(later, s => s.Service == "settlement" && s.Name == "ledger post purchase");
        Assert.True(later.Count(s => s.Service == "gateway" && s.Name == "notify merchant") >= 2, "the page's notification attempt and the dispatcher's repeat are in the trace");
        // The payment's database commands are in its trace; the background polls' queries, running
        // several a second all along (the dispatcher's among them), make no trace of their own.
        Assert.Contains(platform.Traces.Spans, s => s.TraceId == traceId && s.Service == "gateway" && s.Scope == "Npgsql");
        var rootQueries = platform.Traces.Spans.Where(s => s.Scope == "Npgsql" && s.ParentSpanId.Length == 0).ToList();
        Assert.True(rootQueries.Count == 0, $"{rootQueries.Count} database commands began a trace, e.g. {rootQueries.FirstOrDefault()}");
    }
}
