using System.Text;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using Microsoft.Extensions.Time.Testing;
using MacAlgorithm = Mesh.Hsm.Crypto.MacAlgorithm;
using MacPadding = Mesh.Hsm.Crypto.MacPadding;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Tests;

/// <summary>
/// A zone key changed online, both ends in one Hsm as in the platform: the switch's copy of a bank's
/// keys (<c>issuer-boc.zpk</c>, <c>.zak</c>) and the bank's own (<c>issuer-boc.bank.zpk</c>, <c>.zak</c>),
/// the same values under the ZMK they share. The switch generates the next version (A0 mode 1), the bank
/// imports it, both change over; for the grace window PIN blocks and MACs under either key go through,
/// after it the old key is refused.
/// </summary>
public class KeyVersionTests
{
    private const string Pan = "4563510000000014";
    private const string Zmk = "issuer-boc.zmk";
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("0200 4563510000000014 000000 000000012345");
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
    private readonly InMemoryKeyStore _store = new();
    private readonly KeyManagement _keys;
    private readonly PinAndMac _pins;

    public KeyVersionTests()
    {
        _keys = new KeyManagement(_store, _time);
        _pins = new PinAndMac(_keys);
    }

    private static KeyPolicy Owned(params (string Caller, KeyUse[] Uses)[] owners) =>
        KeyPolicy.Of(owners.Select(o => (o.Caller, (IEnumerable<KeyUse>)o.Uses)));

    /// <summary>The bank's zone keys, and the switch's copies of them imported under the ZMK at onboarding.</summary>
    private async Task OnboardAsync()
    {
        await _keys.GenerateAsync(Zmk, KeyType.Zmk, KeyAlgorithm.Aes256, default,
            Owned(("issuer-boc", [KeyUse.Wrap, KeyUse.Unwrap]), ("switch", [KeyUse.Wrap, KeyUse.Unwrap])));
        foreach (var (kind, type, bankUses, switchUses) in new[]
        {
            ("zpk", KeyType.Zpk, new[] { KeyUse.PinDecrypt, KeyUse.PinEncrypt, KeyUse.Export }, new[] { KeyUse.PinEncrypt }),
            ("zak", KeyType.Zak, [KeyUse.MacGenerate, KeyUse.MacVerify, KeyUse.Export], [KeyUse.MacGenerate, KeyUse.MacVerify]),
        })
        {
            await _keys.GenerateAsync($"issuer-boc.bank.{kind}", type, KeyAlgorithm.Tdes2Key, default, Owned(("issuer-boc", bankUses)));
            var (block, kcv) = await _keys.ExportKeyBlockAsync($"issuer-boc.bank.{kind}", Zmk, default);
            await _keys.ImportAsync($"issuer-boc.{kind}", type, KeyAlgorithm.Tdes2Key, Zmk, [], kcv, default, Owned(("switch", switchUses)), block);
        }
    }

    /// <summary>The switch's side of a key change: the next version, sent to the bank, imported there; the new key's check value.</summary>
    private async Task<string> OfferAsync(string kind, KeyType type)
    {
        var (next, block, _) = await _keys.GenerateVersionAsync($"issuer-boc.{kind}", Zmk, asKeyBlock: true, default);
        await _keys.ImportAsync($"issuer-boc.bank.{kind}", type, KeyAlgorithm.Tdes2Key, Zmk, [], next.CheckValue, default, keyBlock: block, nextVersion: true);
        return next.CheckValue;
    }

    private Task<byte[]> MacAsync(string keyId) => _pins.GenerateMacAsync(keyId, Message, MacAlgorithm.Iso9797Alg3, MacPadding.Method1, default);

    private Task VerifyAsync(string keyId, byte[] mac) => _pins.VerifyMacAsync(keyId, Message, MacAlgorithm.Iso9797Alg3, MacPadding.Method1, mac, default);

