using System.Net;
using System.Net.Http.Json;
using System.Text;
using Aspire.Hosting.Testing;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Credit cards: paid with expiry and CVV2 instead of a PIN, checked by the bank in the Hsm; a bank that asks for
/// the cardholder's one-time code answers 1A, the page asks for the code the bank put in the cardholder's inbox, and
/// the purchase goes again with it. Wrong CVV2s, wrong codes, expired cards and bad input; and the attack that looks
/// for a CVV2 or a code anywhere it could have been kept.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class CreditCardTests(MeshPlatformFixture platform)
{
    private const string IcbcBank = "01020000";
    private const string IcbcCredit = "622208";

    [Fact]
    public async Task ThePage_AsksForACvv2OnCreditBinsOnly_AndACreditCardPaysWithExpiryAndCvv2_NoPin()
    {
        var card = await CreditCardAsync("issuer-icbc", "Approved");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 88_88));

        var result = await consumer.PayCreditAsync(page, card.Pan, card.Cvv2);

        Assert.Contains("data-credit-bins=\"", page.Html);
        Assert.Contains(IcbcCredit, CreditBins(page.Html));
        Assert.Contains("436742", CreditBins(page.Html));
        Assert.DoesNotContain("622202", CreditBins(page.Html));
        Assert.Contains("Payment successful", result);
        Assert.Equal("paid", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        var stan = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan FROM payments WHERE order_id = $1", ordId);
        Assert.Equal(-88_88L, await BankScalarAsync(IcbcBank, "SELECT coalesce(sum(balance_delta_minor), 0) FROM postings WHERE stan = $1", stan));
        // The purchase reaches settlement like any other: the ledger books it for the merchant.
        await Eventually.TrueAsync(async () => await platform.ScalarAsync<long>("settlementdb",
            "SELECT count(*) FROM journal_entries WHERE order_id = $1 AND kind = 'purchase'", ordId) > 0, "the ledger has the credit purchase", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AWrongCvv2_IsRefusedN7_TheOrderFails_AndNothingIsCharged()
    {
        var card = await CreditCardAsync("issuer-icbc", "Approved");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 12_00));

        var result = await consumer.PayCreditAsync(page, card.Pan, card.Cvv2 == "999" ? "998" : "999");

        Assert.Contains("Payment failed", result);
        Assert.Contains("The CVV2 is wrong", result);
        Assert.Equal("N7", await platform.ScalarAsync<string>("gatewaydb", "SELECT response_code FROM orders WHERE order_id = $1", ordId));
        var stan = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan FROM payments WHERE order_id = $1", ordId);
        Assert.Equal(0L, await BankScalarAsync(IcbcBank, "SELECT count(*) FROM postings WHERE stan = $1", stan));
    }

    [Theory]
    [InlineData("12", "12/30", "The CVV2 is the 3 digits")]
    [InlineData("1234", "12/30", "The CVV2 is the 3 digits")]
    [InlineData("1a3", "12/30", "The CVV2 is the 3 digits")]
    [InlineData("", "12/30", "The CVV2 is the 3 digits")]
    [InlineData("123", "01/20", "The card has expired")]
    [InlineData("123", "13/30", "The expiry date is MM/YY")]
    public async Task BadCardInput_Is400WithWhatToCorrect_AndNothingIsSentOrWritten(string cvv2, string expiry, string message)
    {
        var card = await CreditCardAsync("issuer-icbc", "Approved");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 3_00));

        using var refused = await consumer.SubmitCreditAsync(page, card.Pan, expiry, cvv2);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(message, await refused.Content.ReadAsStringAsync());
        Assert.Equal("created", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM payments WHERE order_id = $1", ordId));
    }

    [Fact]
    public async Task AtTheBank_AnExpiredCreditCardIs54_AWrongExpiryIs54_AndOneWithoutCvv2IsN7()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var expired = await CreditCardAsync("issuer-icbc", "Expired");
        var good = await CreditCardAsync("issuer-icbc", "Approved");

        var answers = new List<string?>();
        foreach (var (pan, expiry, data) in new[]
        {
            (expired.Pan, expired.Expiry, AdditionalData.Build((AdditionalData.Cvv2, expired.Cvv2))),
            (good.Pan, "2912", AdditionalData.Build((AdditionalData.Cvv2, good.Cvv2))),
            (good.Pan, good.Expiry, ""),
        })
        {
            var request = await acquirer.BuildCreditPurchaseAsync(pan, expiry, 1_00, data);
            answers.Add((await acquirer.SendAsync(request)).GetString(IsoFields.ResponseCode));
        }

        Assert.Equal(["54", "54", "N7"], answers);
    }

    [Fact]
    public async Task ABankThatAsksForACode_Answers1A_ThePageAsksForIt_AWrongCodeIsRefused_AndTheRightOnePays()
    {
        var card = await CreditCardAsync("issuer-icbc", "OneTimeCode");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        const long amount = 66_01;
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, amount));

        var asked = await consumer.PayCreditAsync(page, card.Pan, card.Cvv2);
        var code = await InboxCodeAsync("issuer-icbc", card.Pan, amount);
        using var wrong = await consumer.SubmitCodeAsync(asked, code == "000000" ? "000001" : "000000");
        var wrongHtml = await wrong.Content.ReadAsStringAsync();
        using var right = await consumer.SubmitCodeAsync(wrongHtml, code);
        var result = await right.Content.ReadAsStringAsync();

        Assert.True(TestConsumer.AsksForCode(asked), asked);
        Assert.Contains("sent a verification code", asked);
        Assert.Contains(Pan.Mask(card.Pan), asked);
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("The verification code is wrong", wrongHtml);
        Assert.True(TestConsumer.AsksForCode(wrongHtml));
        Assert.Contains("Payment successful", result);
        var codes = await PaymentCodesAsync(ordId);
        Assert.Equal(["1A", "63", "00"], codes);
        Assert.Equal("paid", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        var stan = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan FROM payments WHERE order_id = $1 AND response_code = '00'", ordId);
        Assert.Equal(-amount, await BankScalarAsync(IcbcBank, "SELECT coalesce(sum(balance_delta_minor), 0) FROM postings WHERE stan = $1", stan));
    }

    [Fact]
    public async Task ACardThatNeedsNoCode_IsNeverAskedForOne()
    {
        var card = await CreditCardAsync("issuer-ccb", "Approved");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 7_77, gateId: "0105"));

        var result = await consumer.PayCreditAsync(page, card.Pan, card.Cvv2);

        Assert.False(TestConsumer.AsksForCode(result));
        Assert.Contains("Payment successful", result);
        Assert.Empty(await InboxAsync("issuer-ccb", card.Pan));
    }

    [Fact]
    public async Task WrongCodesUpToTheLimit_RefuseThePurchaseForGood_EvenTheRightCodeAfterwards()
    {
        var card = await CreditCardAsync("issuer-icbc", "OneTimeCode");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var ordId = TestMerchant.NewOrderId();
        const long amount = 66_02;
        var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, amount));

        var html = await consumer.PayCreditAsync(page, card.Pan, card.Cvv2);
        var code = await InboxCodeAsync("issuer-icbc", card.Pan, amount);
        var wrongCode = code == "000000" ? "000001" : "000000";
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await consumer.SubmitCodeAsync(html, wrongCode);
            html = await wrong.Content.ReadAsStringAsync();
        }
        var page2 = await consumer.StartNetPayAsync(merchant.NetPayOrder(TestMerchant.NewOrderId(), 1_00));

        Assert.Contains("Payment failed", html);
        Assert.Contains("Too many wrong verification codes", html);
        Assert.Equal(["1A", "63", "63", "75"], await PaymentCodesAsync(ordId));
        Assert.Equal("failed", await platform.ScalarAsync<string>("gatewaydb", "SELECT status FROM orders WHERE order_id = $1", ordId));
        // The right code can no longer pay that purchase: at the bank, the challenge is spent.
        using var acquirer = await platform.NewAcquirerAsync();
        var challenged = await ChallengedPurchaseAsync(ordId, card);
        var late = await acquirer.SendAsync(await acquirer.BuildCreditPurchaseAsync(card.Pan, card.Expiry, amount,
            AdditionalData.Build((AdditionalData.OneTimeCode, code)), challenged));
        Assert.Equal("75", late.GetString(IsoFields.ResponseCode));
        Assert.True(TestConsumer.AsksForCode(await consumer.PayCreditAsync(page2, card.Pan, card.Cvv2)), "a new order is asked for a new code");
    }

    [Fact]
    public async Task ParallelGuessesOfTheCode_AtTheBank_GetNoMoreThanThreeTries_AndNothingIsCharged()
    {
        var card = await CreditCardAsync("issuer-icbc", "OneTimeCode");
        using var acquirer = await platform.NewAcquirerAsync();
        const long amount = 66_03;
        var purchase = await acquirer.BuildCreditPurchaseAsync(card.Pan, card.Expiry, amount, AdditionalData.Build((AdditionalData.Cvv2, card.Cvv2)));
        var challenge = await acquirer.SendAsync(purchase);
        var code = await InboxCodeAsync("issuer-icbc", card.Pan, amount);
        var guesses = Enumerable.Range(0, 20).Select(i => ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 1 + i) % 1_000_000)
            .ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        var requests = await Task.WhenAll(guesses.Select(g =>
            acquirer.BuildCreditPurchaseAsync(card.Pan, card.Expiry, amount, AdditionalData.Build((AdditionalData.OneTimeCode, g)), purchase)));
        var answers = await Task.WhenAll(requests.Select(acquirer.SendAsync));
        var right = await acquirer.SendAsync(await acquirer.BuildCreditPurchaseAsync(card.Pan, card.Expiry, amount,
            AdditionalData.Build((AdditionalData.OneTimeCode, code)), purchase));

        Assert.Equal("1A", challenge.GetString(IsoFields.ResponseCode));
        var codes = answers.Select(a => a.GetString(IsoFields.ResponseCode)).ToList();
        Assert.Equal(2, codes.Count(c => c == "63"));
        Assert.Equal(18, codes.Count(c => c == "75"));
        Assert.Equal("75", right.GetString(IsoFields.ResponseCode));
        Assert.Equal(3L, await BankScalarAsync(IcbcBank, "SELECT wrong_codes FROM otp_challenges WHERE stan = $1", purchase.GetString(IsoFields.Stan)!));
        Assert.Equal(0L, await BankScalarAsync(IcbcBank, "SELECT count(*) FROM postings WHERE stan = ANY($1)",
            requests.Select(r => r.GetString(IsoFields.Stan)!).Append(right.GetString(IsoFields.Stan)!).ToArray()));
    }

    [Fact]
    public async Task TheCodeInbox_IsTheOperatorsAlone()
    {
        using var gatewayCaller = await platform.HttpClientAsync("issuer-icbc", "settlement");
        using var refused = await gatewayCaller.GetAsync($"/admin/inbox?card={Uri.EscapeDataString("622208******0012")}");
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        using var notMasked = await bank.GetAsync("/admin/inbox?card=6222080000000012");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notMasked.StatusCode);
    }

    /// <summary>
    /// The attack: after credit purchases (one with a one-time code, one with a wrong CVV2), the CVV2s and the code
    /// are looked for in every database, every log line and every exported span, in clear (as the ISO 8583 field 48
    /// element that carried them, and the code alone) and as the hex of those bytes: nothing. And the requests the
    /// gateway stored to send again carry no field 48 at all.
    /// </summary>
    [Fact]
    public async Task AfterCreditPurchases_NoCvv2AndNoCodeIsInATableALogOrASpan()
    {
        var approved = await CreditCardAsync("issuer-icbc", "Approved");
        var challenged = await CreditCardAsync("issuer-icbc", "OneTimeCode");
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var orderIds = new List<string>();
        var secrets = new List<string>();
        foreach (var (card, cvv2) in new[] { (approved, approved.Cvv2), (approved, approved.Cvv2 == "999" ? "998" : "999"), (challenged, challenged.Cvv2) })
        {
            using var consumer = new TestConsumer(platform);
            var ordId = TestMerchant.NewOrderId();
            orderIds.Add(ordId);
            var amount = 55_00 + orderIds.Count;
            var html = await consumer.PayCreditAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, amount)), card.Pan, cvv2);
            secrets.Add(AdditionalData.Build((AdditionalData.Cvv2, cvv2)));
            if (TestConsumer.AsksForCode(html))
            {
                var code = await InboxCodeAsync("issuer-icbc", card.Pan, amount);
                using var paid = await consumer.SubmitCodeAsync(html, code);
                Assert.Contains("Payment successful", await paid.Content.ReadAsStringAsync());
                secrets.Add(AdditionalData.Build((AdditionalData.OneTimeCode, code)));
                secrets.Add(code);
            }
        }
        Assert.Equal(5, secrets.Count); // three CVV2s, the code, and its field 48 element
        var needles = secrets.Concat(secrets.Select(s => Convert.ToHexStringLower(Encoding.ASCII.GetBytes(s)))).ToArray();

        var found = new List<string>();
        long rows = 0;
        foreach (var database in new[] { "gatewaydb", "switchdb", "issuerdb", "settlementdb", "hsmdb" })
        {
            rows += await SearchDatabaseAsync(database, needles, found);
        }
        foreach (var (resource, line) in platform.Logs.ToList())
        {
            found.AddRange(needles.Where(n => line.Contains(n, StringComparison.Ordinal)).Select(n => $"{resource} log: {n}"));
        }
        foreach (var span in platform.Traces.Spans.ToList())
        {
            var text = $"{span.Name} {span.Attributes}";
            found.AddRange(needles.Where(n => text.Contains(n, StringComparison.Ordinal)).Select(n => $"{span.Service} span {span.Name}: {n}"));
        }
        var packager = new IsoPackager(IsoDialect.UnionPay1987);
        foreach (var ordId in orderIds)
        {
            await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("gatewaydb"));
            await db.OpenAsync();
            await using var stored = new NpgsqlCommand("SELECT request FROM payments WHERE order_id = $1", db) { Parameters = { new() { Value = ordId } } };
            await using var row = await stored.ExecuteReaderAsync();
            while (await row.ReadAsync())
            {
                var request = packager.Unpack(row.GetFieldValue<byte[]>(0));
                Assert.True(request.Ok, request.Error?.ToString());
                Assert.False(request.Message!.Has(IsoFields.AdditionalData), $"a stored request of order {ordId} carries field 48");
            }
        }

        Assert.True(rows > 100, $"the sweep read {rows} rows");
        Assert.True(found.Count == 0, "card secrets found:\n" + string.Join('\n', found.Take(20)));
    }

    private sealed record PublishedCard(string Pan, string Expiry, string Pin, string Cvv2, string Outcome, string Product, bool OtpRequired);

    private sealed record InboxMessage(string PanMasked, long AmountMinor, string Code, string Text);

    /// <summary>A bank's published credit test card of the given outcome, with its CVV2 (made under the bank's CVK in this installation).</summary>
    private async Task<PublishedCard> CreditCardAsync(string bank, string outcome)
    {
        using var client = await platform.HttpClientAsync(bank);
        var cards = await client.GetFromJsonAsync<List<PublishedCard>>("/admin/test-cards");
        return cards!.Single(c => c.Product == "credit" && c.Outcome == outcome);
    }

    private async Task<List<InboxMessage>> InboxAsync(string bank, string pan)
    {
        using var client = await platform.HttpClientAsync(bank);
        return (await client.GetFromJsonAsync<List<InboxMessage>>($"/admin/inbox?card={Uri.EscapeDataString(Pan.Mask(pan))}"))!;
    }

    /// <summary>The code the cardholder received for a payment of <paramref name="amountMinor"/>, once it has arrived (at most 10 s).</summary>
    private async Task<string> InboxCodeAsync(string bank, string pan, long amountMinor)
    {
        string? code = null;
        await Eventually.TrueAsync(async () => (code = (await InboxAsync(bank, pan)).FirstOrDefault(m => m.AmountMinor == amountMinor)?.Code) is not null,
            "the cardholder's code arrived", TimeSpan.FromSeconds(10));
        Assert.Contains(code!, (await InboxAsync(bank, pan)).First(m => m.AmountMinor == amountMinor).Text);
        return code!;
    }

    /// <summary>The response codes of an order's payments, in the order they were made.</summary>
    private async Task<List<string>> PaymentCodesAsync(string ordId)
    {
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("gatewaydb"));
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT response_code FROM payments WHERE order_id = $1 ORDER BY payment_id", db)
        {
            Parameters = { new() { Value = ordId } },
        };
        await using var row = await command.ExecuteReaderAsync();
        var codes = new List<string>();
        while (await row.ReadAsync())
        {
            codes.Add(row.IsDBNull(0) ? "none" : row.GetString(0));
        }
        return codes;
    }

    /// <summary>The purchase the bank answered 1A for an order, as the acquirer sent it (for field 90 of a purchase sent again).</summary>
    private async Task<IsoMessage> ChallengedPurchaseAsync(string ordId, PublishedCard card)
    {
        var stan = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan FROM payments WHERE order_id = $1 AND response_code = '1A'", ordId);
        var transmission = await platform.ScalarAsync<string>("gatewaydb", "SELECT transmission FROM payments WHERE order_id = $1 AND response_code = '1A'", ordId);
        return new IsoMessage("0200").Set(IsoFields.Pan, card.Pan).Set(IsoFields.Stan, stan).Set(IsoFields.TransmissionDateTime, transmission)
            .Set(IsoFields.AcquirerId, Acquirer.AcquirerId);
    }

    private async Task<long> BankScalarAsync(string bankId, string sql, object value)
    {
        var connection = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("issuerdb")) { SearchPath = $"bank_{bankId}" };
        await using var db = new NpgsqlConnection(connection.ConnectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db) { Parameters = { new() { Value = value } } };
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<long> SearchDatabaseAsync(string database, string[] needles, List<string> found)
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
        long rows = 0;
        foreach (var table in tables)
        {
            await using var read = new NpgsqlCommand($"SELECT t::text FROM {table} t", db);
            await using var row = await read.ExecuteReaderAsync();
            while (await row.ReadAsync())
            {
                rows++;
                var text = row.GetString(0);
                found.AddRange(needles.Where(n => text.Contains(n, StringComparison.Ordinal)).Select(n => $"{database} {table}: {n}"));
            }
        }
        return rows;
    }

    private static string[] CreditBins(string html) =>
        WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "data-credit-bins=\"([^\"]*)\"").Groups[1].Value).Split(',');
}
