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
        Assert.NotNull(await merchantEndpoint.WaitForAsync(_ => true));
        await Task.Delay(1_500); // the last spans and log lines are exported

        var found = new List<string>();
        Search("the pages and answers", pages.ToString(), found);
        Search("the merchant's notifications", string.Join('\n', merchantEndpoint.Received.Select(r => Encoding.UTF8.GetString(r.Body))), found);
        Search("the services' logs", string.Join('\n', platform.Logs.Select(l => $"{l.Resource}: {l.Line}")), found);
        Search("the exported spans", string.Join('\n', platform.Traces.Spans.Select(s => $"{s.Service} {s.Name} {s.Attributes}")), found);
        var rows = 0L;
        foreach (var database in Databases)
        {
            rows += await SearchDatabaseAsync(database, found);
        }
        var bytes = SearchFiles(platform.DataDir, found);

        Assert.True(platform.Logs.Count > 200 && platform.Traces.Spans.Count > 50, $"the sweep had {platform.Logs.Count} log lines and {platform.Traces.Spans.Count} spans to search");
        Assert.True(rows > 100, $"the sweep read {rows} rows");
        Assert.True(bytes > 10_000_000, $"the sweep read {bytes} bytes of files");
        Assert.True(found.Count == 0, "full card numbers found:\n" + string.Join('\n', found.Take(20)));
    }

    private static void Search(string where, string text, List<string> found)
    {
        foreach (var card in TestCards.Where(c => text.Contains(c, StringComparison.Ordinal)))
        {
            var at = text.IndexOf(card, StringComparison.Ordinal);
            found.Add($"{Pan(card)} in {where}: …{text[Math.Max(0, at - 120)..at]}[card]…");
        }
    }

    /// <summary>Every row of every table, as text (bytea as hex, so a number inside bytes is searched for as hex too); how many rows.</summary>
    private async Task<long> SearchDatabaseAsync(string database, List<string> found)
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
        foreach (var table in tables)
        {
            await using var read = new NpgsqlCommand($"SELECT t::text FROM {table} t", db);
            await using var row = await read.ExecuteReaderAsync();
            while (await row.ReadAsync())
            {
                rows++;
                var text = row.GetString(0);
                Search($"{database} {table}", text, found);
                foreach (var (hex, card) in hexCards.Where(h => text.Contains(h.Key, StringComparison.Ordinal)))
                {
                    found.Add($"{Pan(card)} in {database} {table}, inside bytes");
                }
            }
        }
        return rows;
    }

    /// <summary>Every file under the data folder, byte for byte; how many bytes were read.</summary>
    private static long SearchFiles(string folder, List<string> found)
    {
        var patterns = TestCards.Select(c => (Card: c, Bytes: Encoding.ASCII.GetBytes(c))).ToArray();
        long total = 0;
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
        }
        return total;
    }

    private static string Pan(string card) => Mesh.Iso8583.Messages.Pan.Mask(card) + " (" + card.Length.ToString(CultureInfo.InvariantCulture) + " digits)";
}
