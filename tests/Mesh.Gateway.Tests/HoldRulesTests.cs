using Mesh.Gateway.Holds;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Tests;

/// <summary>
/// A hold's legal moves without a database: captured once for at most the amount held, or released by its merchant, or by the
/// platform only once it has expired; every other move refused with the reason the merchant is told.
/// </summary>
public sealed class HoldRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);

    private static Order HoldOf(string status, long paidMinor = 0, string captureMode = CaptureMode.Hold, DateTimeOffset? expiresAt = null) =>
        new("808080000000001", "h-1", OrderProtocol.V1, 100_00, "156", "20261205", "0001", null, null, null, null, null, status, 2, 1, null, null,
            paidMinor, 0, Now, Now, null, null, null, null, Now.AddMinutes(30), 0, captureMode, expiresAt ?? Now.AddDays(7));

    [Theory]
    [InlineData(1)]
    [InlineData(60_00)]
    [InlineData(100_00)]
    public void AnAuthorizedHold_IsCaptured_ForAnyAmountUpToTheHold(long amountMinor) =>
        Assert.Equal(HoldRules.Refusal.None, HoldRules.OnCapture(HoldOf(OrderStatus.Authorized), amountMinor));

    [Fact]
    public void ACapture_AboveTheHold_IsRefused() =>
        Assert.Equal(HoldRules.Refusal.OverHeld, HoldRules.OnCapture(HoldOf(OrderStatus.Authorized), 100_01));

    [Theory]
    [InlineData(OrderStatus.Capturing, HoldRules.Refusal.CaptureInFlight)]
    [InlineData(OrderStatus.Paid, HoldRules.Refusal.AlreadyCaptured)]
    [InlineData(OrderStatus.Voided, HoldRules.Refusal.AlreadyCaptured)]
    [InlineData(OrderStatus.Released, HoldRules.Refusal.AlreadyReleased)]
    [InlineData(OrderStatus.Expired, HoldRules.Refusal.AlreadyReleased)]
    [InlineData(OrderStatus.Created, HoldRules.Refusal.NotHeld)]
    [InlineData(OrderStatus.Pending, HoldRules.Refusal.NotHeld)]
    [InlineData(OrderStatus.Failed, HoldRules.Refusal.NotHeld)]
    public void AHoldNotStanding_IsNeitherCapturedNorReleased(string status, HoldRules.Refusal refusal)
    {
        Assert.Equal(refusal, HoldRules.OnCapture(HoldOf(status), 1));
        Assert.Equal(refusal, HoldRules.OnRelease(HoldOf(status), HoldReason.Merchant, Now));
    }

    [Fact]
    public void ASale_OrNoOrder_HasNoHold()
    {
        Assert.Equal(HoldRules.Refusal.NotAHold, HoldRules.OnCapture(HoldOf(OrderStatus.Paid, 100_00, CaptureMode.Sale), 1));
        Assert.Equal(HoldRules.Refusal.NotAHold, HoldRules.OnRelease(HoldOf(OrderStatus.Paid, 100_00, CaptureMode.Sale), HoldReason.Merchant, Now));
        Assert.Equal(HoldRules.Refusal.NoSuchOrder, HoldRules.OnCapture(null, 1));
        Assert.Equal(HoldRules.Refusal.NoSuchOrder, HoldRules.OnRelease(null, HoldReason.Expired, Now));
    }

    [Fact]
    public void ThePlatform_ReleasesAHold_OnlyFromItsExpiry_ItsMerchantAtAnyTime()
    {
        var standing = HoldOf(OrderStatus.Authorized, expiresAt: Now.AddSeconds(1));

        Assert.Equal(HoldRules.Refusal.NotExpired, HoldRules.OnRelease(standing, HoldReason.Expired, Now));
        Assert.Equal(HoldRules.Refusal.None, HoldRules.OnRelease(standing, HoldReason.Expired, Now.AddSeconds(1)));
        Assert.Equal(HoldRules.Refusal.None, HoldRules.OnRelease(standing, HoldReason.Merchant, Now));
    }

    [Fact]
    public void AReleaseRepeated_IsTheMerchantsFirst_NotAnExpiry()
    {
        Assert.True(HoldRules.ReleasedByMerchant(HoldOf(OrderStatus.Released)));
        Assert.False(HoldRules.ReleasedByMerchant(HoldOf(OrderStatus.Expired)));
        Assert.False(HoldRules.ReleasedByMerchant(HoldOf(OrderStatus.Released, captureMode: CaptureMode.Sale)));
    }
}
