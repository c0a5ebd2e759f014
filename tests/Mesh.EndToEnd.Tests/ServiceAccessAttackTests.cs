using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The switch, settlement and the banks attacked by a process on the mesh's network: with no
/// credential, a wrong secret, another caller's name, one server's credential replayed at another,
/// and every role calling what it must not. Each call is refused (gRPC <c>Unauthenticated</c> or
/// <c>PermissionDenied</c> with <c>CALLER_NOT_ALLOWED</c>; HTTP 401 or 403 problems) and changes
/// nothing: the BIN routes, the days, the ledger, the banks' fault knobs and links are as they were.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ServiceAccessAttackTests(MeshPlatformFixture platform)
{
    private const string Switch = "switch";
    private const string SettlementServer = "settlement";
    private const string ForgedMerchant = "899999999000000";
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);

    [Fact]
    public async Task TheSwitch_WithoutACredential_RefusesEveryMethod_AndTheRoutesAreUnchanged()
    {
        var routes = await RoutesAsync();
        using var channel = MeshCallerChannels.Open(platform.App.GetEndpoint(Switch, "grpc"), caller: null, secret: null);

        foreach (var (method, call) in SwitchCalls)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => call(new CardSwitch.CardSwitchClient(channel)));
            Assert.True(refused.StatusCode == StatusCode.Unauthenticated, $"{method}: {refused.Status}");
        }
        Assert.Equal(routes, await RoutesAsync());
    }

    [Fact]
    public async Task Settlement_WithoutACredential_RefusesEveryMethod_AndNoDayIsClosed()
    {
        var day = SettlementLedgerTests.NextDay();
        using var channel = MeshCallerChannels.Open(platform.App.GetEndpoint(SettlementServer, "grpc"), caller: null, secret: null);

        foreach (var (method, call) in SettlementCalls(day))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => call(new Settlement.SettlementClient(channel)));
            Assert.True(refused.StatusCode == StatusCode.Unauthenticated, $"{method}: {refused.Status}");
        }
        Assert.Equal(0L, await DayClosedAsync(day));
    }

    [Fact]
    public async Task AWrongSecret_AnotherCallersName_OrACredentialOfAnotherServer_IsUnauthenticated()
    {
        var gatewayAtSwitch = await platform.App.SecretAsync("gateway", Switch);
        var settlementAtSwitch = await platform.App.SecretAsync("settlement", Switch);
        var day = SettlementLedgerTests.NextDay();
        (string Server, string Caller, string Secret)[] forged =
        [
            (Switch, "gateway", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))),
            (Switch, "gateway", gatewayAtSwitch + "0"),
            (Switch, "gateway", ""),
            // The right secret under another caller's name: settlement's secret claiming to be the gateway, and the other way.
            (Switch, "gateway", settlementAtSwitch),
            (Switch, "settlement", gatewayAtSwitch),
            // One server's credential replayed at another: the gateway's switch secret at settlement.
            (SettlementServer, "gateway", gatewayAtSwitch),
            (SettlementServer, "gateway-operator", await platform.App.SecretAsync("gateway-operator", Switch)),
            (SettlementServer, MeshCallers.Dashboard, await platform.App.SecretAsync(MeshCallers.Dashboard, Switch)),
            (SettlementServer, "settlement", settlementAtSwitch),
        ];

        foreach (var (server, caller, secret) in forged)
        {
            using var channel = MeshCallerChannels.Open(platform.App.GetEndpoint(server, "grpc"), caller, secret);
            var refused = await Assert.ThrowsAsync<RpcException>(() => server == Switch
                ? new CardSwitch.CardSwitchClient(channel).ListAuthorizationsAsync(new ListAuthorizationsRequest { FromUnixMs = 1, ToUnixMs = 2 }).ResponseAsync
                : new Settlement.SettlementClient(channel).CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" }).ResponseAsync);
            Assert.True(refused.StatusCode == StatusCode.Unauthenticated, $"{caller} at {server}: {refused.Status}");
        }
        Assert.Equal(0L, await DayClosedAsync(day));
    }

    /// <summary>Server, caller (its own, valid credential there), and a method its role must not call.</summary>
    public static TheoryData<string, string, string> RolesOutOfBounds => new()
    {
        // The gateway's payment path is an acquirer: it authorizes, nothing more.
        { Switch, "gateway", "SetBinRoute" },
        { Switch, "gateway", "DeleteBinRoute" },
        { Switch, "gateway", "OnboardIssuer" },
        { Switch, "gateway", "ListAuthorizations" },
        { Switch, "gateway", "ListBinRoutes" },
        { Switch, "gateway", "ListLinks" },
        // Settlement reads the switch's authorizations, and authorizes nothing.
        { Switch, "settlement", "Authorize" },
        { Switch, "settlement", "GetOutcome" },
        { Switch, "settlement", "SetBinRoute" },
        { Switch, "settlement", "EchoIssuers" },
        { Switch, "settlement", "ListCardProducts" },
        // Operators change routes and onboard banks; they do not authorize or read the clearing.
        { Switch, "gateway-operator", "Authorize" },
        { Switch, "gateway-operator", "ListAuthorizations" },
        { Switch, MeshCallers.Dashboard, "Authorize" },
        { Switch, MeshCallers.Dashboard, "GetOutcome" },
        // The gateway records and reads its merchants' ledger; it closes no day and pays nothing out.
        { SettlementServer, "gateway", "CloseDay" },
        { SettlementServer, "gateway", "RecordPayout" },
        { SettlementServer, "gateway", "Verify" },
        { SettlementServer, "gateway", "Reconcile" },
        { SettlementServer, "gateway", "GetBalance" },
        // Nor does it read the payment files (every merchant's account) or apply the bank's reports.
        { SettlementServer, "gateway", "ListPayoutFiles" },
        { SettlementServer, "gateway", "GetPayoutFile" },
        { SettlementServer, "gateway", "ApplyPaymentStatusReport" },
        { SettlementServer, "gateway", "RetryPayout" },
        // An operator's credential records no payment events.
        { SettlementServer, "gateway-operator", "Record" },
        { SettlementServer, MeshCallers.Dashboard, "Record" },
    };

    [Theory]
    [MemberData(nameof(RolesOutOfBounds))]
    public async Task ACallersRole_DoesNotReachAMethodOutsideIt_PermissionDeniedAndNothingChanges(string server, string caller, string method)
    {
        var routes = await RoutesAsync();
        // What the refused calls would write: the forged merchant's entries, batch 1's payout. Other tests' payments keep reaching the
        // ledger meanwhile, so the whole journal is no measure.
        var written = await ForgeableAsync();
        var day = SettlementLedgerTests.NextDay();
        using var channel = await platform.ChannelAsync(server, caller);

        var refused = await Assert.ThrowsAsync<RpcException>(() => server == Switch
            ? SwitchCalls[method](new CardSwitch.CardSwitchClient(channel))
            : SettlementCalls(day)[method](new Settlement.SettlementClient(channel)));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("CALLER_NOT_ALLOWED", AccessReasonOf(refused));
        Assert.Equal(routes, await RoutesAsync());
        Assert.Equal(0L, await DayClosedAsync(day));
        Assert.Equal(written, await ForgeableAsync());
    }

    [Fact]
    public async Task APurchaseSentWithSettlementsCredential_IsRefused_AndNeverReachesTheBank_TheAcquirersGoesThrough()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), "3012", "123456", 1_23);
        var stan = purchase.GetString(IsoFields.Stan)!;
        using var channel = await platform.ChannelAsync(Switch, "settlement");

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new CardSwitch.CardSwitchClient(channel).AuthorizeAsync(new AuthorizeRequest { Message = ByteString.CopyFrom(Packager.Pack(purchase)) }).ResponseAsync);
        var atTheSwitch = await platform.ScalarAsync<long>("switchdb", "SELECT count(*) FROM authorizations WHERE stan = $1", stan);
        var answer = await acquirer.SendAsync(purchase);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(0L, atTheSwitch);
        Assert.Equal("00", answer.GetString(IsoFields.ResponseCode));
    }

    /// <summary>
    /// A process on the network that reaches a bank's ISO 8583 port: a neatly framed reversal
    /// advice in clear, and the same inside TLS with a certificate of its own naming the switch,
    /// are both refused before a byte is read; the bank's link to the switch carries on.
    /// </summary>
    [Fact]
    public async Task ABanksIsoListener_TakesNoPeerButTheSwitch_AndTheLinkCarriesOn()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var listener = platform.App.GetEndpoint("issuer-icbc", "iso8583");
        var advice = new IsoMessage("0420").Set(IsoFields.Pan, Acquirer.TestCard("622202", 1)).Set(IsoFields.ProcessingCode, "000000")
            .Set(IsoFields.AmountTransaction, "000000000123").Set(IsoFields.Stan, "424242").Set(IsoFields.NetworkManagementCode, "000");

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(listener.Host, listener.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(IsoFraming.Frame(Packager.Pack(advice)));
            var received = new MemoryStream();
            await Record.ExceptionAsync(() => stream.CopyToAsync(received));
            var bytes = received.ToArray();
            // All the bank says in clear is TLS's refusal (an alert record, type 21) before it closes.
            Assert.True(bytes.Length == 0 || bytes[0] == 21, $"the bank answered in clear: {Convert.ToHexString(bytes)}");
        }
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=switch", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("switch");
            request.CertificateExtensions.Add(names.Build());
            using var selfMade = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            var impostor = new IsoLinkTls(
                X509CertificateLoader.LoadPkcs12(selfMade.Export(X509ContentType.Pkcs12), null),
                selfMade, TimeProvider.System);
            var refused = await Record.ExceptionAsync(async () =>
            {
                await using var channel = await IsoClientChannel.ConnectAsync(listener.Host, listener.Port, impostor, "issuer-icbc", Packager, CancellationToken.None);
                await channel.SendRequestAsync(advice, 5_000, CancellationToken.None);
            });
            // The impostor cannot even trust the bank (its certificate is the scheme's, not the impostor's), and the bank refuses it.
            Assert.True(refused is AuthenticationException or IOException, $"expected a refusal, got {refused?.GetType().Name ?? "an answer"}");
        }
        var answer = await acquirer.SendAsync(await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), "3012", "123456", 1_23));

        Assert.Equal("00", answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(0L, await platform.ScalarAsync<long>("issuerdb", "SELECT count(*) FROM bank_01020000.postings WHERE stan = '424242'"));
    }

    [Fact]
    public async Task APayout_IsRefusedToTheGateway_AndRecordedByTheOperatorConsolesCredential()
    {
        var day = SettlementLedgerTests.NextDay();
        var merchant = $"8{RandomNumberGenerator.GetInt32(10_000_000, 99_999_999)}000000";
        var sale = new SettlementLedgerTests.Purchase(0, merchant, 10_000, new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero));
        using var ledger = await platform.SettlementChannelAsync();
        var settlement = new Settlement.SettlementClient(ledger);
        await settlement.RecordAsync(new RecordRequest { Events = { SettlementLedgerTests.Event($"access-{merchant}", "purchase", "paid", sale, 10_000, sale.At) } });
        var batch = (await settlement.CloseDayAsync(new CloseDayRequest { SettlementDate = $"{day:yyyy-MM-dd}" })).Batches.Single(b => b.MerchantId == merchant);
        var payout = new RecordPayoutRequest { BatchId = batch.BatchId, Reference = $"ACCESS-{merchant}" };
        using var gatewayChannel = await platform.ChannelAsync(SettlementServer, "gateway");
        using var operatorChannel = await platform.ChannelAsync(SettlementServer, "gateway-operator");

        var refused = await Assert.ThrowsAsync<RpcException>(() => new Settlement.SettlementClient(gatewayChannel).RecordPayoutAsync(payout).ResponseAsync);
        var statusAfterRefusal = await platform.ScalarAsync<string>("settlementdb", "SELECT fund_status FROM batches WHERE batch_id = $1", batch.BatchId);
        var paid = await new Settlement.SettlementClient(operatorChannel).RecordPayoutAsync(payout);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal("pending", statusAfterRefusal);
        Assert.Equal("paid", paid.FundStatus);
    }

    [Fact]
    public async Task ABanksAdmin_WithoutACredential_Is401_WithSettlementsCredential_403ForTheFaults_AndTheKnobsAreUnchanged()
    {
        using var operatorHttp = await platform.HttpClientAsync("issuer-icbc");
        var before = await operatorHttp.GetFromJsonAsync<JsonElement>("/admin/faults");
        var dropEverything = new { latencyMs = 0, dropAnswers = true, closeConnections = true, systemMalfunction = true };

        using var anonymous = platform.App.CreateHttpClient("issuer-icbc", "http");
        using var noCredential = await anonymous.PutAsJsonAsync("/admin/faults", dropEverything);
        using var noCredentialExport = await anonymous.PostAsync("/admin/zone-keys/export", null);
        using var noCredentialPostings = await anonymous.GetAsync("/admin/postings");
        using var settlementHttp = await platform.HttpClientAsync("issuer-icbc", "settlement");
        using var wrongRole = await settlementHttp.PutAsJsonAsync("/admin/faults", dropEverything);
        using var wrongRoleExport = await settlementHttp.PostAsync("/admin/zone-keys/export", null);
        using var otherBanksCredential = platform.App.CreateHttpClient("issuer-ccb", "http");
        otherBanksCredential.DefaultRequestHeaders.Present("settlement", await platform.App.SecretAsync("settlement", "issuer-icbc"));
        using var replayed = await otherBanksCredential.GetAsync($"/admin/postings?fromUnixMs=1&toUnixMs={DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");

        await AssertProblemAsync(noCredential, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(noCredentialExport, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(noCredentialPostings, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", noCredential.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await AssertProblemAsync(wrongRole, HttpStatusCode.Forbidden);
        await AssertProblemAsync(wrongRoleExport, HttpStatusCode.Forbidden);
        await AssertProblemAsync(replayed, HttpStatusCode.Unauthorized);
        Assert.Equal(before.GetRawText(), (await operatorHttp.GetFromJsonAsync<JsonElement>("/admin/faults")).GetRawText());
    }

    [Fact]
    public async Task ABanksPostings_AnswerSettlementsCredential()
    {
        using var settlementHttp = await platform.HttpClientAsync("issuer-ccb", "settlement");

        using var postings = await settlementHttp.GetAsync($"/admin/postings?fromUnixMs=1&toUnixMs={DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");

        Assert.Equal(HttpStatusCode.OK, postings.StatusCode);
    }

    [Fact]
    public async Task SettlementsAdmin_RefusesTheGatewaysCredential_AndAnonymous_AndNoDayIsClosed()
    {
        var day = SettlementLedgerTests.NextDay();
        using var anonymous = platform.App.CreateHttpClient(SettlementServer, "http");
        using var gatewayHttp = await platform.HttpClientAsync(SettlementServer, "gateway");

        using var noCredential = await anonymous.PostAsync($"/admin/days/{day:yyyy-MM-dd}/close", null);
        using var verifyAnonymous = await anonymous.PostAsync("/admin/ledger/verify", null);
        using var wrongRole = await gatewayHttp.PostAsync($"/admin/days/{day:yyyy-MM-dd}/close", null);

        await AssertProblemAsync(noCredential, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(verifyAnonymous, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(wrongRole, HttpStatusCode.Forbidden);
        Assert.Equal(0L, await DayClosedAsync(day));
    }

    [Fact]
    public async Task TheSwitchsLinks_CannotBeSignedOffByTheAcquirer_OrAnonymously()
    {
        using var anonymous = platform.App.CreateHttpClient(Switch, "http");
        using var acquirerHttp = await platform.HttpClientAsync(Switch, "gateway");
        using var operatorHttp = await platform.HttpClientAsync(Switch);

        using var noCredential = await anonymous.PostAsync("/admin/links/issuer-ccb/sign-off", null);
        using var listed = await anonymous.GetAsync("/admin/links");
        using var wrongRole = await acquirerHttp.PostAsync("/admin/links/issuer-ccb/sign-off", null);
        var links = await operatorHttp.GetFromJsonAsync<JsonElement>("/admin/links");

        await AssertProblemAsync(noCredential, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(listed, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(wrongRole, HttpStatusCode.Forbidden);
        Assert.False(links.EnumerateArray().Single(l => l.GetProperty("issuer").GetString() == "issuer-ccb").GetProperty("signedOffByOperator").GetBoolean());
    }

    [Fact]
    public async Task EveryRefusal_IsLogged_AndCounted()
    {
        using var channel = MeshCallerChannels.Open(platform.App.GetEndpoint(Switch, "grpc"), "mallory", "not-a-secret");
        await Assert.ThrowsAsync<RpcException>(() => new CardSwitch.CardSwitchClient(channel).ListBinRoutesAsync(new ListBinRoutesRequest()).ResponseAsync);
        using var metrics = platform.App.CreateHttpClient(Switch, "http");

        var exported = await metrics.GetStringAsync("/metrics");

        Assert.Contains(exported.Split('\n'), line => line.StartsWith("mesh_access_refusals", StringComparison.Ordinal)
            && line.Contains("reason=\"unauthenticated\"", StringComparison.Ordinal) && line.Contains("caller=\"unknown\"", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => platform.Logs.Any(l => l.Resource == Switch && l.Line.Contains("Refused /mesh.switch.CardSwitch/ListBinRoutes to mallory", StringComparison.Ordinal)),
            "the switch logs the refusal");
    }

    private static readonly Dictionary<string, Func<CardSwitch.CardSwitchClient, Task>> SwitchCalls = new(StringComparer.Ordinal)
    {
        ["Authorize"] = c => c.AuthorizeAsync(new AuthorizeRequest { Message = ByteString.CopyFrom([0x02, 0x00]) }).ResponseAsync,
        ["GetOutcome"] = c => c.GetOutcomeAsync(new OutcomeRequest { AcquirerId = Acquirer.AcquirerId, Stan = "000001", Transmission = "0101000000" }).ResponseAsync,
        ["EchoIssuers"] = c => c.EchoIssuersAsync(new EchoIssuersRequest()).ResponseAsync,
        ["ListAuthorizations"] = c => c.ListAuthorizationsAsync(new ListAuthorizationsRequest { FromUnixMs = 1, ToUnixMs = 2 }).ResponseAsync,
        ["ListLinks"] = c => c.ListLinksAsync(new ListLinksRequest()).ResponseAsync,
        ["ListBinRoutes"] = c => c.ListBinRoutesAsync(new ListBinRoutesRequest()).ResponseAsync,
        ["ListCardProducts"] = c => c.ListCardProductsAsync(new ListCardProductsRequest()).ResponseAsync,
        // What an attacker would want: its own BIN routed, a bank's cards unrouted, a bank onboarded with its keys.
        ["SetBinRoute"] = c => c.SetBinRouteAsync(new BinRoute { Prefix = "999999", Issuer = "issuer-icbc" }).ResponseAsync,
        ["DeleteBinRoute"] = c => c.DeleteBinRouteAsync(new BinRoute { Prefix = "622202", Issuer = "issuer-icbc" }).ResponseAsync,
        ["ChangeZoneKeys"] = c => c.ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = "issuer-icbc" }).ResponseAsync,
        ["OnboardIssuer"] = c => c.OnboardIssuerAsync(new OnboardIssuerRequest
        {
            Issuer = "issuer-boc",
            Bins = { "999998" },
            Zpk = new ZoneKeyUnderZmk { Cryptogram = ByteString.CopyFrom(new byte[16]), CheckValue = "000000" },
            Zak = new ZoneKeyUnderZmk { Cryptogram = ByteString.CopyFrom(new byte[16]), CheckValue = "000000" },
        }).ResponseAsync,
    };

    private static Dictionary<string, Func<Settlement.SettlementClient, Task>> SettlementCalls(DateOnly day)
    {
        var date = $"{day:yyyy-MM-dd}";
        var sale = new SettlementLedgerTests.Purchase(0, ForgedMerchant, 1_00, new DateTimeOffset(day.ToDateTime(new TimeOnly(4, 0)), TimeSpan.Zero));
        return new(StringComparer.Ordinal)
        {
            ["Record"] = c => c.RecordAsync(new RecordRequest { Events = { SettlementLedgerTests.Event($"forged-{Guid.NewGuid():N}", "purchase", "paid", sale, 1_00, sale.At) } }).ResponseAsync,
            ["Diagnostics"] = c => c.DiagnosticsAsync(new SettlementDiagnosticsRequest()).ResponseAsync,
            ["CloseDay"] = c => c.CloseDayAsync(new CloseDayRequest { SettlementDate = date }).ResponseAsync,
            ["ListBatches"] = c => c.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date }).ResponseAsync,
            ["RecordPayout"] = c => c.RecordPayoutAsync(new RecordPayoutRequest { BatchId = 1, Reference = "FORGED" }).ResponseAsync,
            ["Verify"] = c => c.VerifyAsync(new VerifyLedgerRequest()).ResponseAsync,
            ["GetBalance"] = c => c.GetBalanceAsync(new GetBalanceRequest { AccountId = "platform:cash:156" }).ResponseAsync,
            ["ListOrderEntries"] = c => c.ListOrderEntriesAsync(new ListOrderEntriesRequest { MerchantId = sale.Merchant, OrderId = "o0" }).ResponseAsync,
            ["GetReconciliationFile"] = c => c.GetReconciliationFileAsync(new ReconciliationFileRequest { MerchantId = sale.Merchant, SettlementDate = date, Kind = "detail" }).ResponseAsync,
            ["Reconcile"] = c => c.ReconcileAsync(new ReconcileRequest { SettlementDate = date }).ResponseAsync,
            ["ListPayoutFiles"] = c => c.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = date }).ResponseAsync,
            ["GetPayoutFile"] = c => c.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = "MESHPAY-20200101-CNY" }).ResponseAsync,
            ["ApplyPaymentStatusReport"] = c => c.ApplyPaymentStatusReportAsync(new PaymentStatusReportRequest { Content = ByteString.CopyFromUtf8("<Document/>") }).ResponseAsync,
            ["RetryPayout"] = c => c.RetryPayoutAsync(new RetryPayoutRequest { BatchId = 1 }).ResponseAsync,
        };
    }

    private static string? AccessReasonOf(RpcException ex) =>
        ex.GetRpcStatus()?.Details.Select(d => d.TryUnpack<ErrorInfo>(out var info) ? info : null).FirstOrDefault(i => i?.Domain == "access.mesh")?.Reason;

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
    }

    /// <summary>The switch's BIN routing table, as its database holds it.</summary>
    private async Task<string> RoutesAsync() =>
        await platform.ScalarAsync<string>("switchdb", "SELECT coalesce(string_agg(prefix || '>' || issuer, ',' ORDER BY prefix), '') FROM bin_routes");

    /// <summary>The forged merchant's journal entries and batch 1's payout state: what a forged Record, RecordPayout or RetryPayout would change.</summary>
    private async Task<string> ForgeableAsync() =>
        await platform.ScalarAsync<string>("settlementdb",
            "SELECT (SELECT count(*) FROM journal_entries WHERE merchant_id = $1)::text || ' ' || coalesce((SELECT fund_status || '|' || coalesce(payout_reference, '') "
            + "|| '|' || coalesce(fund_reason, '') FROM batches WHERE batch_id = 1), 'no batch 1') || ' ' || (SELECT count(*) FROM journal_entries WHERE kind = 'payout')::text",
            ForgedMerchant);

    private Task<long> DayClosedAsync(DateOnly day) =>
        platform.ScalarAsync<long>("settlementdb", "SELECT count(*) FROM settlement_days WHERE settlement_date = $1", day);
}
