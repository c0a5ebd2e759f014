using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A card number is stored encrypted and shown masked, everywhere. After purchases (page and API,
/// approved and declined), a refund and their notifications, and whatever the other tests ran
/// before, the full numbers of the banks' test cards are searched for in every service's log,
/// every exported span (attributes and exception events), every row of every database, the pages
/// the consumer saw, and every file under the platform's data folder (PostgreSQL's tables and
/// write-ahead log included, byte for byte): none is found.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PanSweepTests(MeshPlatformFixture platform)
{
    private static readonly string[] Databases = ["gatewaydb", "switchdb", "issuerdb", "settlementdb", "hsmdb", "shopdb"];

    /// <summary>Every test card of the banks the tests pay with: the outcome digit 0–9 of each BIN.</summary>
    private static readonly string[] TestCards =
        [.. new[] { "622202", "622208", "621700", "436742", "621661", "456351" }.SelectMany(bin => Enumerable.Range(0, 10).Select(d => Acquirer.TestCard(bin, d)))];

    [Fact]
    public async Task AfterPurchasesRefundsAndNotifications_NoFullCardNumberIsInALogASpanATableAPageOrAFile()
    {
        var pages = new StringBuilder();
        await using var merchantEndpoint = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        var payments = new List<(string OrderId, string Masked, bool Approved)>();
        foreach (var (card, expected) in new[] { (Acquirer.TestCard("622202", 1), "Payment successful"), (Acquirer.TestCard("621700", 2), "Payment failed") })
        {
            using var consumer = new TestConsumer(platform);
            var orderId = "sweep-" + TestMerchant.NewOrderId();
            var fields = OrdersApiTests.Order(merchant, orderId, 12_34);
            fields["backUrl"] = merchantEndpoint.Url;
            using var created = await http.PostAsJsonAsync("/v1/orders", merchant.SignV1(fields));
            var payUrl = new Uri((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payUrl").GetString()!).PathAndQuery;
            var page = await consumer.OpenAsync(payUrl);
            var result = await consumer.PayAsync(page, card);
            Assert.Contains(expected, result);
            pages.AppendLine(result);
            payments.Add((orderId, Masked(card), expected == "Payment successful"));
            if (expected == "Payment successful")
            {
                using var refunded = await http.PostAsJsonAsync($"/v1/orders/{orderId}/refunds",
                    merchant.SignV1(new() { ["merId"] = merchant.MerchantId, ["refundId"] = "r-" + orderId, ["refundAmt"] = "234" }, ("orderId", orderId)));
                Assert.Equal(HttpStatusCode.OK, refunded.StatusCode);
                pages.AppendLine(await refunded.Content.ReadAsStringAsync());
                using var queried = await http.GetAsync($"/v1/orders/{orderId}?{merchant.Query([], ("orderId", orderId))}");
                pages.AppendLine(await queried.Content.ReadAsStringAsync());
            }
        }
        // Until what is searched holds these payments (at most 30 s): the lines, spans, notifications and ledger rows they make
        // arrive after the answers, so a sweep that did not wait for them could find no card number because it saw none.
        var traces = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = MissingEvidence(payments, merchantEndpoint, traces);
        for (var i = 0; i < 150 && missing.Count > 0; i++)
        {
            await Task.Delay(200);
            missing = MissingEvidence(payments, merchantEndpoint, traces);
        }
        Assert.True(missing.Count == 0, "not there after 30 s:\n" + string.Join('\n', missing));

        var found = new List<string>();
        var orderIds = payments.Select(p => p.OrderId).ToArray();
        bool Ours(string text) => orderIds.Any(id => text.Contains(id, StringComparison.Ordinal));
        var pagesText = pages.ToString();
        var notifications = merchantEndpoint.Received.Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        var logs = platform.Logs.ToList();
        var spans = platform.Traces.Spans.ToList();
        Search("the pages and answers", pagesText, found);
        Search("the merchant's notifications", string.Join('\n', notifications), found);
        Search("the services' logs", string.Join('\n', logs.Select(l => $"{l.Resource}: {l.Line}")), found);
        Search("the exported spans", string.Join('\n', spans.Select(s => $"{s.Service} {s.Name} {s.Attributes}")), found);
        var (rows, ourRows) = (0L, 0L);
        foreach (var database in Databases)
        {
            var (read, ours) = await SearchDatabaseAsync(database, orderIds, found);
            rows += read;
            ourRows += ours;
        }
        var (bytes, ourFiles) = SearchFiles(platform.DataDir, orderIds, found);

        // The sweep read these payments themselves, not only what other tests left.
        var ourLines = logs.Count(l => Ours(l.Line));
        var ourSpans = spans.Count(s => traces.ContainsValue(s.TraceId));
        var ourNotifications = notifications.Count(Ours);
        Assert.True(ourLines >= payments.Count, $"the sweep had {ourLines} log lines of the test's payments");
        Assert.True(ourSpans >= 2 * payments.Count, $"the sweep had {ourSpans} spans of the test's payments");
        Assert.True(ourNotifications >= payments.Count, $"the sweep had {ourNotifications} notifications of the test's payments");
        Assert.True(ourRows >= 2 * payments.Count, $"the sweep read {ourRows} rows of the test's payments");
        Assert.True(ourFiles > 0, "no file under the data folder holds the test's order numbers");
        Assert.Contains(payments.Single(p => p.Approved).Masked, pagesText, StringComparison.Ordinal);
        Assert.True(logs.Count > 200 && spans.Count > 50, $"the sweep had {logs.Count} log lines and {spans.Count} spans to search");
        Assert.True(rows > 100, $"the sweep read {rows} rows");
        Assert.True(bytes > 10_000_000, $"the sweep read {bytes} bytes of files");
        Assert.True(found.Count == 0, "full card numbers found:\n" + string.Join('\n', found.Take(20)));
    }

    /// <summary>
    /// What is not yet there to be searched: for each payment, the gateway's log line and purchase span (order and masked number)
    /// and a notification the merchant took; for the approved one, the switch's span of the same trace (masked number), the
    /// ledger's posting in it and the refund's log line. The purchase spans' traces are added to <paramref name="traces"/>.
    /// </summary>
    private List<string> MissingEvidence(List<(string OrderId, string Masked, bool Approved)> payments, MerchantServer merchantEndpoint,
        Dictionary<string, string> traces)
    {
        var missing = new List<string>();
        var spans = platform.Traces.Spans.ToList();
        var logs = platform.Logs.ToList();
        foreach (var (orderId, masked, approved) in payments)
        {
            if (!logs.Any(l => l.Resource == "gateway" && l.Line.Contains(orderId, StringComparison.Ordinal) && l.Line.Contains(masked, StringComparison.Ordinal)))
            {
                missing.Add($"the gateway's log line of order {orderId} with card {masked}");
            }
            if (!merchantEndpoint.Received.Any(r => r.AnsweredStatus == 200 && Encoding.UTF8.GetString(r.Body).Contains(orderId, StringComparison.Ordinal)))
            {
                missing.Add($"a notification of order {orderId} the merchant took");
            }
            if (spans.FirstOrDefault(s => s.Service == "gateway" && s.Name == "gateway purchase"
                && s.Attributes.Contains($"mesh.order_id={orderId}", StringComparison.Ordinal) && s.Attributes.Contains($"mesh.pan={masked}", StringComparison.Ordinal))
                is not { } purchase)
            {
                missing.Add($"the gateway purchase span of order {orderId} with card {masked}");
                continue;
            }
            traces[orderId] = purchase.TraceId;
            if (!approved)
            {
                continue;
            }
            if (!spans.Any(s => s.TraceId == purchase.TraceId && s.Service == "switch" && s.Attributes.Contains($"mesh.pan={masked}", StringComparison.Ordinal)))
            {
                missing.Add($"the switch's span of order {orderId} (trace {purchase.TraceId}) with card {masked}");
            }
            if (!spans.Any(s => s.TraceId == purchase.TraceId && s.Service == "settlement" && s.Name == "ledger post purchase"))
            {
                missing.Add($"the ledger's posting of order {orderId} (trace {purchase.TraceId})");
            }
            if (!logs.Any(l => l.Resource == "gateway" && l.Line.Contains($"Refund r-{orderId} of order {orderId}", StringComparison.Ordinal)))
            {
                missing.Add($"the gateway's log line of the refund of order {orderId}");
            }
        }
        return missing;
    }

    private static string Masked(string card) => card[..6] + new string('*', card.Length - 10) + card[^4..];

    private static void Search(string where, string text, List<string> found)
    {
        foreach (var card in TestCards.Where(c => text.Contains(c, StringComparison.Ordinal)))
        {
            var at = text.IndexOf(card, StringComparison.Ordinal);
            found.Add($"{Pan(card)} in {where}: …{text[Math.Max(0, at - 120)..at]}[card]…");
        }
    }

    /// <summary>
    /// Every row of every table, as text (bytea as hex, so a number inside bytes is searched for as hex too); how many rows, and how
    /// many of them name one of <paramref name="orderIds"/>.
    /// </summary>
    private async Task<(long Rows, long Ours)> SearchDatabaseAsync(string database, string[] orderIds, List<string> found)
    {
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync(database));
        await db.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')", db))
        await using (var row = await list.ExecuteReaderAsync())
        {
            while (await row.ReadAsync())
            {
                tables.Add(row.GetString(0));
            }
        }
        var hexCards = TestCards.ToDictionary(c => Convert.ToHexStringLower(Encoding.ASCII.GetBytes(c)), c => c);
        long rows = 0;
        long ours = 0;
        foreach (var table in tables)
        {
            await using var read = new NpgsqlCommand($"SELECT t::text FROM {table} t", db);
            await using var row = await read.ExecuteReaderAsync();
            while (await row.ReadAsync())
            {
                rows++;
                var text = row.GetString(0);
                if (orderIds.Any(id => text.Contains(id, StringComparison.Ordinal)))
                {
                    ours++;
                }
                Search($"{database} {table}", text, found);
                foreach (var (hex, card) in hexCards.Where(h => text.Contains(h.Key, StringComparison.Ordinal)))
                {
                    found.Add($"{Pan(card)} in {database} {table}, inside bytes");
                }
            }
        }
        return (rows, ours);
    }

    /// <summary>Every file under the data folder, byte for byte; how many bytes were read, and how many files hold one of <paramref name="orderIds"/>.</summary>
    private static (long Bytes, int Ours) SearchFiles(string folder, string[] orderIds, List<string> found)
    {
        var patterns = TestCards.Select(c => (Card: c, Bytes: Encoding.ASCII.GetBytes(c))).ToArray();
        var ourPatterns = orderIds.Select(id => Encoding.ASCII.GetBytes(id)).ToArray();
        long total = 0;
        var ours = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(file);
            }
            catch (IOException)
            {
                continue; // a file PostgreSQL removed while the sweep ran (a recycled WAL segment, say)
            }
            total += content.Length;
            foreach (var (card, bytes) in patterns.Where(p => content.AsSpan().IndexOf(p.Bytes) >= 0))
            {
                found.Add($"{Pan(card)} in the file {Path.GetRelativePath(folder, file)}");
            }
            if (ourPatterns.Any(p => content.AsSpan().IndexOf(p) >= 0))
            {
                ours++;
            }
        }
        return (total, ours);
    }

    private static string Pan(string card) => Mesh.Iso8583.Messages.Pan.Mask(card) + " (" + card.Length.ToString(CultureInfo.InvariantCulture) + " digits)";
}
