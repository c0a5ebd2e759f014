using System.Security.Cryptography;
using Mesh.Gateway.Merchants;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Gateway.Tests;

/// <summary>The merchant lifecycle's legal moves and what each state refuses; a rotation's overlap on a clock; what a new key breaks.</summary>
public sealed class MerchantLifecycleTests
{
    [Theory]
    [InlineData(MerchantStatus.Active, MerchantMove.Suspend, MerchantStatus.Suspended)]
    [InlineData(MerchantStatus.Suspended, MerchantMove.Reactivate, MerchantStatus.Active)]
    [InlineData(MerchantStatus.Active, MerchantMove.Offboard, MerchantStatus.Offboarding)]
    [InlineData(MerchantStatus.Suspended, MerchantMove.Offboard, MerchantStatus.Offboarding)]
    [InlineData(MerchantStatus.Offboarding, MerchantMove.Reactivate, MerchantStatus.Active)]
    [InlineData(MerchantStatus.Offboarding, MerchantMove.Close, MerchantStatus.Closed)]
    public void Move_Legal_LeadsToItsStatus(MerchantStatus from, MerchantMove move, MerchantStatus to) =>
        Assert.Equal((to, (string?)null), MerchantLifecycle.Move(from, move));

    [Theory]
    [InlineData(MerchantStatus.Suspended, MerchantMove.Suspend, "a suspended merchant cannot be suspended (only an active one is)")]
    [InlineData(MerchantStatus.Active, MerchantMove.Reactivate, "a active merchant cannot be reactivated (only a suspended or offboarding one is)")]
    [InlineData(MerchantStatus.Active, MerchantMove.Close, "a active merchant cannot be closed (only an offboarding one is, once its last batch is paid)")]
    [InlineData(MerchantStatus.Closed, MerchantMove.Reactivate, "a closed merchant cannot be reactivated (only a suspended or offboarding one is)")]
    [InlineData(MerchantStatus.Closed, MerchantMove.Offboard, "a closed merchant cannot be offboarded (only an active or suspended one is)")]
    [InlineData(MerchantStatus.Offboarding, MerchantMove.Suspend, "a offboarding merchant cannot be suspended (only an active one is)")]
    public void Move_Illegal_IsRefusedWithWhy(MerchantStatus from, MerchantMove move, string why) =>
        Assert.Equal((null, why), MerchantLifecycle.Move(from, move));

    [Theory]
    [InlineData(MerchantStatus.Active, null, null, null)]
    [InlineData(MerchantStatus.Suspended, "merchant.suspended", null, null)]
    [InlineData(MerchantStatus.Offboarding, "merchant.offboarding", null, null)]
    [InlineData(MerchantStatus.Closed, "merchant.closed", "merchant.closed", null)]
    public void Refuses_NewBusinessWhileNotActive_FollowUpsUntilClosed_QueriesNever(MerchantStatus status, string? newBusiness, string? followUp, string? query)
    {
        Assert.Equal(newBusiness, MerchantLifecycle.Refuses(status, MerchantCall.NewBusiness));
        Assert.Equal(followUp, MerchantLifecycle.Refuses(status, MerchantCall.FollowUp));
        Assert.Equal(query, MerchantLifecycle.Refuses(status, MerchantCall.Query));
    }

    [Fact]
    public void Verifying_DuringTheOverlap_IsBothKeys_AndFromItsEnd_OnlyTheNewOne()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
        using var current = RSA.Create(2048);
        using var previous = RSA.Create(2048);
        var keys = new MerchantKeys(current.ExportSubjectPublicKeyInfo(), MerchantKey.Rsa, previous.ExportSubjectPublicKeyInfo(), MerchantKey.Rsa,
            clock.GetUtcNow().AddDays(7));
        bool SignedBy(RSA key) => keys.AnyVerifies(clock.GetUtcNow(), (spki, _) => spki.AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()));

        var during = (SignedBy(current), SignedBy(previous));
        clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        var lastSecond = (SignedBy(current), SignedBy(previous));
        clock.Advance(TimeSpan.FromSeconds(1));
        var atTheEnd = (SignedBy(current), SignedBy(previous));

        Assert.Equal((true, true), during);
        Assert.Equal((true, true), lastSecond);
        Assert.Equal((true, false), atTheEnd);
        Assert.Single(keys.Verifying(clock.GetUtcNow()));
    }

    [Fact]
    public void Verifying_WithoutAPreviousKey_IsTheCurrentOne()
    {
        using var current = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keys = new MerchantKeys(current.ExportSubjectPublicKeyInfo(), MerchantKey.EcdsaP256, null, null, null);

        Assert.Equal([MerchantKey.EcdsaP256], keys.Verifying(DateTimeOffset.UnixEpoch).Select(k => k.Algorithm));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(30, true)]
    [InlineData(31, false)]
    [InlineData(-1, false)]
    [InlineData(null, false)]
    public void OverlapRefusal_AllowsZeroToThirtyDays(int? days, bool allowed) =>
        Assert.Equal(allowed, KeyRotation.OverlapRefusal(days) is null);

    [Fact]
    public void Breaks_ANetPayKeyReplacedByOneNetPayCannotUse_SaysWhatBreaks_UnlessConfirmed()
    {
        using var rsa2048 = RSA.Create(2048);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa1024 = RSA.Create(1024);
        var longer = Key(rsa2048);

        var refused = KeyRotation.Breaks(MerchantKey.Rsa, 1024, longer, confirmed: false)?.English();
        var notRsa = KeyRotation.Breaks(MerchantKey.Rsa, 1024, Key(ecdsa), confirmed: false)?.English();

        Assert.NotNull(refused);
        Assert.Contains("NetPay forms need an RSA-1024 key", refused);
        Assert.Contains("/pay/TransGet", refused);
        Assert.Contains("/pay/Refund", refused);
        Assert.Contains("/pay/Query", refused);
        Assert.Contains("an ECDSA P-256 key", notRsa);
        Assert.Null(KeyRotation.Breaks(MerchantKey.Rsa, 1024, longer, confirmed: true));
        Assert.Null(KeyRotation.Breaks(MerchantKey.Rsa, 1024, Key(rsa1024), confirmed: false));
    }

    [Fact]
    public void Breaks_AV1KeyReplacedByANetPayKey_SaysV1Breaks_AndBetweenV1KeysNothingDoes()
    {
        using var rsa1024 = RSA.Create(1024);
        using var rsa2048 = RSA.Create(2048);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Contains("/v1 needs RSA of 2048 bits or more, or ECDSA P-256", KeyRotation.Breaks(MerchantKey.EcdsaP256, 256, Key(rsa1024), confirmed: false)?.English());
        Assert.Null(KeyRotation.Breaks(MerchantKey.EcdsaP256, 256, Key(rsa2048), confirmed: false));
        Assert.Null(KeyRotation.Breaks(MerchantKey.Rsa, 2048, Key(ecdsa), confirmed: false));
    }

    private static MerchantKey Key(AsymmetricAlgorithm key) => MerchantKey.Parse(key.ExportSubjectPublicKeyInfoPem()).Key!;
}