    [Fact]
    public async Task ZakChange_MacsUnderEitherKeyVerifyAtBothEndsThroughTheWindow_ThenTheOldKeyIsRefused()
    {
        await OnboardAsync();
        var oldFromSwitch = await MacAsync("issuer-boc.zak");
        var oldFromBank = await MacAsync("issuer-boc.bank.zak");
        var policyBefore = (await _store.GetAsync("issuer-boc.bank.zak", default)).Policy;

        var kcv = await OfferAsync("zak", KeyType.Zak);
        // Offered, not yet in use: the bank accepts the new key and still MACs under the old one.
        await _keys.ActivateVersionAsync("issuer-boc.zak", kcv, Grace, default);
        var newFromSwitch = await MacAsync("issuer-boc.zak");
        await VerifyAsync("issuer-boc.bank.zak", newFromSwitch);
        await VerifyAsync("issuer-boc.zak", await MacAsync("issuer-boc.bank.zak"));
        await _keys.ActivateVersionAsync("issuer-boc.bank.zak", kcv, Grace, default);
        var newFromBank = await MacAsync("issuer-boc.bank.zak");
        await VerifyAsync("issuer-boc.zak", newFromBank);
        await VerifyAsync("issuer-boc.zak", oldFromBank);
        await VerifyAsync("issuer-boc.bank.zak", oldFromSwitch);

        _time.Advance(Grace);

        Assert.Equal(newFromSwitch, newFromBank);
        Assert.NotEqual(oldFromSwitch, newFromSwitch);
        Assert.Equal(HsmErrorCode.VerificationFailure, (await Assert.ThrowsAsync<HsmException>(() => VerifyAsync("issuer-boc.zak", oldFromBank))).Code);
        Assert.Equal(HsmErrorCode.VerificationFailure, (await Assert.ThrowsAsync<HsmException>(() => VerifyAsync("issuer-boc.bank.zak", oldFromSwitch))).Code);
        await VerifyAsync("issuer-boc.zak", newFromBank);
        var slot = await _store.GetSlotAsync("issuer-boc.bank.zak", default);
        Assert.Equal(kcv, slot.Current.CheckValue);
        Assert.Null(slot.PreviousAt(_time.GetUtcNow()));
        Assert.True(slot.Current.Policy.SameAs(policyBefore), $"the new key has the old one's owners and uses: {slot.Current.Policy} against {policyBefore}");
    }

