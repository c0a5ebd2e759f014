using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Messages;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Zone keys changed online over the ISO 8583 links (0800/101): the switch's Hsm makes each new key,
/// the bank imports it under the ZMK and answers its check value, both change over while purchases
/// run, the old key is refused once its window ends, a wrong check value changes nothing and raises
/// the alert, and only an operator starts a change.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ZoneKeyChangeTests(MeshPlatformFixture platform, ITestOutputHelper output)
{
    private const string Pin = "123456";
    private const string Expiry = "3012";
    private const int Payers = 3;
    private static readonly TimeSpan LoadAfterChange = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private async Task<(CardSwitch.CardSwitchClient Client, IDisposable Channel)> OperatorAsync()
    {
        var channel = await platform.ChannelAsync("switch", MeshCallers.Dashboard);
        return (new CardSwitch.CardSwitchClient(channel), channel);
    }

    private static async Task<LinkState> LinkAsync(CardSwitch.CardSwitchClient operations, string issuer) =>
        (await operations.ListLinksAsync(new ListLinksRequest())).Links.Single(l => l.Issuer == issuer);

    [Fact]
    public async Task ZpkAndZakChange_WhilePurchasesRun_EveryPurchaseIsApproved_AndTheLinkUsesTheNewKeys()
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var before = await LinkAsync(operations, "issuer-icbc");
        var answers = new List<(string? Code, long StartedMs, long EndedMs)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var payers = Enumerable.Range(0, Payers).Select(async payer =>
        {
            using var acquirer = await platform.NewAcquirerAsync();
            while (!stop.IsCancellationRequested)
            {
                var started = clock.ElapsedMilliseconds;
                var answer = await acquirer.PurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, amountMinor: 100 + payer);
                lock (answers)
                {
                    answers.Add((answer.GetString(IsoFields.ResponseCode), started, clock.ElapsedMilliseconds));
                }
            }
        }).ToList();
        await Eventually.TrueAsync(() => { lock (answers) { return answers.Count >= 10; } }, "ten purchases answered", Deadline);

        var changeStartedMs = clock.ElapsedMilliseconds;
        var change = await operations.ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = "issuer-icbc", GraceSeconds = 30 });
        var changeEndedMs = clock.ElapsedMilliseconds;
        await Task.Delay(LoadAfterChange);
        await stop.CancelAsync();
        await Task.WhenAll(payers);
        var after = await LinkAsync(operations, "issuer-icbc");

        Assert.Equal(["ZPK", "ZAK"], change.Keys.Select(k => k.Key));
        Assert.All(change.Keys, k => Assert.Equal("changed", k.Outcome));
        Assert.Equal((before.ZpkCheckValue, before.ZakCheckValue), (change.Keys[0].PreviousCheckValue, change.Keys[1].PreviousCheckValue));
        Assert.Equal((change.Keys[0].CheckValue, change.Keys[1].CheckValue), (after.ZpkCheckValue, after.ZakCheckValue));
        Assert.NotEqual(before.ZpkCheckValue, after.ZpkCheckValue);
        Assert.NotEqual(before.ZakCheckValue, after.ZakCheckValue);
        Assert.Contains(answers, a => a.StartedMs <= changeEndedMs && a.EndedMs >= changeStartedMs);
        Assert.Contains(answers, a => a.StartedMs > changeEndedMs);
        var codes = answers.GroupBy(a => a.Code).ToDictionary(g => g.Key ?? "none", g => g.Count());
        output.WriteLine($"{answers.Count} purchases, {answers.Count(a => a.StartedMs <= changeEndedMs && a.EndedMs >= changeStartedMs)} in flight during the "
            + $"{changeEndedMs - changeStartedMs} ms change, {answers.Count(a => a.StartedMs > changeEndedMs)} after it: {string.Join(", ", codes.Select(c => $"{c.Key}×{c.Value}"))}");
        Assert.True(codes.Keys.SequenceEqual(["00"]), $"every purchase approved: {string.Join(", ", codes.Select(c => $"{c.Key}×{c.Value}"))}");
        Assert.Equal(2L, await platform.ScalarAsync<long>("switchdb",
            "SELECT count(*) FROM zone_key_changes WHERE issuer = 'issuer-icbc' AND outcome = 'changed' AND offered_check_value IN ($1, $2)",
            after.ZpkCheckValue, after.ZakCheckValue));
    }

    [Fact]
    public async Task TheOldZak_IsAcceptedThroughTheGraceWindow_ThenTheHsmRefusesIt()
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var (hsm, hsmChannel) = await HsmCaller.ConnectAsync(platform, "switch");
        using var __ = hsmChannel;
        var data = ByteString.CopyFrom(Encoding.ASCII.GetBytes("0210 6222020000000015 000000 000000000100 00"));
        var oldMac = (await hsm.GenerateMacAsync(new GenerateMacRequest { KeyId = "issuer-icbc.zak", Data = data })).Mac;
        VerifyMacRequest Verify(ByteString mac) => new() { KeyId = "issuer-icbc.zak", Data = data, Mac = mac };

        var change = await operations.ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = "issuer-icbc", GraceSeconds = 10 });
        await hsm.VerifyMacAsync(Verify(oldMac));
        var during = await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = "issuer-icbc.zak" });
        var refused = await WaitForRefusalAsync(() => hsm.VerifyMacAsync(Verify(oldMac)).ResponseAsync);
        var newMac = (await hsm.GenerateMacAsync(new GenerateMacRequest { KeyId = "issuer-icbc.zak", Data = data })).Mac;
        await hsm.VerifyMacAsync(Verify(newMac));
        var afterWindow = await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = "issuer-icbc.zak" });
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.PurchaseAsync(Acquirer.TestCard("622202", 1), Expiry, Pin, amountMinor: 150);

        Assert.All(change.Keys, k => Assert.Equal("changed", k.Outcome));
        Assert.Equal(change.Keys[1].PreviousCheckValue, during.PreviousCheckValue);
        Assert.Equal(change.Keys[1].CheckValue, during.CheckValue);
        Assert.Equal("01", HsmCaller.ErrorCode(refused));
        Assert.Equal("", afterWindow.PreviousCheckValue);
        Assert.NotEqual(oldMac, newMac);
        Assert.Equal("00", purchase.GetString(IsoFields.ResponseCode));
    }

    [Fact]
    public async Task AWrongCheckValueFromTheBank_ChangesNothing_AndRaisesTheAlert()
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var before = await LinkAsync(operations, "issuer-ccb");
        using var bank = await platform.HttpClientAsync("issuer-ccb");
        await SetWrongCheckValueAsync(bank, true);
        ChangeZoneKeysReply change;
        try
        {
            change = await operations.ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = "issuer-ccb" });
        }
        finally
        {
            await SetWrongCheckValueAsync(bank, false);
        }
        var after = await LinkAsync(operations, "issuer-ccb");
        var (hsm, hsmChannel) = await HsmCaller.ConnectAsync(platform, "operator");
        using var __ = hsmChannel;
        var zak = await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = "issuer-ccb.zak" });
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.PurchaseAsync(Acquirer.TestCard("621700", 1), Expiry, Pin, amountMinor: 160);
        using var metrics = platform.App.CreateHttpClient("switch", "http");
        var exported = (await metrics.GetStringAsync("/metrics")).Split('\n');

        Assert.All(change.Keys, k => Assert.Equal("check_value_mismatch", k.Outcome));
        Assert.All(change.Keys, k => Assert.Equal(k.PreviousCheckValue, k.CheckValue));
        Assert.Equal((before.ZpkCheckValue, before.ZakCheckValue), (after.ZpkCheckValue, after.ZakCheckValue));
        Assert.Equal((before.ZakCheckValue, "", ""), (zak.CheckValue, zak.PendingCheckValue, zak.PreviousCheckValue));
        Assert.Equal("00", purchase.GetString(IsoFields.ResponseCode));
        Assert.Contains(exported, line => line.StartsWith("mesh_switch_zone_key_changes_total{", StringComparison.Ordinal)
            && line.Contains("issuer=\"issuer-ccb\"", StringComparison.Ordinal) && line.Contains("outcome=\"check_value_mismatch\"", StringComparison.Ordinal));
        Assert.Equal(2L, await platform.ScalarAsync<long>("switchdb",
            "SELECT count(*) FROM zone_key_changes WHERE issuer = 'issuer-ccb' AND outcome = 'check_value_mismatch' AND answered_check_value <> offered_check_value"));
        await Eventually.TrueAsync(() => platform.Logs.Any(l => l.Resource == "switch"
            && l.Line.Contains("Zone key change of the ZAK on issuer-ccb failed (check_value_mismatch)", StringComparison.Ordinal)), "the switch logs the failed change", Deadline);
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("settlement")]
    public async Task OnlyAnOperator_StartsAKeyChange(string caller)
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var before = await LinkAsync(operations, "issuer-icbc");
        using var notOperator = await platform.ChannelAsync("switch", caller);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new CardSwitch.CardSwitchClient(notOperator).ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = "issuer-icbc" }).ResponseAsync);
        var after = await LinkAsync(operations, "issuer-icbc");

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal((before.ZpkCheckValue, before.ZakCheckValue), (after.ZpkCheckValue, after.ZakCheckValue));
    }

    [Fact]
    public async Task TheDashboardsCommand_ChangesABanksKeys_AndItsRouteRefusesAnyoneButAnOperator()
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var before = await LinkAsync(operations, "issuer-ccb");
        using var anonymous = platform.App.CreateHttpClient("switch", "http");
        using var acquirerHttp = await platform.HttpClientAsync("switch", "gateway");
        using var noCredential = await anonymous.PostAsync("/admin/links/issuer-ccb/change-zone-keys", null);
        using var wrongRole = await acquirerHttp.PostAsync("/admin/links/issuer-ccb/change-zone-keys", null);
        var unchanged = await LinkAsync(operations, "issuer-ccb");

        var result = await platform.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync("issuer-ccb", "change-zone-keys");
        var after = await LinkAsync(operations, "issuer-ccb");
        using var acquirer = await platform.NewAcquirerAsync();
        var purchase = await acquirer.PurchaseAsync(Acquirer.TestCard("621700", 1), Expiry, Pin, amountMinor: 170);

        Assert.Equal(HttpStatusCode.Unauthorized, noCredential.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
        Assert.Equal((before.ZpkCheckValue, before.ZakCheckValue), (unchanged.ZpkCheckValue, unchanged.ZakCheckValue));
        Assert.True(result.Success, result.Message);
        var keys = JsonDocument.Parse(result.Data!.Value).RootElement.GetProperty("keys");
        Assert.Equal(["changed", "changed"], keys.EnumerateArray().Select(k => k.GetProperty("outcome").GetString()));
        Assert.Equal((keys[0].GetProperty("checkValue").GetString(), keys[1].GetProperty("checkValue").GetString()), (after.ZpkCheckValue, after.ZakCheckValue));
        Assert.NotEqual(before.ZakCheckValue, after.ZakCheckValue);
        Assert.Equal("00", purchase.GetString(IsoFields.ResponseCode));
        Assert.Equal(1L, await platform.ScalarAsync<long>("switchdb",
            "SELECT count(*) FROM zone_key_changes WHERE issuer = 'issuer-ccb' AND key_kind = 'ZAK' AND outcome = 'changed' AND initiated_by = 'dashboard' AND offered_check_value = $1",
            after.ZakCheckValue));
    }

    [Theory]
    [InlineData("issuer-nowhere", 0)]
    [InlineData("issuer-icbc", 1)]
    [InlineData("issuer-icbc", 86_401)]
    public async Task BadInput_IsInvalidArgument_AndChangesNothing(string issuer, int graceSeconds)
    {
        var (operations, channel) = await OperatorAsync();
        using var _ = channel;
        var before = await LinkAsync(operations, "issuer-icbc");

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            operations.ChangeZoneKeysAsync(new ChangeZoneKeysRequest { Issuer = issuer, GraceSeconds = graceSeconds }).ResponseAsync);
        var after = await LinkAsync(operations, "issuer-icbc");

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal((before.ZpkCheckValue, before.ZakCheckValue), (after.ZpkCheckValue, after.ZakCheckValue));
    }

    private static async Task SetWrongCheckValueAsync(HttpClient bank, bool wrong)
    {
        using var response = await bank.PutAsJsonAsync("/admin/faults",
            new { latencyMs = 0, dropAnswers = false, closeConnections = false, systemMalfunction = false, wrongKeyCheckValue = wrong });
        response.EnsureSuccessStatusCode();
    }

    private static async Task<RpcException> WaitForRefusalAsync(Func<Task> call) =>
        (await Eventually.UntilAsync<RpcException?>(async () =>
        {
            try
            {
                await call();
                return null;
            }
            catch (RpcException ex)
            {
                return ex;
            }
        }, refused => refused is not null, "the old key refused after its window", Deadline))!;

}
