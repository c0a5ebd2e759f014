using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using CsCheck;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The ledger against a plain model: random purchases, refunds and reversals around the 23:00
/// Asia/Shanghai cut-off, recorded twice, then their days closed twice. Each run books in its own
/// currency and bank, so its accounts are its own, on its own past dates. The runs come from a fixed
/// seed (<c>MESH_PROPERTY_SEED</c> runs another, <c>MESH_PROPERTY_ITER</c> more of them).
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class SettlementLedgerTests(MeshPlatformFixture platform)
{
    private const int FeePpm = 6_000;
    private const long FeeMinimum = 100;
    private static int _runs;

    internal sealed record Purchase(int Index, string Merchant, long Amount, DateTimeOffset At)
    {
        public long Fee => Math.Min(Amount, Math.Max(FeeMinimum, (Amount * FeePpm + 500_000) / 1_000_000));

        public long Refunded { get; set; }

        public bool Reversed { get; set; }
    }

    [Fact]
    public async Task RandomPurchasesRefundsAndReversalsAroundTheCutoff_WithTheSwitchsClearing_BalancesAndBatchesMatchAPlainModel_TheLedgerSumsToZero()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var operations = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 2], Gen.Long[1, 300_000], Gen.Int[-150, 150], Gen.Int[0, 600]).Array[1, 40];

        await operations.SampleSeededAsync(async ops => await CheckAgainstModelAsync(settlement, ops), iter: 6);
    }

    /// <summary>
    /// Each operation is the gateway's event and the switch's clearing of it, the switch up to ten
    /// minutes earlier (it sees the request before the gateway records the answer), so the two sides
    /// of one payment can fall on different settlement dates.
    /// </summary>
    private static async Task CheckAgainstModelAsync(Settlement.SettlementClient settlement, (int Kind, int Merchant, long Amount, int Minutes, int LagSeconds)[] ops)
    {
        var run = Interlocked.Increment(ref _runs);
        var day = NextDay();
        var cutoff = new DateTimeOffset(day.ToDateTime(new TimeOnly(15, 0)), TimeSpan.Zero); // 23:00 in Shanghai
        var currency = (900 + run).ToString(CultureInfo.InvariantCulture);
        var issuer = $"9{run:D7}";
        var merchants = Enumerable.Range(0, 3).Select(i => $"7{run:D4}{i:D10}").ToArray();
        var purchases = new List<Purchase>();
        var events = new List<LedgerEvent>();
        var refunds = new List<(string Merchant, long Amount, DateTimeOffset At)>();
        // The clearing account's movements: + for the gateway's purchases, - for its refunds and reversals, the switch's opposite.
        var clearing = new List<(long Amount, DateTimeOffset At)>();
        var positions = new List<(long Amount, DateTimeOffset At)>();
        void Cleared(string id, string kind, long amount, DateTimeOffset at)
        {
            events.Add(new LedgerEvent { TransactionId = id, Kind = kind, AmountMinor = amount, OccurredAtUnixMs = at.ToUnixTimeMilliseconds() });
            var signed = kind == "interbank_purchase" ? amount : -amount;
            positions.Add((signed, at));
            clearing.Add((-signed, at));
        }
        foreach (var (kind, merchant, amount, minutes, lag) in ops)
        {
            var open = purchases.Where(p => !p.Reversed).ToList();
            if (kind <= 1 || open.Count == 0)
            {
                var purchase = new Purchase(purchases.Count, merchants[merchant], amount, cutoff.AddMinutes(minutes));
                purchases.Add(purchase);
                events.Add(Event($"p{purchase.Index}", "purchase", "paid", purchase, purchase.Amount, purchase.At));
                clearing.Add((purchase.Amount, purchase.At));
                Cleared($"sp{purchase.Index}", "interbank_purchase", purchase.Amount, purchase.At.AddSeconds(-lag));
            }
            else if (kind == 2 && open.FirstOrDefault(p => p.Refunded < p.Amount) is { } refundable)
            {
                var refund = Math.Min(amount, refundable.Amount - refundable.Refunded);
                refundable.Refunded += refund;
                refunds.Add((refundable.Merchant, refund, refundable.At.AddMinutes(1)));
                events.Add(Event($"r{events.Count}", "refund", "succeeded", refundable, refund, refundable.At.AddMinutes(1)));
                clearing.Add((-refund, refundable.At.AddMinutes(1)));
                Cleared($"sr{events.Count}", "interbank_refund", refund, refundable.At.AddMinutes(1).AddSeconds(-lag));
            }
            else if (open.FirstOrDefault(p => p.Refunded == 0) is { } reversible)
            {
                reversible.Reversed = true;
                events.Add(Event($"v{reversible.Index}", "reversal", "failed", reversible, reversible.Amount, reversible.At.AddMinutes(2)));
                clearing.Add((-reversible.Amount, reversible.At.AddMinutes(2)));
                Cleared($"sv{reversible.Index}", "interbank_refund", reversible.Amount, reversible.At.AddMinutes(2).AddSeconds(-lag));
            }
        }
        foreach (var e in events)
        {
            e.TransactionId = $"prop-{run}-{e.TransactionId}";
            e.Currency = currency;
            e.IssuerId = issuer;
        }
        var request = new RecordRequest();
        request.Events.AddRange(events);

        var first = await settlement.RecordAsync(request);
        var again = await settlement.RecordAsync(request);

        Assert.Equal(events.Count, first.Posted);
        Assert.Equal((0, events.Count), (again.Posted, again.Duplicates));
        Assert.Equal(purchases.Sum(p => p.Amount) - refunds.Sum(r => r.Amount) - purchases.Where(p => p.Reversed).Sum(p => p.Amount),
            await BalanceAsync(settlement, $"issuer:{issuer}:receivable:{currency}"));
        Assert.Equal(0, await BalanceAsync(settlement, $"platform:interbank-clearing:{currency}"));
        Assert.Equal(-purchases.Where(p => !p.Reversed).Sum(p => p.Fee), await BalanceAsync(settlement, $"platform:fee-income:{currency}"));
        foreach (var merchant in merchants)
        {
            Assert.Equal(-purchases.Where(p => p.Merchant == merchant && !p.Reversed).Sum(p => p.Amount - p.Fee),
                await BalanceAsync(settlement, $"merchant:{merchant}:payable:{currency}"));
        }
        var verified = await settlement.VerifyAsync(new VerifyLedgerRequest());
        Assert.True(verified.Ok, string.Join("; ", verified.Problems));
        Assert.Equal(0, verified.LedgerSumMinor);

        // Close both settlement dates the cut-off spreads them over, twice each.
        var batches = new List<Batch>();
        foreach (var date in new[] { day, day.AddDays(1) })
        {
            var closed = await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{date:yyyy-MM-dd}" });
            var closedAgain = await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{date:yyyy-MM-dd}" });
            Assert.False(closed.AlreadyClosed);
            Assert.True(closedAgain.AlreadyClosed);
            Assert.Equal(closed.Batches.Select(b => b.BatchId), closedAgain.Batches.Select(b => b.BatchId));
            Assert.Equal(closed.IssuerPositions, closedAgain.IssuerPositions);
            Assert.Equal(positions.Where(p => DateOf(p.At) == date).Sum(p => p.Amount),
                closed.IssuerPositions.SingleOrDefault(p => p.IssuerId == issuer && p.Currency == currency)?.NetMinor ?? 0);
            Assert.Equal(clearing.Where(c => DateOf(c.At) == date).Sum(c => c.Amount),
                closedAgain.ClearingDifferences.SingleOrDefault(d => d.Currency == currency)?.AmountMinor ?? 0);
            batches.AddRange(closed.Batches.Where(b => b.Currency == currency));
        }
        foreach (var merchant in merchants)
        {
            foreach (var date in new[] { day, day.AddDays(1) })
            {
                var sales = purchases.Where(p => p.Merchant == merchant && DateOf(p.At) == date).ToList();
                var sameDayReversals = sales.Where(p => p.Reversed && DateOf(p.At.AddMinutes(2)) == date).ToList();
                var laterReversals = purchases.Where(p => p.Merchant == merchant && p.Reversed && DateOf(p.At) < date && DateOf(p.At.AddMinutes(2)) == date).ToList();
                var gross = sales.Sum(p => p.Amount) - sameDayReversals.Sum(p => p.Amount);
                var fees = sales.Sum(p => p.Fee) - sameDayReversals.Sum(p => p.Fee);
                var refunded = refunds.Where(r => r.Merchant == merchant && DateOf(r.At) == date).Sum(r => r.Amount);
                var adjustments = -laterReversals.Sum(p => p.Amount - p.Fee);
                var batch = batches.SingleOrDefault(b => b.MerchantId == merchant && b.SettlementDate == $"{date:yyyy-MM-dd}");
                Assert.Equal((gross, fees, refunded, adjustments, gross - fees - refunded + adjustments),
                    (batch?.GrossSalesMinor ?? 0, batch?.FeesMinor ?? 0, batch?.RefundsMinor ?? 0, batch?.AdjustmentsMinor ?? 0, batch?.NetPayableMinor ?? 0));
            }
            // Once refunds are charged to the merchant at the close, what it is owed is its batches' total.
            Assert.Equal(-batches.Where(b => b.MerchantId == merchant).Sum(b => b.NetPayableMinor),
                await BalanceAsync(settlement, $"merchant:{merchant}:payable:{currency}"));
        }
        Assert.True((await settlement.VerifyAsync(new VerifyLedgerRequest())).Ok);
    }

    [Fact]
    public async Task AReversalAfterItsDayClosed_IsAnAdjustmentOnTheNextDay_AndAPayoutMovesTheBatchToPaid()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = NextDay();
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero); // noon in Shanghai
        var merchant = "6" + Random.Shared.NextInt64(10_000_000_000_000, 99_999_999_999_999).ToString(CultureInfo.InvariantCulture);
        var purchase = new Purchase(0, merchant, 50_000, at);
        var sale = Event($"late-{merchant}-p", "purchase", "paid", purchase, 50_000, at);
        var reversal = Event($"late-{merchant}-v", "reversal", "failed", purchase, 50_000, at.AddMinutes(5));

        await settlement.RecordAsync(new RecordRequest { Events = { sale } });
        var first = await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" });
        await settlement.RecordAsync(new RecordRequest { Events = { reversal } });
        var next = await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day.AddDays(1):yyyy-MM-dd}" });
        var paid = await settlement.RecordPayoutAsync(new RecordPayoutRequest { BatchId = first.Batches.Single(b => b.MerchantId == merchant).BatchId, Reference = "BOC-20260101-1" });
        var paidAgain = await settlement.RecordPayoutAsync(new RecordPayoutRequest { BatchId = paid.BatchId, Reference = "BOC-20260101-1" });

        var original = first.Batches.Single(b => b.MerchantId == merchant);
        var adjustment = next.Batches.Single(b => b.MerchantId == merchant);
        Assert.Equal((50_000L, 300L, 49_700L), (original.GrossSalesMinor, original.FeesMinor, original.NetPayableMinor));
        Assert.Equal((0L, -49_700L, -49_700L), (adjustment.GrossSalesMinor, adjustment.AdjustmentsMinor, adjustment.NetPayableMinor));
        Assert.Equal(("paid", "paid"), (paid.FundStatus, paidAgain.FundStatus));
        // Paid 497.00, then owed back 497.00 by the adjustment: the merchant's account shows it.
        Assert.Equal(49_700, await BalanceAsync(settlement, $"merchant:{merchant}:payable:156"));
        Assert.True((await settlement.VerifyAsync(new VerifyLedgerRequest())).Ok);
    }

    [Fact]
    public async Task APaymentAndARefundThroughTheGateway_ReachTheLedger_WithTheMerchantsFee_AndTheBankThatAnswered()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 100_00)), Acquirer.TestCard("622202", 1));
        using var refunded = await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(ordId, 30_00, "part"));

        var entries = await Eventually.UntilAsync(() => platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId),
            count => count >= 2, $"the purchase and the refund in the ledger (2 journal entries of {merchant.MerchantId})");

        Assert.Equal(System.Net.HttpStatusCode.OK, refunded.StatusCode);
        Assert.Equal(2L, entries);
        // 100.00 less the fee (0.6%, at least 1.00): 99.00 owed; the refund is charged at the day's close.
        Assert.Equal(-99_00, await BalanceAsync(settlement, $"merchant:{merchant.MerchantId}:payable:156"));
        Assert.Equal("purchase:01020000:100,refund:01020000:0", await platform.ScalarAsync<string>("settlementdb",
            "SELECT string_agg(kind || ':' || issuer_id || ':' || fee_minor, ',' ORDER BY entry_id) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId));
        Assert.True((await settlement.VerifyAsync(new VerifyLedgerRequest())).Ok);

        // The switch's side of both, taken in once settled: the bank owes the purchase and is owed the refund back.
        var keys = new[]
        {
            await platform.ScalarAsync<string>("gatewaydb", "SELECT 'switch:08010000:' || stan || ':' || transmission FROM payments WHERE order_id = $1 AND status = 'approved'", ordId),
            await platform.ScalarAsync<string>("gatewaydb", "SELECT 'switch:08010000:' || stan || ':' || transmission FROM refunds WHERE order_id = $1", ordId),
        };
        await Eventually.UntilAsync(() => platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM journal_entries WHERE transaction_id = ANY($1)", (object)keys),
            cleared => cleared >= 2, "the switch's clearing of the purchase and the refund in the ledger");
        Assert.Equal("interbank_purchase:01020000:10000,interbank_refund:01020000:3000", await platform.ScalarAsync<string>("settlementdb",
            "SELECT string_agg(kind || ':' || issuer_id || ':' || amount_minor, ',' ORDER BY kind) FROM journal_entries WHERE transaction_id = ANY($1)", (object)keys));
    }

    [Fact]
    public async Task AClosedDaysFiles_DownloadThroughTheMerchantApi_SignedByThePlatform_TheirTotalsEqualTheLedgers()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var http = platform.App.CreateHttpClient("gateway", "http");
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = NextDay();
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero);
        var sales = new[] { 12_345L, 6_789L, 100_000L }.Select((amount, i) => new Purchase(i, merchant.MerchantId, amount, at.AddMinutes(i))).ToList();
        var request = new RecordRequest();
        request.Events.AddRange(sales.Select(p => Event($"file-{merchant.MerchantId}-{p.Index}", "purchase", "paid", p, p.Amount, p.At)));
        request.Events.Add(Event($"file-{merchant.MerchantId}-r", "refund", "succeeded", sales[2], 40_000, at.AddMinutes(9)));
        await settlement.RecordAsync(request);
        var date = $"{day:yyyy-MM-dd}";

        using var early = await http.GetAsync($"/v1/reconciliation/{date}/detail?{merchant.Query([], ("settlementDate", date), ("kind", "detail"))}");
        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = date });
        using var detail = await http.GetAsync($"/v1/reconciliation/{date}/detail?{merchant.Query([], ("settlementDate", date), ("kind", "detail"))}");
        using var totals = await http.GetAsync($"/v1/reconciliation/{date}/totals?{merchant.Query([], ("settlementDate", date), ("kind", "totals"))}");
        using var filesCertificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(
            await http.GetStringAsync(Mesh.NetPay.Api.PlatformKeys.FilesCertificatePath));
        using var filesKey = filesCertificate.GetECDsaPublicKey()!;
        using var answersKey = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(
            await http.GetStringAsync(Mesh.NetPay.Api.PlatformKeys.CertificatePath)).GetECDsaPublicKey()!;

        Assert.Equal(System.Net.HttpStatusCode.Conflict, early.StatusCode);
        foreach (var file in new[] { detail, totals })
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, file.StatusCode);
            var content = await file.Content.ReadAsByteArrayAsync();
            var signature = Convert.FromBase64String(file.Headers.GetValues("Mesh-File-Signature").Single());
            Assert.True(filesKey.VerifyData(content, signature, System.Security.Cryptography.HashAlgorithmName.SHA256,
                System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence));
            // One key per purpose: a file's signature is no answer's, and the header names the files certificate.
            Assert.False(answersKey.VerifyData(content, signature, System.Security.Cryptography.HashAlgorithmName.SHA256,
                System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence));
            Assert.Equal(Mesh.NetPay.Signing.V1Signature.CertIdOf(filesCertificate), file.Headers.GetValues("Mesh-Cert-Id").Single());
        }
        var detailLines = (await detail.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
        var total = (await totals.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(',');
        Assert.Equal(4, detailLines.Count);
        Assert.Equal(["paid", "paid", "paid", "refunded"], detailLines.Select(l => l[7]));
        Assert.All(detailLines, l => Assert.Equal("622202******0015", l[8]));
        var net = detailLines.Sum(l => long.Parse(l[5], CultureInfo.InvariantCulture));
        Assert.Equal(net, long.Parse(total[8], CultureInfo.InvariantCulture));
        Assert.Equal(-net, await BalanceAsync(settlement, $"merchant:{merchant.MerchantId}:payable:156"));
    }

    [Fact]
    public async Task ThreeWayReconciliation_MatchesTheGatewaysPaymentsAndRefunds_AndListsAPurchaseTheLedgerNeverSaw()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        using var acquirer = await platform.NewAcquirerAsync();
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var ordId = TestMerchant.NewOrderId();
        await consumer.PayAsync(await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 20_00)), Acquirer.TestCard("622202", 1));
        using var refunded = await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(ordId, 5_00, "three-way"));
        var bypass = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("621700", 1), "3012", "123456", 7_77);
        var bypassAnswer = await acquirer.SendAsync(bypass);
        await Eventually.TrueAsync(async () => await platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM journal_entries WHERE merchant_id = $1", merchant.MerchantId) >= 2,
            $"the merchant's purchase and refund in the ledger (2 journal entries of {merchant.MerchantId})");
        var payment = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan || '/' || transmission FROM payments WHERE order_id = $1 AND status = 'approved'", ordId);
        var refund = await platform.ScalarAsync<string>("gatewaydb", "SELECT stan || '/' || transmission FROM refunds WHERE order_id = $1", ordId);

        var report = await settlement.ReconcileAsync(new ReconcileRequest { SettlementDate = $"{DateOf(DateTimeOffset.UtcNow):yyyy-MM-dd}" });
        var flagged = report.Discrepancies.ToDictionary(d => $"{d.Stan}/{d.Transmission}");

        Assert.Equal("00", bypassAnswer.GetString(Iso8583.Messages.IsoFields.ResponseCode));
        Assert.DoesNotContain(payment, flagged.Keys);
        Assert.DoesNotContain(refund, flagged.Keys);
        var missing = flagged[$"{bypass.GetString(Iso8583.Messages.IsoFields.Stan)}/{bypass.GetString(Iso8583.Messages.IsoFields.TransmissionDateTime)}"];
        Assert.Equal(("missing_in_ledger", ""), (missing.Kind, missing.ResolvedBy));
        Assert.True(report.Matched >= 2);
    }

    [Fact]
    public async Task TheDashboardsVerifyCommand_FindsTheLedgerSound_AndADayThatHasNotEnded_IsNotClosed_WithTheReason()
    {
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        using var http = await platform.HttpClientAsync("settlement");
        var tomorrow = $"{DateOnly.FromDateTime(DateTime.UtcNow.AddDays(2)):yyyy-MM-dd}";

        var verified = await commands.ExecuteCommandAsync("settlement", "verify-ledger");
        using var early = await http.PostAsync($"/admin/days/{tomorrow}/close", null);
        using var malformed = await http.PostAsync("/admin/days/26-11-2026/close", null);

        Assert.True(verified.Success, verified.Message);
        using (var report = System.Text.Json.JsonDocument.Parse(verified.Data!.Value))
        {
            Assert.True(report.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(0, report.RootElement.GetProperty("ledgerSumMinor").GetInt64());
            Assert.True(report.RootElement.GetProperty("entries").GetInt64() > 0);
        }
        Assert.Equal(System.Net.HttpStatusCode.Conflict, early.StatusCode);
        Assert.Equal("application/problem+json", early.Content.Headers.ContentType?.MediaType);
        Assert.Contains("cannot be closed before", await early.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task BadEvents_AreRefusedWhole_WithTheReason()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var good = Event($"bad-{Guid.NewGuid():N}", "purchase", "paid", new Purchase(0, "808080000000009", 100, DateTimeOffset.UtcNow), 100, DateTimeOffset.UtcNow);
        var bad = good.Clone();
        bad.TransactionId += "-x";
        bad.AmountMinor = -5;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await settlement.RecordAsync(new RecordRequest { Events = { good, bad } }));
        var notClosable = await Assert.ThrowsAsync<RpcException>(async () =>
            await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{DateOnly.FromDateTime(DateTime.UtcNow.AddDays(2)):yyyy-MM-dd}" }));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("amount above zero", refused.Status.Detail);
        Assert.Equal((0, 1), ((await settlement.RecordAsync(new RecordRequest { Events = { good } })).Duplicates, 1));
        Assert.Equal(StatusCode.FailedPrecondition, notClosable.StatusCode);
    }

    internal static LedgerEvent Event(string id, string kind, string status, Purchase purchase, long amount, DateTimeOffset at) => new()
    {
        TransactionId = id,
        Kind = kind,
        Status = status,
        MerchantId = purchase.Merchant,
        OrderId = $"o{purchase.Index}",
        IssuerId = "01020000",
        AmountMinor = amount,
        Currency = "156",
        FeeRatePpm = FeePpm,
        FeeMinimumMinor = FeeMinimum,
        OccurredAtUnixMs = at.ToUnixTimeMilliseconds(),
        PanMasked = "622202******0015",
    };

    /// <summary>Past days, one after another: dates close in order, and each test closes its own.</summary>
    internal static DateOnly NextDay() => new DateOnly(2020, 1, 1).AddDays(3 * Interlocked.Increment(ref _days));

    private static int _days;

    /// <summary>Shanghai is UTC+8 all year; from 23:00 a transaction belongs to the next day.</summary>
    internal static DateOnly DateOf(DateTimeOffset at)
    {
        var local = at.UtcDateTime.AddHours(8);
        return DateOnly.FromDateTime(local).AddDays(local.Hour >= 23 ? 1 : 0);
    }

    private static async Task<long> BalanceAsync(Settlement.SettlementClient settlement, string account)
    {
        try
        {
            return (await settlement.GetBalanceAsync(new GetBalanceRequest { AccountId = account })).BalanceMinor;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return 0;
        }
    }
}
