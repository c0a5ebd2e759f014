using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Smoke tests of the <c>netpay</c> tool, run as a process against the running gateway: keygen,
/// order create/get/list, a platform answer verified and a tampered one refused, sign, refund
/// refused with its exit code, a closed day's file downloaded, and usage errors.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class NetpayCliTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task Netpay_MakesAKey_CreatesGetsListsAndClosesOrders_VerifiesAnswers_AndSaysByItsExitCodeWhatWentWrong()
    {
        var dir = Directory.CreateTempSubdirectory("netpay-cli-");
        try
        {
            var (keygen, keygenOut, _) = await NetpayAsync(dir, "keygen", "--out", dir.FullName, "--json");
            var keyFile = Path.Combine(dir.FullName, "merchant.key.pem");
            var merchantId = "8" + Random.Shared.NextInt64(10_000_000_000_000, 99_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (var admin = platform.App.CreateHttpClient("gateway", "http"))
            {
                admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
                using var onboarded = await admin.PostAsJsonAsync("/admin/merchants", new
                {
                    merchantId,
                    name = "CLI Shop",
                    publicKeyPem = await File.ReadAllTextAsync(Path.Combine(dir.FullName, "merchant.pub.pem")),
                    notificationMode = "deferred",
                    notificationProtocol = "plain",
                    feeRatePpm = 6_000,
                    feeMinimumMinor = 100,
                    settlementAccount = "1202020209000012345",
                });
                onboarded.EnsureSuccessStatusCode();
            }
            string[] Merchant(params string[] args) => [.. args, "--merchant-id", merchantId, "--key", keyFile];
            var orderId = "cli-" + TestMerchant.NewOrderId();

            var (created, createdOut, _) = await NetpayAsync(dir, Merchant("order", "create", "--order-id", orderId, "--amount-minor", "1234", "--json"));
            var (got, gotOut, _) = await NetpayAsync(dir, Merchant("order", "get", orderId));
            var (listed, listedOut, _) = await NetpayAsync(dir, Merchant("order", "list", "--from", DateTime.UtcNow.AddMinutes(-5).ToString("O"),
                "--to", DateTime.UtcNow.AddMinutes(5).ToString("O")));
            var (refund, _, refundError) = await NetpayAsync(dir, Merchant("refund", "--order-id", orderId, "--refund-id", "r1", "--amount-minor", "100"));
            var (usage, _, _) = await NetpayAsync(dir, Merchant("order", "create", "--order-id", orderId));

            using var http = platform.App.CreateHttpClient("gateway", "http");
            var answer = await http.GetStringAsync($"/v1/orders/{orderId}?{SignedQuery(keyFile, merchantId, orderId)}");
            var answerFile = Path.Combine(dir.FullName, "answer.json");
            var tamperedFile = Path.Combine(dir.FullName, "tampered.json");
            await File.WriteAllTextAsync(answerFile, answer);
            await File.WriteAllTextAsync(tamperedFile, answer.Replace("\"created\"", "\"paid\"", StringComparison.Ordinal));
            var (verified, _, _) = await NetpayAsync(dir, "verify", "--file", answerFile);
            var (tampered, tamperedOut, _) = await NetpayAsync(dir, "verify", "--file", tamperedFile);
            var orderFile = Path.Combine(dir.FullName, "order.json");
            await File.WriteAllTextAsync(orderFile, JsonSerializer.Serialize(new Dictionary<string, string> { ["merId"] = merchantId, ["orderId"] = "x", ["txnAmt"] = "1" }));
            var (signed, signedOut, _) = await NetpayAsync(dir, Merchant("sign", "--file", orderFile));
            var (closed, closedOut, _) = await NetpayAsync(dir, Merchant("order", "close", orderId, "--json"));
            var (closedAgain, closedAgainOut, _) = await NetpayAsync(dir, Merchant("order", "close", orderId));

            Assert.Equal(0, keygen);
            Assert.Contains("merchant.key.pem", keygenOut);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? UnixFileMode.UserRead | UnixFileMode.UserWrite : File.GetUnixFileMode(keyFile));
            Assert.Equal(0, created);
            var order = JsonDocument.Parse(createdOut).RootElement;
            Assert.Equal(("created", 1234), (order.GetProperty("status").GetString(), order.GetProperty("amountMinor").GetInt64()));
            Assert.EndsWith($"/pay/orders/{merchantId}/{orderId}", order.GetProperty("payUrl").GetString());
            Assert.Equal(0, got);
            Assert.Contains("12.34 CNY", gotOut);
            Assert.Equal(0, listed);
            Assert.Contains(orderId, listedOut);
            Assert.Contains("1 row", listedOut);
            Assert.Equal(2, refund);
            Assert.Contains("not paid", refundError);
            Assert.Equal(1, usage);
            Assert.Equal(0, verified);
            Assert.Equal(3, tampered);
            Assert.Contains("NO", tamperedOut);
            Assert.Equal(0, signed);
            Assert.True(JsonDocument.Parse(signedOut).RootElement.TryGetProperty("signature", out _));
            Assert.Equal(0, closed);
            Assert.Equal("closed", JsonDocument.Parse(closedOut).RootElement.GetProperty("status").GetString());
            Assert.Equal(0, closedAgain);
            Assert.Contains("closed", closedAgainOut);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task NetpayOrder_CreatesAHold_CapturesItInPart_ReleasesAnother_AndSaysByItsExitCodeThatASecondCaptureIsRefused()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        using var consumer = new TestConsumer(platform);
        var dir = Directory.CreateTempSubdirectory("netpay-hold-");
        try
        {
            var keyFile = Path.Combine(dir.FullName, "merchant.key.pem");
            await File.WriteAllTextAsync(keyFile, merchant.RsaKey.ExportPkcs8PrivateKeyPem());
            string[] Merchant(params string[] args) => [.. args, "--merchant-id", merchant.MerchantId, "--key", keyFile];
            var (heldId, releasedId) = ("cli-hold-" + TestMerchant.NewOrderId(), "cli-rel-" + TestMerchant.NewOrderId());
            foreach (var id in new[] { heldId, releasedId })
            {
                var (created, createdOut, _) = await NetpayAsync(dir, Merchant("order", "create", "--order-id", id, "--amount-minor", "2000", "--hold", "--json"));
                Assert.Equal(0, created);
                var payUrl = JsonDocument.Parse(createdOut).RootElement.GetProperty("payUrl").GetString()!;
                using var paid = await consumer.SubmitAsync(await consumer.OpenAsync(new Uri(payUrl).PathAndQuery), Acquirer.TestCard("622202", 1), "12/30", "123456",
                    gateId: "0102");
                Assert.Contains("Payment authorized", await paid.Content.ReadAsStringAsync());
            }

            var (held, heldOut, _) = await NetpayAsync(dir, Merchant("order", "get", heldId));
            var (captured, capturedOut, _) = await NetpayAsync(dir, Merchant("order", "capture", heldId, "--amount-minor", "1500"));
            var (again, _, againError) = await NetpayAsync(dir, Merchant("order", "capture", heldId, "--amount-minor", "500"));
            var (released, releasedOut, _) = await NetpayAsync(dir, Merchant("order", "release", releasedId, "--json"));

            Assert.Equal(0, held);
            Assert.Contains("authorized", heldOut);
            Assert.Contains("20.00 CNY", heldOut);
            Assert.Contains("hold expires (UTC)", heldOut);
            Assert.Equal(0, captured);
            Assert.Contains("paid", capturedOut);
            Assert.Contains("15.00 CNY", capturedOut);
            Assert.Equal(2, again);
            Assert.Contains("captured once", againError);
            Assert.Equal(0, released);
            Assert.Equal("released", JsonDocument.Parse(releasedOut).RootElement.GetProperty("status").GetString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task NetpayReconDownload_SavesAClosedDaysVerifiedFile_AndSumsItUp()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "rsa-2048");
        var dir = Directory.CreateTempSubdirectory("netpay-recon-");
        try
        {
            var keyFile = Path.Combine(dir.FullName, "merchant.key.pem");
            await File.WriteAllTextAsync(keyFile, merchant.RsaKey.ExportPkcs8PrivateKeyPem());
            using var channel = await platform.SettlementChannelAsync();
            var settlement = new Settlement.SettlementClient(channel);
            var day = SettlementLedgerTests.NextDay();
            var sale = new SettlementLedgerTests.Purchase(0, merchant.MerchantId, 50_000, new DateTimeOffset(day.ToDateTime(new TimeOnly(5, 0)), TimeSpan.Zero));
            await settlement.RecordAsync(new RecordRequest { Events = { SettlementLedgerTests.Event($"cli-file-{merchant.MerchantId}", "purchase", "paid", sale, 50_000, sale.At) } });
            await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" });
            var output = Path.Combine(dir.FullName, "detail.csv");

            var (exit, stdout, stderr) = await NetpayAsync(dir, "recon", "download", "--date", $"{day:yyyy-MM-dd}", "--out", output,
                "--merchant-id", merchant.MerchantId, "--key", keyFile);

            Assert.Equal(0, exit);
            Assert.Contains("valid (platform)", stdout);
            Assert.Contains("lines", stdout);
            Assert.Contains("497.00 CNY", stdout); // 500.00 less the 0.6% fee
            Assert.Contains("KiB", stderr);
            Assert.StartsWith("settlement_date,order_id", await File.ReadAllTextAsync(output));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> NetpayAsync(DirectoryInfo workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory.FullName };
        start.ArgumentList.Add(NetpayDll());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["NETPAY_GATEWAY"] = platform.App.GetEndpoint("gateway", "http").ToString();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The built tool, in the configuration these tests were built in.</summary>
    private static string NetpayDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/{Configuration}/net10.0/
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Mesh.sln")))
        {
            root = root.Parent;
        }
        return Path.Combine(root!.FullName, "NetPayClient", "Cli", "bin", configuration, "net10.0", "netpay.dll");
    }

    private static string SignedQuery(string keyFile, string merchantId, string orderId)
    {
        using var key = NetPay.Signing.MerchantKey.FromPem(File.ReadAllText(keyFile));
        var fields = new Dictionary<string, string?> { ["merId"] = merchantId, ["timestamp"] = DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) };
        NetPay.Signing.V1Signature.SignInPlace(fields, key, ("orderId", orderId));
        return string.Join('&', fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value!)}"));
    }
}