    [Fact]
    public async Task ZpkChange_APinBlockUnderTheOldKeyIsReadThroughTheWindow_AndRefusedAfter()
    {
        await OnboardAsync();
        await _keys.GenerateAsync("gateway.zpk", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        var underOld = await _pins.EncryptClearPinAsync("issuer-boc.zpk", "123456", PinFormat.Iso0, Pan, default);

        var kcv = await OfferAsync("zpk", KeyType.Zpk);
        await _keys.ActivateVersionAsync("issuer-boc.zpk", kcv, Grace, default);
        await _keys.ActivateVersionAsync("issuer-boc.bank.zpk", kcv, Grace, default);
        var underNew = await _pins.EncryptClearPinAsync("issuer-boc.zpk", "123456", PinFormat.Iso0, Pan, default);
        var oldRead = await _pins.TranslatePinAsync("issuer-boc.bank.zpk", "gateway.zpk", underOld, PinFormat.Iso0, PinFormat.Iso3, Pan, default);
        var newRead = await _pins.TranslatePinAsync("issuer-boc.bank.zpk", "gateway.zpk", underNew, PinFormat.Iso0, PinFormat.Iso3, Pan, default);
        _time.Advance(Grace);
        var refused = await Assert.ThrowsAsync<HsmException>(() =>
            _pins.TranslatePinAsync("issuer-boc.bank.zpk", "gateway.zpk", underOld, PinFormat.Iso0, PinFormat.Iso3, Pan, default));

        Assert.NotEqual(underOld, underNew);
        Assert.Equal(8, oldRead.Length);
        Assert.Equal(8, newRead.Length);
        Assert.Equal(HsmErrorCode.PinBlockInvalid, refused.Code);
    }

    [Fact]
    public async Task ANextVersionWithTheWrongCheckValue_IsRefused_AndNeitherEndChanges()
    {
        await OnboardAsync();
        var before = await MacAsync("issuer-boc.bank.zak");
        var (next, block, _) = await _keys.GenerateVersionAsync("issuer-boc.zak", Zmk, asKeyBlock: true, default);
        var wrong = next.CheckValue[..^1] + (next.CheckValue[^1] == '0' ? '1' : '0');

        var refused = await Assert.ThrowsAsync<HsmException>(() =>
            _keys.ImportAsync("issuer-boc.bank.zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, Zmk, [], wrong, default, keyBlock: block, nextVersion: true));
        await _keys.DiscardVersionAsync("issuer-boc.zak", next.CheckValue, default);

        Assert.Equal(HsmErrorCode.VerificationFailure, refused.Code);
        Assert.Null((await _store.GetSlotAsync("issuer-boc.bank.zak", default)).Pending);
        Assert.Null((await _store.GetSlotAsync("issuer-boc.zak", default)).Pending);
        Assert.Equal(before, await MacAsync("issuer-boc.zak"));
        Assert.Equal(HsmErrorCode.KeyNotFound, (await Assert.ThrowsAsync<HsmException>(() => _keys.ActivateVersionAsync("issuer-boc.zak", next.CheckValue, Grace, default))).Code);
    }

    [Fact]
    public async Task ADiscardedVersion_IsNotAccepted_AndAnActivationIsBounded()
    {
        await OnboardAsync();
        var (next, _, _) = await _keys.GenerateVersionAsync("issuer-boc.zak", Zmk, asKeyBlock: true, default);
        var pendingAccepted = (await _keys.AcceptedAsync("issuer-boc.zak", KeyType.Zak, default)).Count;

        await _keys.DiscardVersionAsync("issuer-boc.zak", next.CheckValue, default);
        var tooLong = await Assert.ThrowsAsync<HsmException>(() => _keys.ActivateVersionAsync("issuer-boc.zak", next.CheckValue, TimeSpan.FromDays(2), default));

        Assert.Equal(2, pendingAccepted);
        Assert.Single(await _keys.AcceptedAsync("issuer-boc.zak", KeyType.Zak, default));
        Assert.Equal(HsmErrorCode.InvalidInput, tooLong.Code);
    }

    [Fact]
    public async Task OnlyZoneKeysChangeOnline_AndOnlyUnderTheirLinksZmk()
    {
        await OnboardAsync();
        await _keys.GenerateAsync("issuer-boc.pvk", KeyType.Pvk, KeyAlgorithm.Tdes2Key, default);

        var pvk = await Assert.ThrowsAsync<HsmException>(() => _keys.GenerateVersionAsync("issuer-boc.pvk", Zmk, asKeyBlock: true, default));
        var otherLink = Assert.Throws<HsmException>(() => KeyAccess.CheckKeyOfLink("issuer-ccb.zmk", "issuer-boc.zak"));
        var cryptogram = await Assert.ThrowsAsync<HsmException>(() => _keys.GenerateVersionAsync("issuer-boc.zak", Zmk, asKeyBlock: false, default));

        Assert.Equal(HsmErrorCode.InvalidKeyType, pvk.Code);
        Assert.Equal(HsmErrorCode.InvalidInput, otherLink.Code);
        Assert.Equal(HsmErrorCode.InvalidInput, cryptogram.Code);
    }

    [Fact]
    public async Task ABankImportsOnlyTheNextVersionOfItsOwnKey()
    {
        await OnboardAsync();
        var access = new KeyAccess(_store);
        var intoAnothersKey = new ImportKeyRequest { KeyId = "issuer-boc.zak", ZmkId = Zmk, NextVersion = true };

        var refused = await Assert.ThrowsAsync<HsmException>(() => access.CheckAsync("issuer-boc", CallerPolicy.Issuer, intoAnothersKey, default));
        await access.CheckAsync("issuer-boc", CallerPolicy.Issuer, new ImportKeyRequest { KeyId = "issuer-boc.bank.zak", ZmkId = Zmk, NextVersion = true }, default);

        Assert.Equal(HsmErrorCode.KeyNotPermitted, refused.Code);
        Assert.False(CallerPolicy.MayImport(CallerPolicy.Issuer, nextVersion: false));
        Assert.True(CallerPolicy.MayImport(CallerPolicy.Issuer, nextVersion: true));
        Assert.False(CallerPolicy.May(CallerPolicy.Issuer, "GenerateKeyVersion"));
        Assert.False(CallerPolicy.May(CallerPolicy.Gateway, "ActivateKeyVersion"));
    }
}
