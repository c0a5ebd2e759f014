using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>Purchases through the running switch and both issuer banks, over real TCP links.</summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class SwitchTests(MeshPlatformFixture platform)
{
    private const string Pin = "123456";
    private const string Expiry = "3012";

    public static TheoryData<string, int, string, string, string> Matrix() => new()
    {
        // bank BIN, test card digit, expiry, PIN, expected field 39
        { "622202", 1, Expiry, Pin, "00" },
        { "622202", 2, Expiry, Pin, "51" },
        { "622202", 3, Expiry, Pin, "41" },
        { "622202", 4, Expiry, Pin, "43" },
        { "622202", 5, "2001", Pin, "54" },
        { "622202", 6, Expiry, Pin, "61" },
        { "622202", 2, Expiry, "654321", "55" },
        { "622202", 9, Expiry, Pin, "14" },
        { "621700", 1, Expiry, Pin, "00" },
        { "621700", 2, Expiry, Pin, "51" },
        { "621700", 3, Expiry, Pin, "41" },
        { "621700", 4, Expiry, Pin, "43" },
        { "621700", 5, "2001", Pin, "54" },
        { "621700", 6, Expiry, Pin, "61" },
        { "999999", 1, Expiry, Pin, "15" },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Purchase_WithTheBanksTestCards_GetsTheAnswerOfEachCard(string bin, int card, string expiry, string pin, string expected)
    {
        using var acquirer = await platform.NewAcquirerAsync();

        var answer = await acquirer.PurchaseAsync(Acquirer.TestCard(bin, card), expiry, pin, amountMinor: 12_345);

        Assert.Equal("0210", answer.Mti);
        Assert.Equal(expected, answer.GetString(IsoFields.ResponseCode));
        Assert.True(await acquirer.MacIsValidAsync(answer), "the switch's answer carries a valid MAC under the acquirer's ZAK");
        Assert.Equal(expected == "00", answer.Has(IsoFields.AuthCode));
    }

    [Fact]
    public async Task ThreeWrongPins_Give55_55_75_AndThenEvenTheRightPinIs75()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var card = Acquirer.TestCard("622202", 7);

        var codes = new List<string?>();
        foreach (var pin in new[] { "111111", "222222", "333333", Pin })
        {
            codes.Add((await acquirer.PurchaseAsync(card, Expiry, pin, 100)).GetString(IsoFields.ResponseCode));
        }

        Assert.Equal(["55", "55", "75", "75"], codes);
    }

    [Fact]
    public async Task DuplicateRequest_GetsTheSameAnswer_AndTheCardIsDebitedOnce()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var request = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 777);

        var first = await acquirer.SendAsync(request);
        var second = await acquirer.SendAsync(request);

        Assert.Equal("00", first.GetString(IsoFields.ResponseCode));
        Assert.Equal(first.GetString(IsoFields.AuthCode), second.GetString(IsoFields.AuthCode));
        Assert.Equal(1L, await IssuerScalarAsync("01020000",
            "SELECT count(*) FROM postings WHERE stan = @stan AND kind = 'debit'", request.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task AnotherMessageUnderAClaimedStan_IsAnswered30_NotGivenTheFirstAnswer_AndNotForwarded()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var first = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 778);
        var approved = await acquirer.SendAsync(first);
        // Another card and amount, sent under the first purchase's STAN and transmission time.
        var other = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 3), Expiry, "999999", 779);
        other.Set(IsoFields.Stan, first.GetString(IsoFields.Stan)!).Set(IsoFields.TransmissionDateTime, first.GetString(IsoFields.TransmissionDateTime)!);

        var answer = await acquirer.SendAsync(await acquirer.SignAsync(other));

        Assert.Equal("00", approved.GetString(IsoFields.ResponseCode));
        Assert.Equal("30", answer.GetString(IsoFields.ResponseCode));
        Assert.Null(answer.GetString(IsoFields.AuthCode));
        Assert.True(await acquirer.MacIsValidAsync(answer));
        Assert.Equal(1L, await IssuerScalarAsync("01020000",
            "SELECT count(*) FROM authorizations WHERE stan = @stan", first.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task WrongMac_IsRefusedWithA0_AndNothingReachesTheIssuer()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var request = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 500);
        request.Set(IsoFields.AmountTransaction, "000000099999"); // changed after the MAC

        var answer = await acquirer.SendAsync(request);

        Assert.Equal("A0", answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(0L, await IssuerScalarAsync("01020000", "SELECT count(*) FROM authorizations WHERE stan = @stan", request.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task PinBlockSwappedForAnotherValidOne_IsRefusedWithA0ByTheSwitch_AndNothingReachesTheIssuer()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var card = Acquirer.TestCard("622202", 1);
        var request = await acquirer.BuildPurchaseAsync(card, Expiry, Pin, 502);
        // A PIN block the acquirer made for the same card, as another message on the link would carry it.
        request.SetBinary(IsoFields.PinBlock, await acquirer.PinBlockAsync("654321", card));

        var answer = await acquirer.SendAsync(request);

        Assert.Equal("A0", answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(0L, await IssuerScalarAsync("01020000", "SELECT count(*) FROM authorizations WHERE stan = @stan", request.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task PinBlockSwappedOnTheBanksLink_FailsTheBanksMacCheck_A0_WhileTheRequestAsTheSwitchMacdItIsApproved()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var (switchHsm, hsmChannel) = await HsmCaller.ConnectAsync(platform, "switch");
        using var _ = hsmChannel;
        var card = Acquirer.TestCard("622202", 1);
        async Task<byte[]> UnderTheBanksZpkAsync(string pin) => (await switchHsm.TranslatePinAsync(new TranslatePinRequest
        {
            SourceZpkId = "gateway.zpk",
            DestinationZpkId = "issuer-icbc.zpk",
            PinBlock = ByteString.CopyFrom(await acquirer.PinBlockAsync(pin, card)),
            SourceFormat = PinBlockFormat.Iso3,
            DestinationFormat = PinBlockFormat.Iso0,
            Pan = card,
        })).PinBlock.ToByteArray();
        // The request as the switch forwards it: its PIN block under the bank's ZPK, MAC'd under the link's ZAK.
        var forward = (await acquirer.BuildPurchaseAsync(card, Expiry, new byte[8], 503, DateTime.UtcNow))
            .SetBinary(IsoFields.PinBlock, await UnderTheBanksZpkAsync(Pin)).Set(IsoFields.ForwardingId, "00010000").Remove(IsoFields.Mac);
        var mac = await switchHsm.GenerateMacAsync(new GenerateMacRequest
        {
            KeyId = "issuer-icbc.zak",
            Data = ByteString.CopyFrom(IsoMac.Input(forward)),
            Algorithm = MacAlgorithm.Iso9797Alg3,
            Padding = MacPadding.Method1,
        });
        forward.SetBinary(IsoFields.Mac, mac.Mac.Span);
        var rightPinBlock = forward.GetBytes(IsoFields.PinBlock)!.Value.ToArray();
        var stan = forward.GetString(IsoFields.Stan)!;
        var link = platform.App.GetEndpoint("issuer-icbc", "iso8583");
        // On the link as the switch itself (its certificate): what TLS cannot tell apart, the MAC must.
        await using var bank = await IsoClientChannel.ConnectAsync(link.Host, link.Port, platform.SwitchIsoLinkTls(), "issuer-icbc",
            new IsoPackager(IsoDialect.UnionPay1987), CancellationToken.None);

        var swapped = await bank.SendRequestAsync(forward.SetBinary(IsoFields.PinBlock, await UnderTheBanksZpkAsync("654321")), 10_000, CancellationToken.None);
        var authorizationsAfterTheSwap = await IssuerScalarAsync("01020000", "SELECT count(*) FROM authorizations WHERE stan = @stan", stan);
        var genuine = await bank.SendRequestAsync(forward.SetBinary(IsoFields.PinBlock, rightPinBlock), 10_000, CancellationToken.None);

        Assert.Equal("A0", swapped.GetString(IsoFields.ResponseCode));
        Assert.Equal(0L, authorizationsAfterTheSwap);
        Assert.Equal("00", genuine.GetString(IsoFields.ResponseCode));
    }

    [Fact]
    public async Task NoAnswerFromTheIssuer_Is91_AndTheReversalIsRepeatedUntilAcknowledged_BalanceRestored()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        using var bank = await platform.HttpClientAsync("issuer-ccb");
        var request = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("621700", 1), Expiry, Pin, 4_200);
        var stan = request.GetString(IsoFields.Stan)!;

        await SetFaultsAsync(bank, dropAnswers: true);
        IsoMessage answer;
        try
        {
            answer = await acquirer.SendAsync(request);
            // The first reversal is dropped too, and repeated once the bank answers again.
            await Eventually.TrueAsync(async () => await SwitchScalarAsync("SELECT coalesce(max(attempts), 0)::bigint FROM reversals WHERE stan = @stan", stan) >= 1,
                "the switch has sent the reversal once while the bank drops answers");
        }
        finally
        {
            await SetFaultsAsync(bank, dropAnswers: false);
        }

        Assert.Equal("91", answer.GetString(IsoFields.ResponseCode));
        await AssertReversedAndTheCardWholeAsync("01050000", stan);
    }

    [Fact]
    public async Task ReversalQueue_SurvivesARestartOfTheSwitch_AndIsAcknowledgedAfterIt()
    {
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        string stan;
        await SetFaultsAsync(bank, dropAnswers: true);
        try
        {
            using var acquirer = await platform.NewAcquirerAsync();
            var request = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 3_100);
            stan = request.GetString(IsoFields.Stan)!;
            Assert.Equal("91", (await acquirer.SendAsync(request)).GetString(IsoFields.ResponseCode));
            Assert.Equal(0L, await SwitchScalarAsync("SELECT count(*) FROM reversals WHERE stan = @stan AND acknowledged_at IS NOT NULL", stan));

            var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
            var model = platform.App.Services.GetRequiredService<DistributedApplicationModel>();
            var result = await commands.ExecuteCommandAsync(model.Resources.Single(r => r.Name == "switch"), KnownResourceCommands.RestartCommand);
            Assert.True(result.Success, result.Message);
        }
        finally
        {
            await SetFaultsAsync(bank, dropAnswers: false);
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("switch", cts.Token);

        Assert.Equal(1L, await SwitchScalarOnceNonZeroAsync("SELECT count(*) FROM reversals WHERE stan = @stan AND acknowledged_at IS NOT NULL", stan));
        Assert.Equal(0L, await IssuerScalarAsync("01020000", NetPostings, stan));
    }

    [Fact]
    public async Task Links_AreSignedOn_AndTheRoutingTableHasTheBanksBins()
    {
        using var channel = await platform.ChannelAsync("switch", MeshCallers.Dashboard);
        var operations = new CardSwitch.CardSwitchClient(channel);

        var links = await operations.ListLinksAsync(new ListLinksRequest());
        var routes = await operations.ListBinRoutesAsync(new ListBinRoutesRequest());

        Assert.All(links.Links, l => Assert.True(l.SignedOn, $"{l.Issuer} is not signed on"));
        Assert.Contains(routes.Routes, r => r.Prefix == "622202" && r.Issuer == "issuer-icbc");
        Assert.Contains(routes.Routes, r => r.Prefix == "436742" && r.Issuer == "issuer-ccb");
    }

    [Fact]
    public async Task Journal_HoldsNoPanInClear()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var pan = Acquirer.TestCard("622202", 1);
        await acquirer.PurchaseAsync(pan, Expiry, Pin, 100);

        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("switchdb"));
        await db.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT count(*) FROM message_journal WHERE pan_masked = @masked", db);
        query.Parameters.AddWithValue("masked", Pan.Mask(pan));
        Assert.True((long)(await query.ExecuteScalarAsync())! > 0);
        await using var leak = new NpgsqlCommand(
            "SELECT count(*) FROM message_journal m WHERE m::text LIKE '%' || @pan || '%'", db);
        leak.Parameters.AddWithValue("pan", pan);
        Assert.Equal(0L, (long)(await leak.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Cvv2_IsCheckedByTheBank_TheCardsOwnIsApproved_AnotherIsN7()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        var cards = await bank.GetFromJsonAsync<List<PublishedCard>>("/admin/test-cards");
        var card = cards!.Single(c => c.Outcome == "Approved" && c.Pin.Length > 0);
        var other = card.Cvv2 == "000" ? "001" : "000";

        var codes = new List<string?>();
        foreach (var cvv2 in new[] { card.Cvv2, other })
        {
            var request = await acquirer.BuildPurchaseAsync(card.Pan, card.Expiry, card.Pin, 100);
            request.Set(IsoFields.AdditionalData, AdditionalData.Build((AdditionalData.Cvv2, cvv2)));
            codes.Add((await acquirer.SendAsync(await acquirer.SignAsync(request))).GetString(IsoFields.ResponseCode));
        }

        Assert.Equal(["00", "N7"], codes);
        Assert.Matches("^[0-9]{3}$", card.Cvv2);
    }

    private sealed record PublishedCard(string Pan, string Expiry, string Pin, string Cvv2, string Outcome);

    [Fact]
    public async Task ConcurrentPurchasesOnOneCard_SpendExactlyItsBalance_NeverMore()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var card = Acquirer.TestCard("621700", 2); // balance 10.00
        var pinBlock = await acquirer.PinBlockAsync(Pin, card);
        var requests = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => acquirer.BuildPurchaseAsync(card, Expiry, pinBlock, 100, DateTime.UtcNow)));

        var answers = await Task.WhenAll(requests.Select(acquirer.SendAsync));

        Assert.Equal(10, answers.Count(a => a.GetString(IsoFields.ResponseCode) == "00"));
        Assert.Equal(10, answers.Count(a => a.GetString(IsoFields.ResponseCode) == "51"));
        Assert.Equal(-1_000L, await IssuerScalarAsync("01050000",
            "SELECT coalesce(sum(balance_delta_minor), 0) FROM postings WHERE stan = ANY(string_to_array(@stan, ','))",
            string.Join(",", requests.Select(r => r.GetString(IsoFields.Stan)))));
    }

    [Fact]
    public async Task PreAuthorization_HoldsTheAmount_AndItsCompletionReleasesItAndDebitsTheFinalAmount_Once()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var preAuthorization = await acquirer.BuildPreAuthorizationAsync(Acquirer.TestCard("621700", 1), Expiry, Pin, 10_000);

        var held = await acquirer.SendAsync(preAuthorization);
        var completion = await acquirer.BuildCompletionAsync(preAuthorization, held, 8_000);
        var completed = await acquirer.SendAsync(completion);
        var again = await acquirer.SendAsync(await acquirer.BuildCompletionAsync(preAuthorization, held, 8_000));

        Assert.Equal(("0110", "00"), (held.Mti, held.GetString(IsoFields.ResponseCode)));
        Assert.Equal(("0210", "00"), (completed.Mti, completed.GetString(IsoFields.ResponseCode)));
        Assert.Equal("12", again.GetString(IsoFields.ResponseCode));
        Assert.Equal(10_000L, await IssuerScalarAsync("01050000", "SELECT sum(held_delta_minor) FROM postings WHERE stan = @stan", preAuthorization.GetString(IsoFields.Stan)!));
        Assert.Equal(-10_000L, await IssuerScalarAsync("01050000", "SELECT sum(held_delta_minor) FROM postings WHERE stan = @stan", completion.GetString(IsoFields.Stan)!));
        Assert.Equal(-8_000L, await IssuerScalarAsync("01050000", "SELECT sum(balance_delta_minor) FROM postings WHERE stan = @stan", completion.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task CompletionForMoreThanThePreAuthorization_Is13_AndNothingMoves()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var preAuthorization = await acquirer.BuildPreAuthorizationAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 1_000);
        var held = await acquirer.SendAsync(preAuthorization);

        var completion = await acquirer.BuildCompletionAsync(preAuthorization, held, 1_001);
        var answer = await acquirer.SendAsync(completion);

        Assert.Equal("13", answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(0L, await IssuerScalarAsync("01020000", "SELECT count(*) FROM postings WHERE stan = @stan", completion.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task Refunds_CreditThePurchase_InParts_NeverMoreThanWasPaid()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 5_000);
        Assert.Equal("00", (await acquirer.SendAsync(purchase)).GetString(IsoFields.ResponseCode));

        var codes = new List<string?>();
        foreach (var amount in new long[] { 3_000, 2_500, 2_000 })
        {
            var refund = await acquirer.SendAsync(await acquirer.BuildRefundAsync(purchase, amount));
            Assert.Equal("0230", refund.Mti);
            Assert.True(await acquirer.MacIsValidAsync(refund));
            codes.Add(refund.GetString(IsoFields.ResponseCode));
        }

        Assert.Equal(["00", "13", "00"], codes);
        Assert.Equal(5_000L, await IssuerScalarAsync("01020000",
            "SELECT refunded_minor FROM authorizations WHERE stan = @stan AND kind = 'purchase'", purchase.GetString(IsoFields.Stan)!));
    }

    [Fact]
    public async Task RefundWhoseAnswerIsLost_IsAcceptedForDelivery_AndRepeatedUntilTheIssuerHasIt()
    {
        using var acquirer = await platform.NewAcquirerAsync();
        using var bank = await platform.HttpClientAsync("issuer-ccb");
        var purchase = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("621700", 1), Expiry, Pin, 6_000);
        Assert.Equal("00", (await acquirer.SendAsync(purchase)).GetString(IsoFields.ResponseCode));
        var refund = await acquirer.BuildRefundAsync(purchase, 6_000);

        await SetFaultsAsync(bank, dropAnswers: true);
        IsoMessage answer;
        try
        {
            answer = await acquirer.SendAsync(refund);
        }
        finally
        {
            await SetFaultsAsync(bank, dropAnswers: false);
        }

        Assert.Equal(("0230", "00"), (answer.Mti, answer.GetString(IsoFields.ResponseCode)));
        var stan = refund.GetString(IsoFields.Stan)!;
        Assert.Equal(1L, await SwitchScalarOnceNonZeroAsync("SELECT count(*) FROM reversals WHERE stan = @stan AND advice_mti = '0220' AND response_code = '00'", stan));
        Assert.Equal(6_000L, await IssuerScalarAsync("01050000", "SELECT sum(balance_delta_minor) FROM postings WHERE stan = @stan AND kind = 'credit'", stan));
    }

    /// <summary>What a message did to the card's money: balance and held amount together, net of any reversal.</summary>
    private const string NetPostings = "SELECT coalesce(sum(balance_delta_minor + held_delta_minor), 0) FROM postings WHERE stan = @stan";

    [Fact]
    public async Task SwitchKilledWithThePurchaseAtTheIssuer_ReversesItAfterTheRestart_AndTheCardIsWhole()
    {
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        using var acquirer = await platform.NewAcquirerAsync();
        var request = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 2_700);
        var stan = request.GetString(IsoFields.Stan)!;
        await KillTheSwitchWithTheRequestAtTheBankAsync(bank, acquirer, request);
        await StartTheSwitchAgainAsync();

        await AssertReversedAndTheCardWholeAsync("01020000", stan);
    }

    /// <summary>
    /// Found by the crash campaign: a refund at the bank when the switch was killed was swept after
    /// the restart, but a repeat of it got an unsigned 94 for ever, so the gateway sent it again and
    /// again. The repeat now gets the sweep's answer, signed: 00, accepted for delivery, and the
    /// switch's queue gets the refund to the bank once.
    /// </summary>
    [Fact]
    public async Task SwitchKilledWithARefundAtTheIssuer_ARepeatAfterTheRestartIsAccepted_AndTheBankCreditsItOnce()
    {
        using var bank = await platform.HttpClientAsync("issuer-icbc");
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.BuildPurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, 3_300);
        Assert.Equal("00", (await acquirer.SendAsync(purchase)).GetString(IsoFields.ResponseCode));
        var refund = await acquirer.BuildRefundAsync(purchase, 3_300);
        var stan = refund.GetString(IsoFields.Stan)!;
        await KillTheSwitchWithTheRequestAtTheBankAsync(bank, acquirer, refund);
        await StartTheSwitchAgainAsync();
        Assert.Equal(1L, await SwitchScalarOnceNonZeroAsync("SELECT count(*) FROM authorizations WHERE stan = @stan AND answered_at IS NOT NULL", stan));

        var repeated = await acquirer.SendAsync(refund);

        Assert.Equal(("0230", "00"), (repeated.Mti, repeated.GetString(IsoFields.ResponseCode)));
        Assert.True(await acquirer.MacIsValidAsync(repeated));
        Assert.Equal(1L, await SwitchScalarOnceNonZeroAsync("SELECT count(*) FROM reversals WHERE stan = @stan AND advice_mti = '0220' AND acknowledged_at IS NOT NULL", stan));
        Assert.Equal(3_300L, await IssuerScalarAsync("01020000", "SELECT coalesce(sum(balance_delta_minor), 0) FROM postings WHERE stan = @stan", stan));
    }

    /// <summary>The switch's reversal of the request was acknowledged, the bank marked it reversed, and what it did to the card's money is undone.</summary>
    private async Task AssertReversedAndTheCardWholeAsync(string bankId, string stan)
    {
        Assert.Equal(1L, await SwitchScalarOnceNonZeroAsync("SELECT count(*) FROM reversals WHERE stan = @stan AND acknowledged_at IS NOT NULL", stan));
        Assert.Equal(0L, await IssuerScalarAsync(bankId, NetPostings, stan));
        Assert.Equal(1L, await IssuerScalarAsync(bankId, "SELECT count(*) FROM authorizations WHERE stan = @stan AND reversed_at IS NOT NULL", stan));
    }

    /// <summary>Sends the request with the bank answering 4 s late, and kills the switch (SIGKILL) once it has claimed the request and sent it on.</summary>
    private async Task KillTheSwitchWithTheRequestAtTheBankAsync(HttpClient bank, Acquirer acquirer, IsoMessage request)
    {
        var stan = request.GetString(IsoFields.Stan)!;
        await SetFaultsAsync(bank, dropAnswers: false, latencyMs: 4_000);
        try
        {
            var inFlight = acquirer.SendAsync(request);
            await Eventually.TrueAsync(async () => await SwitchScalarAsync("SELECT count(*) FROM authorizations WHERE stan = @stan", stan) == 1
                && (await bank.GetFromJsonAsync<JsonElement>("/admin/faults")).GetProperty("heldNow").GetInt32() > 0,
                "the switch has claimed the request and the bank is holding it");
            Assert.True(platform.App.ResourceNotifications.TryGetCurrentState("switch", out var state));
            var pid = Convert.ToInt32(state.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);
            System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => inFlight);
        }
        finally
        {
            await SetFaultsAsync(bank, dropAnswers: false);
        }
    }

    private async Task StartTheSwitchAgainAsync()
    {
        var commands = platform.App.Services.GetRequiredService<ResourceCommandService>();
        var model = platform.App.Services.GetRequiredService<DistributedApplicationModel>();
        var started = await commands.ExecuteCommandAsync(model.Resources.Single(r => r.Name == "switch"), KnownResourceCommands.StartCommand);
        Assert.True(started.Success, started.Message);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await platform.App.ResourceNotifications.WaitForResourceHealthyAsync("switch", cts.Token);
        }
        catch (Exception ex) when (ex is DistributedApplicationException or OperationCanceledException)
        {
            Assert.Fail($"the switch did not come back ({ex.Message}); it said:\n"
                + string.Join('\n', platform.Logs.Where(l => l.Resource == "switch").TakeLast(30).Select(l => l.Line)));
        }
    }

    private static async Task SetFaultsAsync(HttpClient bank, bool dropAnswers, int latencyMs = 0)
    {
        using var response = await bank.PutAsJsonAsync("/admin/faults", new { latencyMs, dropAnswers, closeConnections = false, systemMalfunction = false });
        response.EnsureSuccessStatusCode();
    }

    private async Task<long> IssuerScalarAsync(string bankId, string sql, string stan)
    {
        var connection = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("issuerdb")) { SearchPath = $"bank_{bankId}" };
        await using var db = new NpgsqlConnection(connection.ConnectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        command.Parameters.AddWithValue("stan", stan);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The switch's queue works in the background: the value once it is not zero, or after a minute.</summary>
    private async Task<long> SwitchScalarOnceNonZeroAsync(string sql, string stan)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long value;
        while ((value = await SwitchScalarAsync(sql, stan)) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        return value;
    }

    private async Task<long> SwitchScalarAsync(string sql, string stan)
    {
        await using var db = new NpgsqlConnection(await platform.App.GetConnectionStringAsync("switchdb"));
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        command.Parameters.AddWithValue("stan", stan);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
