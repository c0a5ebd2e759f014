using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;
using Mesh.NetPay.Api;
using Mesh.NetPay.Notifications;
using Mesh.NetPay.Reconciliation;
using Mesh.NetPay.Signing;
using ReconciliationFile = Mesh.NetPay.Reconciliation.ReconciliationFile;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The merchant SDK against the running gateway, as a merchant uses it: sign and create, the
/// consumer pays, the notification is read and verified, query, list, refund (safe to repeat),
/// and a closed day's file downloaded, verified and read. Also: an order signed by openssl on
/// the command line is accepted, its answer verifies with openssl as the guide shows, and a
/// request sealed in a digital envelope goes through.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NetPaySdkTests(MeshPlatformFixture platform)
{
    private NetPay.Api.NetPayClient Client(TestMerchant merchant, bool seal = false) => new(new NetPayClientOptions
    {
        GatewayUrl = platform.App.GetEndpoint("gateway", "http"),
        MerchantId = merchant.MerchantId,
        Key = MerchantKey.FromPem(merchant.RsaKey.ExportPkcs8PrivateKeyPem()),
        SealRequests = seal,
    });

    [Fact]
    public async Task TheSdk_HoldsAnOrder_CapturesPartOfIt_ReleasesAnother_ReadsTheHoldsNotification_AndRepeatsChangingNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048", mode: "realtime");
        await using var server = await MerchantServer.StartAsync();
        using var client = Client(merchant);
        using var consumer = new TestConsumer(platform);
        var (heldId, releasedId) = ("sdk-hold-" + TestMerchant.NewOrderId(), "sdk-rel-" + TestMerchant.NewOrderId());

        var created = await client.CreateOrderAsync(new CreateOrder(heldId, 64_00, BackUrl: server.Url, GateId: "0102", Hold: true));
        await consumer.PayAsync(await consumer.OpenAsync(created.PayUrl!.PathAndQuery), Acquirer.TestCard("622202", 1));
        var toRelease = await client.CreateOrderAsync(new CreateOrder(releasedId, 12_00, BackUrl: server.Url, GateId: "0102", Hold: true));
        await consumer.PayAsync(await consumer.OpenAsync(toRelease.PayUrl!.PathAndQuery), Acquirer.TestCard("622202", 1));
        var received = await server.WaitForAsync(r => r.Body.Length > 0);
        var reader = new NotificationReader(await client.PlatformCertificateAsync(), await client.PlatformNetPayKeyAsync());
        var notification = reader.Read(received!.Headers, received.ContentType, received.Body);
        var held = await client.GetOrderAsync(heldId);
        var captured = await client.CaptureOrderAsync(heldId, 50_00);
        var capturedAgain = await client.CaptureOrderAsync(heldId, 50_00);
        var overHold = await Assert.ThrowsAsync<NetPayException>(() => client.CaptureOrderAsync(releasedId, 12_01));
        var released = await client.ReleaseOrderAsync(releasedId);
        var releasedAgain = await client.ReleaseOrderAsync(releasedId);
        var afterRelease = await Assert.ThrowsAsync<NetPayException>(() => client.ReleaseOrderAsync(heldId));

        Assert.Equal(("created", "hold"), (created.Status, created.CaptureMode));
        Assert.Equal((PaymentNotification.Hold, "authorized", false), (notification.Kind, notification.Status, notification.Succeeded));
        Assert.Equal((Order.Authorized, 64_00L, 0L), (held.Status, held.HeldMinor, held.CapturedMinor));
        Assert.NotNull(held.HoldExpiresAt);
        Assert.Equal((Order.Paid, 0L, 50_00L, 50_00L), (captured.Status, captured.HeldMinor, captured.CapturedMinor, captured.PaidMinor));
        Assert.Equal((captured.Status, captured.Version), (capturedAgain.Status, capturedAgain.Version));
        Assert.Equal(409, overHold.Status);
        Assert.Equal((Order.Released, 0L), (released.Status, released.HeldMinor));
        Assert.Equal(released.Version, releasedAgain.Version);
        Assert.Equal(409, afterRelease.Status);
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM hold_actions WHERE merchant_id = $1 AND status <> 'failed'", merchant.MerchantId));
    }

    [Fact]
    public async Task TheSdk_CreatesAnOrder_ReadsItsVerifiedNotification_QueriesListsAndRefundsIt_RepeatsChangingNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048", mode: "realtime");
        await using var server = await MerchantServer.StartAsync();
        using var client = Client(merchant);
        using var consumer = new TestConsumer(platform);
        var orderId = "sdk-" + TestMerchant.NewOrderId();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var created = await client.CreateOrderAsync(new CreateOrder(orderId, 88_00, BackUrl: server.Url, GateId: "0102"));
        var again = await client.CreateOrderAsync(new CreateOrder(orderId, 88_00, BackUrl: server.Url, GateId: "0102"));
        await consumer.PayAsync(await consumer.OpenAsync(created.PayUrl!.PathAndQuery), Acquirer.TestCard("622202", 1));
        var received = await server.WaitForAsync(_ => true);
        var reader = new NotificationReader(await client.PlatformCertificateAsync(), await client.PlatformNetPayKeyAsync());
        var notification = reader.Read(received!.Headers, received.ContentType, received.Body);
        var paid = await client.GetOrderAsync(orderId);
        var listed = new List<Order>();
        await foreach (var order in client.ListOrdersAsync(before, DateTimeOffset.UtcNow.AddMinutes(1)))
        {
            listed.Add(order);
        }
        var refund = await client.RefundAsync(orderId, "r-1", 30_00);
        var refundAgain = await client.RefundAsync(orderId, "r-1", 30_00);
        var tooMuch = await Assert.ThrowsAsync<NetPayException>(() => client.RefundAsync(orderId, "r-2", 60_00));
        var afterRefund = await client.GetOrderAsync(orderId);

        Assert.Equal(("created", 88_00L), (created.Status, created.AmountMinor));
        Assert.Equal(created.OrderId, again.OrderId);
        Assert.Equal((PaymentNotification.Purchase, orderId, "paid", 88_00L), (notification.Kind, notification.OrderId, notification.Status, notification.AmountMinor));
        Assert.Equal(("paid", 88_00L, "622202******0015"), (paid.Status, paid.PaidMinor, paid.MaskedPan));
        Assert.Contains(listed, o => o.OrderId == orderId && o.Status == "paid");
        Assert.Equal(refund with { }, refundAgain);
        Assert.Equal(("succeeded", 30_00L), (refund.Status, refund.AmountMinor));
        Assert.Equal(409, tooMuch.Status);
        Assert.Equal((30_00L, 58_00L), (afterRefund.RefundedMinor, afterRefund.RefundableMinor));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM refunds WHERE merchant_id = $1 AND refund_id = 'r-1'", merchant.MerchantId));
    }

    [Fact]
    public async Task TheSdk_DownloadsAClosedDaysFiles_ChecksTheirSignatures_AndReadsThem()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var client = Client(merchant);
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(3, 0)), TimeSpan.Zero);
        var sales = new[] { 10_000L, 25_50L }.Select((amount, i) => new SettlementLedgerTests.Purchase(i, merchant.MerchantId, amount, at.AddMinutes(i))).ToList();
        var request = new RecordRequest();
        request.Events.AddRange(sales.Select(p => SettlementLedgerTests.Event($"sdk-file-{merchant.MerchantId}-{p.Index}", "purchase", "paid", p, p.Amount, p.At)));
        await settlement.RecordAsync(request);
        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" });
        var progress = new List<(long Received, long? Total)>();

        using var detail = new MemoryStream();
        var (name, bytes) = await client.DownloadReconciliationAsync(day, ReconciliationKind.Detail, detail, new SynchronousProgress(progress));
        detail.Position = 0;
        var lines = new List<DetailLine>();
        await foreach (var line in ReconciliationFile.ReadDetailAsync(detail))
        {
            lines.Add(line);
        }
        using var totals = new MemoryStream();
        await client.DownloadReconciliationAsync(day, ReconciliationKind.Totals, totals);
        totals.Position = 0;
        var total = await ReconciliationFile.ReadTotalsAsync(totals).SingleAsync();
        var open = await Assert.ThrowsAsync<NetPayException>(() => client.DownloadReconciliationAsync(day.AddDays(1), ReconciliationKind.Detail, new MemoryStream()));

        Assert.Equal($"{merchant.MerchantId}-{day:yyyyMMdd}-detail.csv", name);
        Assert.Equal(detail.Length, bytes);
        Assert.Equal(bytes, progress[^1].Received);
        Assert.Equal([10_000L, 25_50L], lines.Select(l => l.AmountMinor));
        Assert.All(lines, l => Assert.Equal(("paid", day), (l.Status, l.SettlementDate)));
        Assert.Equal(lines.Sum(l => l.NetMinor), total.NetPayableMinor);
        Assert.Equal(2, total.Transactions);
        Assert.Equal(409, open.Status);
    }

    [Fact]
    public async Task AnOrderSignedByOpensslOnTheCommandLine_IsAccepted_ItsAnswerVerifiesWithOpenssl_AndOneSealedInAnEnvelope_Too()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        var dir = Directory.CreateTempSubdirectory("netpay-openssl-");
        try
        {
            var keyFile = Path.Combine(dir.FullName, "merchant.key.pem");
            var digestFile = Path.Combine(dir.FullName, "digest.txt");
            await File.WriteAllTextAsync(keyFile, merchant.RsaKey.ExportPkcs8PrivateKeyPem());
            var fields = new Dictionary<string, string?>
            {
                ["merId"] = merchant.MerchantId,
                ["orderId"] = "openssl-" + TestMerchant.NewOrderId(),
                ["txnAmt"] = "12800",
                ["currencyCode"] = "CNY",
                ["txnDate"] = TestMerchant.Today,
                ["backUrl"] = "https://shop.example/notify",
            };
            // The recipe of docs/merchant-integration.md: the canonical string's SHA-256 hex, signed, base64.
            await File.WriteAllTextAsync(digestFile, V1Signature.Digest(fields));
            var (exit, signature) = await ShellAsync($"openssl dgst -sha256 -sign '{keyFile}' '{digestFile}' | base64 -w0");
            fields["signature"] = signature.Trim();
            using var http = platform.App.CreateHttpClient("gateway", "http");
            using var accepted = await http.PostAsJsonAsync("/v1/orders", fields);
            // The guide's check of the platform's answer: its certificate's public key, the answer's digest, openssl dgst -verify.
            var answer = await accepted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            var answerFields = answer.EnumerateObject().Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.String)
                .Select(p => new KeyValuePair<string, string?>(p.Name, p.Value.GetString())).ToList();
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "platform.pem"), await http.GetStringAsync("/v1/platform-certificate"));
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "answer-digest.txt"), TestMerchant.Digest(answerFields));
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "answer-signature.bin"), Convert.FromBase64String(answer.GetProperty("signature").GetString()!));
            var (answerExit, verified) = await ShellAsync($"cd '{dir.FullName}' && openssl x509 -in platform.pem -pubkey -noout > platform.pub "
                + "&& openssl dgst -sha256 -verify platform.pub -signature answer-signature.bin answer-digest.txt");
            using var sealedClient = Client(merchant, seal: true);
            var sealedOrder = await sealedClient.CreateOrderAsync(new CreateOrder("sealed-" + TestMerchant.NewOrderId(), 66_00));

            Assert.Equal(0, exit);
            Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
            Assert.Equal((0, "Verified OK"), (answerExit, verified.Trim()));
            Assert.Equal(("created", 66_00L), (sealedOrder.Status, sealedOrder.AmountMinor));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    internal static async Task<(int ExitCode, string Output)> ShellAsync(string command)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    private sealed class SynchronousProgress(List<(long, long?)> reports) : IProgress<(long Received, long? Total)>
    {
        public void Report((long Received, long? Total) value) => reports.Add(value);
    }
}
