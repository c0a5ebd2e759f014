using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using System.Xml.XPath;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Settlement;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Paying merchants by ISO 20022: a closed day's payment instruction file (pain.001) read back by
/// the test's own XPath, the bank's status report (pain.002) paying some transfers and rejecting
/// one, reports that do not match their file refused with nothing changed, a rejected transfer sent
/// again on the next day's file, and the file downloaded from the operator console with the
/// platform's signature, by operators only.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class PayoutTests(MeshPlatformFixture platform)
{
    private const string Pain001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

    [Fact]
    public async Task AClosedDaysPain001_MatchesItsBatchesToTheCent_AndThePain002PaysTwoRejectsOne_TheLedgerBalances()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var date = $"{day:yyyy-MM-dd}";
        var (merchants, accounts) = await RecordDayAsync(settlement, day, [[12_345, 6_789], [100_000], [50_001], [20_000]], withAccount: 3);

        var closed = await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = date });
        var file = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date })).Files.Single();
        var xml = (await settlement.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = file.MsgId })).Content.ToByteArray();
        var batches = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Where(b => merchants.Contains(b.MerchantId)).ToList();

        // Read back with XPath on the ISO namespace, amounts as decimals: the file's totals and each transfer against the ledger's batches.
        var (count, controlSum, transfers) = ReadPain001(xml);
        Assert.False(closed.AlreadyClosed);
        Assert.Equal((transfers.Count, transfers.Sum(t => t.AmountMinor)), (count, controlSum));
        Assert.Equal((file.Transactions, file.ControlSumMinor), (count, controlSum));
        Assert.Equal(controlSum, await platform.ScalarAsync<long>("settlementdb",
            "SELECT sum(b.net_payable_minor)::bigint FROM batches b JOIN payout_transfers t ON t.batch_id = b.batch_id WHERE t.msg_id = $1", file.MsgId));
        foreach (var (merchant, i) in merchants.Take(3).Select((m, i) => (m, i)))
        {
            var batch = batches.Single(b => b.MerchantId == merchant);
            var transfer = transfers.Single(t => t.EndToEndId == batch.Reference);
            Assert.Equal((batch.NetPayableMinor, accounts[i], batch.PayoutReference, "sent"), (transfer.AmountMinor, transfer.Account, transfer.InstrId, batch.FundStatus));
        }
        // A merchant whose settlement account the ledger has not been told is paid by hand: not on the file.
        var unpaid = batches.Single(b => b.MerchantId == merchants[3]);
        Assert.Equal("pending", unpaid.FundStatus);
        Assert.DoesNotContain(transfers, t => t.EndToEndId == unpaid.Reference);

        var mine = merchants.Take(3).Select(m => batches.Single(b => b.MerchantId == m)).ToList();
        var report = Pain002($"RPT-{Guid.NewGuid():N}"[..30], file.MsgId, count, controlSum,
            Tx(mine[0], "ACSC"), Tx(mine[1], "ACSC"), Tx(mine[2], "RJCT", "AC04"));
        var applied = await settlement.ApplyPaymentStatusReportAsync(new PaymentStatusReportRequest { Content = ByteString.CopyFrom(report) });
        var afterReport = await StateAsync(merchants);
        var again = await settlement.ApplyPaymentStatusReportAsync(new PaymentStatusReportRequest { Content = ByteString.CopyFrom(report) });
        var after = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Where(b => merchants.Contains(b.MerchantId)).ToList();

        Assert.Equal((2, 1, false), (applied.Paid, applied.Rejected, applied.AlreadyApplied));
        Assert.True(again.AlreadyApplied);
        Assert.Equal(afterReport, await StateAsync(merchants));
        Assert.Equal([("paid", mine[0].PayoutReference), ("paid", mine[1].PayoutReference), ("rejected", mine[2].PayoutReference)],
            mine.Select(m => after.Single(b => b.BatchId == m.BatchId)).Select(b => (b.FundStatus, b.PayoutReference)).ToList());
        Assert.StartsWith("AC04", after.Single(b => b.BatchId == mine[2].BatchId).FundReason, StringComparison.Ordinal);
        // Each paid transfer is booked as a payout under the transfer's id: the merchant is owed nothing more; the rejected one still is.
        Assert.Equal(mine[0].PayoutReference, await platform.ScalarAsync<string>("settlementdb", "SELECT rrn FROM journal_entries WHERE transaction_id = $1",
            $"payout:{mine[0].BatchId}"));
        Assert.Equal([0L, 0L, -mine[2].NetPayableMinor], [await BalanceAsync(settlement, merchants[0]), await BalanceAsync(settlement, merchants[1]),
            await BalanceAsync(settlement, merchants[2])]);
        var verified = await settlement.VerifyAsync(new VerifyLedgerRequest());
        Assert.True(verified.Ok, string.Join("; ", verified.Problems));
        Assert.Equal(0, verified.LedgerSumMinor);

        // The rejected transfer, sent again: on the next day's file under the same end-to-end id, never payable by hand while the bank has it.
        var retried = await settlement.RetryPayoutAsync(new RetryPayoutRequest { BatchId = mine[2].BatchId });
        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day.AddDays(1):yyyy-MM-dd}" });
        var next = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = $"{day.AddDays(1):yyyy-MM-dd}" })).Files.Single();
        var (_, _, nextTransfers) = ReadPain001((await settlement.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = next.MsgId })).Content.ToByteArray());
        var resent = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Single(b => b.BatchId == mine[2].BatchId);
        var byHand = await Assert.ThrowsAsync<RpcException>(() =>
            settlement.RecordPayoutAsync(new RecordPayoutRequest { BatchId = mine[2].BatchId, Reference = "BY-HAND-1" }).ResponseAsync);

        Assert.Equal("pending", retried.FundStatus);
        Assert.Equal(mine[2].NetPayableMinor, nextTransfers.Single(t => t.EndToEndId == mine[2].Reference).AmountMinor);
        Assert.Equal("sent", resent.FundStatus);
        Assert.StartsWith(next.MsgId, resent.PayoutReference, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, byHand.StatusCode);
    }

    [Fact]
    public async Task MerchantsAtTwoBanks_GetOneFileEach_WithItsOwnTotals_AndAReportIsMatchedToItsOwnFileOnly()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var date = $"{day:yyyy-MM-dd}";
        string[] banks = ["PCBCCNBJXXX", "BKCHCNBJ", "PCBCCNBJXXX"];
        var (merchants, accounts) = await RecordDayAsync(settlement, day, [[10_000, 2_345], [30_001], [777]], withAccount: 3, banks: banks);

        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = date });
        var files = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date })).Files.OrderBy(f => f.CreditorAgentBic).ToList();
        var batches = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Where(b => merchants.Contains(b.MerchantId)).ToList();
        var read = new Dictionary<string, (int Count, long Sum, List<(string InstrId, string EndToEndId, long AmountMinor, string Account)> Transfers, List<string> Agents)>();
        foreach (var file in files)
        {
            var xml = (await settlement.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = file.MsgId })).Content.ToByteArray();
            var (count, sum, transfers) = ReadPain001(xml);
            read[file.CreditorAgentBic] = (count, sum, transfers, CreditorAgents(xml));
        }

        Assert.Equal(["BKCHCNBJ", "PCBCCNBJXXX"], files.Select(f => f.CreditorAgentBic));
        Assert.All(files, f => Assert.EndsWith("-" + f.CreditorAgentBic, f.MsgId, StringComparison.Ordinal));
        foreach (var file in files)
        {
            var (count, sum, transfers, agents) = read[file.CreditorAgentBic];
            var atBank = merchants.Where((_, i) => banks[i] == file.CreditorAgentBic).Select(m => batches.Single(b => b.MerchantId == m)).ToList();
            // Each file's header counts and sums its own transfers, which are exactly the batches of the merchants at its bank.
            Assert.Equal((file.Transactions, file.ControlSumMinor), (count, sum));
            Assert.Equal((transfers.Count, transfers.Sum(t => t.AmountMinor)), (count, sum));
            Assert.Equal(atBank.Select(b => (b.Reference, b.NetPayableMinor)).Order(), transfers.Select(t => (t.EndToEndId, t.AmountMinor)).Order());
            Assert.All(agents, a => Assert.Equal(file.CreditorAgentBic, a));
            Assert.All(transfers, t => Assert.Equal(accounts[Array.IndexOf(merchants, atBank.Single(b => b.Reference == t.EndToEndId).MerchantId)], t.Account));
        }

        var (ccb, boc) = (files[1], files[0]);
        var atBoc = batches.Single(b => b.MerchantId == merchants[1]);
        var atCcb = merchants.Where((_, i) => banks[i] == ccb.CreditorAgentBic).Select(m => batches.Single(b => b.MerchantId == m)).ToList();
        var before = await StateAsync(merchants);
        // A report on the CCB file that names the BOC file's transfer does not match its file: refused whole.
        var crossed = await Assert.ThrowsAsync<RpcException>(() => settlement.ApplyPaymentStatusReportAsync(new PaymentStatusReportRequest
        {
            Content = ByteString.CopyFrom(Pain002($"RPT-{Guid.NewGuid():N}"[..30], ccb.MsgId, ccb.Transactions, ccb.ControlSumMinor, Tx(atBoc, "ACSC"))),
        }).ResponseAsync);
        var unchanged = await StateAsync(merchants);
        var applied = await settlement.ApplyPaymentStatusReportAsync(new PaymentStatusReportRequest
        {
            Content = ByteString.CopyFrom(Pain002($"RPT-{Guid.NewGuid():N}"[..30], ccb.MsgId, ccb.Transactions, ccb.ControlSumMinor,
                [.. atCcb.Select(b => Tx(b, "ACSC"))])),
        });
        var after = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Where(b => merchants.Contains(b.MerchantId)).ToList();
        var listed = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date })).Files;

        Assert.Equal(StatusCode.InvalidArgument, crossed.StatusCode);
        Assert.Equal(before, unchanged);
        Assert.Equal((2, 0), (applied.Paid, applied.Rejected));
        Assert.All(atCcb, b => Assert.Equal("paid", after.Single(a => a.BatchId == b.BatchId).FundStatus));
        Assert.Equal("sent", after.Single(a => a.BatchId == atBoc.BatchId).FundStatus);
        Assert.Equal((2, 0), (listed.Single(f => f.MsgId == ccb.MsgId).Paid, listed.Single(f => f.MsgId == ccb.MsgId).Sent));
        Assert.Equal((0, 1), (listed.Single(f => f.MsgId == boc.MsgId).Paid, listed.Single(f => f.MsgId == boc.MsgId).Sent));
        var verified = await settlement.VerifyAsync(new VerifyLedgerRequest());
        Assert.True(verified.Ok, string.Join("; ", verified.Problems));
    }

    /// <summary>Each transfer's creditor agent (CdtrAgt/FinInstnId/BIC), as an XPath reader sees it.</summary>
    private static List<string> CreditorAgents(byte[] xml)
    {
        var ns = new XmlNamespaceManager(new NameTable());
        ns.AddNamespace("p", Pain001);
        return XDocument.Parse(Encoding.UTF8.GetString(xml)).XPathSelectElements("/p:Document/p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId/p:BIC", ns)
            .Select(e => e.Value).ToList();
    }

    [Fact]
    public async Task AReportThatDoesNotMatchItsFile_OrCarriesAnEntity_IsRefusedWithAProblem_AndChangesNothing()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var date = $"{day:yyyy-MM-dd}";
        var (merchants, _) = await RecordDayAsync(settlement, day, [[30_000], [45_067]], withAccount: 2);
        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = date });
        var file = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date })).Files.Single();
        var (count, sum, _) = ReadPain001((await settlement.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = file.MsgId })).Content.ToByteArray());
        var batches = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Where(b => merchants.Contains(b.MerchantId)).ToList();
        var paid = Pain002($"RPT-{Guid.NewGuid():N}"[..30], file.MsgId, count, sum, Tx(batches[0], "ACSC"));
        using var http = await platform.HttpClientAsync("settlement");
        (await http.PostAsync("/admin/payouts/reports", new ByteArrayContent(paid))).EnsureSuccessStatusCode();
        var before = await StateAsync(merchants);
        // What the entity would have read, had it been resolved: a line of /etc/passwd no answer may contain.
        const string secret = "root:x:0:0:";
        var bad = new (string Why, byte[] Report, HttpStatusCode Expected, string Field)[]
        {
            ("unknown file", Pain002("RPT-X1", "MESHPAY-19990101-CNY", count, sum, Tx(batches[1], "ACSC")), HttpStatusCode.BadRequest, "OrgnlMsgId"),
            ("unknown end-to-end id", Pain002("RPT-X2", file.MsgId, count, sum, Tx(batches[1], "ACSC") + TxRaw("STL-19990101-1", "ACSC")),
                HttpStatusCode.BadRequest, "OrgnlEndToEndId"),
            ("count", Pain002("RPT-X3", file.MsgId, count + 1, sum, Tx(batches[1], "ACSC")), HttpStatusCode.BadRequest, "OrgnlNbOfTxs"),
            ("control sum", Pain002("RPT-X4", file.MsgId, count, sum + 1, Tx(batches[1], "ACSC")), HttpStatusCode.BadRequest, "OrgnlCtrlSum"),
            ("amount", Pain002("RPT-X5", file.MsgId, count, sum, Tx(batches[1], "ACSC", amountMinor: batches[1].NetPayableMinor + 1)),
                HttpStatusCode.BadRequest, "InstdAmt"),
            ("malformed", Encoding.UTF8.GetBytes("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\"><CstmrPmtStsRpt>"),
                HttpStatusCode.BadRequest, "not well-formed"),
            ("external entity", Encoding.UTF8.GetBytes(
                """<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><GrpHdr><MsgId>&x;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>"""),
                HttpStatusCode.BadRequest, "DTD"),
            // The bank said it paid the first transfer; a later report rejecting it contradicts that.
            ("contradiction", Pain002("RPT-X6", file.MsgId, count, sum, Tx(batches[0], "RJCT", "AC04")), HttpStatusCode.Conflict, "TxSts"),
        };
        foreach (var (why, report, expected, field) in bad)
        {
            using var refused = await http.PostAsync("/admin/payouts/reports", new ByteArrayContent(report));
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();

            Assert.True(expected == refused.StatusCode, $"{why}: {(int)refused.StatusCode} {problem}");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, problem.ToString(), StringComparison.Ordinal);
            Assert.Equal(before, await StateAsync(merchants));
        }
        // Over gRPC the refusal names the field in a google.rpc.BadRequest.
        var grpc = await Assert.ThrowsAsync<RpcException>(() => settlement.ApplyPaymentStatusReportAsync(
            new PaymentStatusReportRequest { Content = ByteString.CopyFrom(bad[2].Report) }).ResponseAsync);
        var details = grpc.GetRpcStatus()!.Details.Single().Unpack<Google.Rpc.BadRequest>();
        Assert.Equal((StatusCode.InvalidArgument, "OrgnlNbOfTxs"), (grpc.StatusCode, details.FieldViolations.Single().Field));
        Assert.True((await settlement.VerifyAsync(new VerifyLedgerRequest())).Ok);
    }

    [Fact]
    public async Task AnOperator_DownloadsTheFileSignedByThePlatform_AndAppliesTheReportInTheConsole_AMerchantIsSentAway()
    {
        using var channel = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(channel);
        var day = SettlementLedgerTests.NextDay();
        var date = $"{day:yyyy-MM-dd}";
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var (merchants, _) = await RecordDayAsync(settlement, day, [[88_800]], withAccount: 1, merchant.MerchantId);
        await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = date });
        var file = (await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date })).Files.Single();
        var suffix = RandomNumberGenerator.GetInt32(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        var admin = await ConsoleSession.PlatformOperatorAsync(platform, "payadmin" + suffix, "platform-admin");
        var reader = await ConsoleSession.PlatformOperatorAsync(platform, "payread" + suffix, "platform-operator");
        var merchantAdmin = await MerchantAdminAsync(merchant.MerchantId, "m" + suffix);
        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

        using var sentPage = await SendAsync(http, HttpMethod.Get, "/console/settlement", merchantAdmin);
        var sent = await sentPage.Content.ReadAsStringAsync();
        using var download = await SendAsync(http, HttpMethod.Get, $"/ops/settlement/payouts/{file.MsgId}", reader);
        using var asMerchant = await SendAsync(http, HttpMethod.Get, $"/ops/settlement/payouts/{file.MsgId}", merchantAdmin);
        var content = await download.Content.ReadAsByteArrayAsync();
        using var filesCertificate = X509Certificate2.CreateFromPem(
            await http.GetStringAsync(Mesh.NetPay.Api.PlatformKeys.FilesCertificatePath));
        using var filesKey = filesCertificate.GetECDsaPublicKey()!;
        var signature = Convert.FromBase64String(download.Headers.GetValues("Mesh-File-Signature").Single());
        var (count, sum, transfers) = ReadPain001(content);
        var batch = (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Single(b => b.MerchantId == merchants[0]);
        var report = Encoding.UTF8.GetString(Pain002($"RPT-{Guid.NewGuid():N}"[..30], file.MsgId, count, sum,
            TxRaw(transfers.Single(t => t.EndToEndId == batch.Reference).EndToEndId, "ACSC")));
        using var byReader = await SendAsync(http, HttpMethod.Post, "/ops/settlement/payouts/report", reader, ("report", report), ("date", date));
        using var byAdmin = await SendAsync(http, HttpMethod.Post, "/ops/settlement/payouts/report", admin, ("report", report), ("date", date));
        var page = await byAdmin.Content.ReadAsStringAsync();
        using var paidPage = await SendAsync(http, HttpMethod.Get, "/console/settlement", merchantAdmin);
        var paid = await paidPage.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/xml", download.Content.Headers.ContentType?.MediaType);
        Assert.True(filesKey.VerifyData(content, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(HttpStatusCode.Redirect, asMerchant.StatusCode);
        Assert.EndsWith("/ops/login", asMerchant.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, byReader.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        Assert.Contains("1 paid, 0 rejected", page, StringComparison.Ordinal);
        Assert.Equal("paid", (await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date })).Batches.Single(b => b.MerchantId == merchants[0]).FundStatus);
        // The merchant sees its batch's funds move, with the transfer's reference.
        Assert.Contains($"sent · {batch.PayoutReference}", sent, StringComparison.Ordinal);
        Assert.Contains($"paid · {batch.PayoutReference}", paid, StringComparison.Ordinal);
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM console_audit WHERE action = 'payout-report' AND detail LIKE $1",
            $"%on {file.MsgId}: 1 paid%"));
    }

    /// <summary>
    /// A day of purchases, one merchant per list of amounts (the <paramref name="onboarded"/> ones first, then new ids); the first
    /// <paramref name="withAccount"/> merchants' events carry a settlement account (at the platform's own settlement bank).
    /// </summary>
    private static Task<(string[] Merchants, string[] Accounts)> RecordDayAsync(Settlement.SettlementClient settlement, DateOnly day, long[][] amounts, int withAccount,
        params string[] onboarded) => RecordDayAsync(settlement, day, amounts, withAccount, [], onboarded);

    /// <summary>As above, each merchant's account held at the bank <paramref name="banks"/> names in its place (beyond it, the platform's own).</summary>
    private static async Task<(string[] Merchants, string[] Accounts)> RecordDayAsync(Settlement.SettlementClient settlement, DateOnly day, long[][] amounts, int withAccount,
        string[] banks, params string[] onboarded)
    {
        var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero);
        var merchants = amounts.Select((_, i) => i < onboarded.Length ? onboarded[i]
            : "4" + RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture) + "000000").ToArray();
        var accounts = merchants.Select(m => "6222" + m[1..13]).ToArray();
        var request = new RecordRequest();
        for (var m = 0; m < merchants.Length; m++)
        {
            for (var i = 0; i < amounts[m].Length; i++)
            {
                var purchase = new SettlementLedgerTests.Purchase(i, merchants[m], amounts[m][i], at.AddMinutes(i));
                var e = SettlementLedgerTests.Event($"payout-{merchants[m]}-{i}", "purchase", "paid", purchase, purchase.Amount, purchase.At);
                e.PayoutAccount = m < withAccount ? accounts[m] : "";
                e.PayoutBank = m < banks.Length ? banks[m] : "";
                request.Events.Add(e);
            }
        }
        await settlement.RecordAsync(request);
        return (merchants, accounts);
    }

    private static (int Count, long ControlSumMinor, List<(string InstrId, string EndToEndId, long AmountMinor, string Account)> Transfers) ReadPain001(byte[] xml)
    {
        var document = XDocument.Parse(Encoding.UTF8.GetString(xml));
        var ns = new XmlNamespaceManager(new NameTable());
        ns.AddNamespace("p", Pain001);
        var header = document.XPathSelectElement("/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr", ns)!;
        var transfers = document.XPathSelectElements("/p:Document/p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", ns).Select(t =>
        {
            var amount = t.XPathSelectElement("p:Amt/p:InstdAmt", ns)!;
            Assert.Equal("CNY", amount.Attribute("Ccy")?.Value);
            return (t.XPathSelectElement("p:PmtId/p:InstrId", ns)!.Value, t.XPathSelectElement("p:PmtId/p:EndToEndId", ns)!.Value, Minor(amount.Value),
                t.XPathSelectElement("p:CdtrAcct/p:Id/p:Othr/p:Id", ns)!.Value);
        }).ToList();
        return (int.Parse(header.XPathSelectElement("p:NbOfTxs", ns)!.Value, CultureInfo.InvariantCulture), Minor(header.XPathSelectElement("p:CtrlSum", ns)!.Value),
            transfers);
    }

    /// <summary>An amount in yuan with exactly two decimals, as minor units (decimal arithmetic: no rounding can hide a cent).</summary>
    private static long Minor(string yuan)
    {
        Assert.Matches(@"^\d+\.\d{2}$", yuan);
        return (long)(decimal.Parse(yuan, CultureInfo.InvariantCulture) * 100);
    }

    private static string Tx(Batch batch, string status, string? reason = null, long? amountMinor = null) =>
        TxRaw(batch.Reference, status, reason, amountMinor);

    private static string TxRaw(string endToEndId, string status, string? reason = null, long? amountMinor = null) =>
        $"<TxInfAndSts><OrgnlEndToEndId>{endToEndId}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (reason is null ? "" : $"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>Account closed</AddtlInf></StsRsnInf>")
        + (amountMinor is { } a ? string.Create(CultureInfo.InvariantCulture, $"<OrgnlTxRef><Amt><InstdAmt Ccy=\"CNY\">{a / 100}.{a % 100:D2}</InstdAmt></Amt></OrgnlTxRef>") : "")
        + "</TxInfAndSts>";

    private static byte[] Pain002(string msgId, string original, int count, long sumMinor, params string[] transfers) => Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\"><CstmrPmtStsRpt>"
        + $"<GrpHdr><MsgId>{msgId}</MsgId><CreDtTm>2026-12-05T09:00:00</CreDtTm></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId>"
        + string.Create(CultureInfo.InvariantCulture, $"<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><OrgnlNbOfTxs>{count}</OrgnlNbOfTxs><OrgnlCtrlSum>{sumMinor / 100}.{sumMinor % 100:D2}</OrgnlCtrlSum>")
        + $"</OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>{original}</OrgnlPmtInfId>{string.Concat(transfers)}</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>");

    /// <summary>What a report may change: the merchants' batches (status, reference, reason), their transfers, the payouts booked, the reports kept.</summary>
    private async Task<string> StateAsync(string[] merchants) => await platform.ScalarAsync<string>("settlementdb",
        """
        SELECT concat_ws(' | ',
            (SELECT string_agg(concat_ws(',', batch_id, fund_status, payout_reference, fund_reason, paid_at), ';' ORDER BY batch_id) FROM batches WHERE merchant_id = ANY($1)),
            (SELECT string_agg(concat_ws(',', t.transfer_id, t.status, t.reason), ';' ORDER BY t.transfer_id)
             FROM payout_transfers t JOIN batches b ON b.batch_id = t.batch_id WHERE b.merchant_id = ANY($1)),
            (SELECT count(*) FROM journal_entries WHERE kind = 'payout'),
            (SELECT count(*) FROM payout_reports),
            (SELECT string_agg(balance_minor::text, ',' ORDER BY account_id) FROM accounts WHERE account_id LIKE 'platform:cash:%'))
        """, (object)merchants);

    private static async Task<long> BalanceAsync(Settlement.SettlementClient settlement, string merchant) =>
        (await settlement.GetBalanceAsync(new GetBalanceRequest { AccountId = $"merchant:{merchant}:payable:156" })).BalanceMinor;

    private async Task<ConsoleSession> MerchantAdminAsync(string merchantId, string operatorId)
    {
        const string password = "merchant passphrase long enough";
        using var admin = platform.App.CreateHttpClient("gateway", "http");
        admin.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        (await admin.PostAsJsonAsync($"/admin/merchants/{merchantId}/console-users", new { operatorId, role = "admin", password })).EnsureSuccessStatusCode();
        return await ConsoleSession.SignInAsync(platform, "/console", new() { ["merchantId"] = merchantId, ["operatorId"] = operatorId, ["password"] = password });
    }

    internal static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, ConsoleSession session, params (string Name, string Value)[] form)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", session.Cookie!);
        if (method == HttpMethod.Post)
        {
            request.Content = new FormUrlEncodedContent([new("csrf", session.Csrf!), .. form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]);
        }
        return http.SendAsync(request);
    }
}
