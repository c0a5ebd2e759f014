using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Tests;

/// <summary>
/// How an order ends unpaid: its pay-by time (the merchant's payTimeout within bounds, else the
/// default), who may pay it when, what a close does in each state, and until when a paid order
/// may be voided.
/// </summary>
public sealed class OrderLifetimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
    private static readonly GatewayOptions Options = new() { PayMinutesDefault = 30, PayMinutesMax = 60 };

    private static Order OrderOf(string status, DateTimeOffset payBy) =>
        new("808080000000001", "o-1", OrderProtocol.V1, 100, "156", "20261126", "0001", null, null, null, null, null, status, 1, 1, null, null, 0, 0,
            Now, Now, null, null, null, null, payBy, 0);

    [Fact]
    public void WithoutPayTimeout_TheDefaultApplies_FromNow()
    {
        Assert.Equal((null, null), OrderLifetime.ReadPayTimeout(null, Now, Options));
        Assert.Equal((null, null), OrderLifetime.ReadPayTimeout("", Now, Options));
        Assert.Equal(Now.AddMinutes(30), OrderLifetime.PayBy(null, Now, Options));
    }

    [Fact]
    public void ThePayTimeoutGiven_IsThePayByTime()
    {
        var (payBy, problem) = OrderLifetime.ReadPayTimeout("20261126080005", Now, Options);

        Assert.Null(problem);
        Assert.Equal(Now.AddSeconds(5), payBy);
        Assert.Equal(Now.AddSeconds(5), OrderLifetime.PayBy(payBy, Now, Options));
    }

    [Theory]
    [InlineData("20261126080000")] // now: not after it
    [InlineData("20261126075959")] // past
    [InlineData("20261126090001")] // more than PayMinutesMax ahead
    [InlineData("2026112608000")] // too short
    [InlineData("202611260800001")] // too long
    [InlineData("20261326080000")] // no 13th month
    [InlineData("2026-11-26T08:")]
    public void APayTimeoutNowInThePastTooFarOrMalformed_IsAProblem(string text)
    {
        var (payBy, problem) = OrderLifetime.ReadPayTimeout(text, Now, Options);

        Assert.Null(payBy);
        Assert.Contains("yyyyMMddHHmmss", problem);
    }

    [Fact]
    public void AnOrderHasEnded_WhenClosed_OrCreatedAndPastItsPayByTime_NotWhileAPaymentDecidesIt()
    {
        Assert.True(OrderLifetime.HasEnded(OrderOf(OrderStatus.Closed, Now.AddMinutes(5)), Now));
        Assert.True(OrderLifetime.HasEnded(OrderOf(OrderStatus.Created, Now), Now));
        Assert.False(OrderLifetime.HasEnded(OrderOf(OrderStatus.Created, Now.AddTicks(1)), Now));
        Assert.False(OrderLifetime.HasEnded(OrderOf(OrderStatus.Pending, Now.AddMinutes(-5)), Now));
        Assert.False(OrderLifetime.HasEnded(OrderOf(OrderStatus.Failed, Now.AddMinutes(-5)), Now));
    }

    [Theory]
    [InlineData(OrderStatus.Created, OrderLifetime.Closing.Closed)]
    [InlineData(OrderStatus.Failed, OrderLifetime.Closing.Closed)]
    [InlineData(OrderStatus.Closed, OrderLifetime.Closing.AlreadyClosed)]
    [InlineData(OrderStatus.Paid, OrderLifetime.Closing.Paid)]
    [InlineData(OrderStatus.Pending, OrderLifetime.Closing.PaymentInFlight)]
    [InlineData(OrderStatus.Voided, OrderLifetime.Closing.Voided)]
    public void WhatACloseDoes_ByTheOrdersState(string status, OrderLifetime.Closing expected)
    {
        Assert.Equal(expected, OrderLifetime.OnClose(status));
        Assert.Equal(expected == OrderLifetime.Closing.Closed, OrderLifetime.Closable.Contains(status));
    }

    [Theory]
    [InlineData("2026-11-26T08:00:00Z", "2026-11-26T15:00:00Z")] // 16:00 in Shanghai: that day's 23:00
    [InlineData("2026-11-26T14:59:59Z", "2026-11-26T15:00:00Z")] // 22:59:59: still that day
    [InlineData("2026-11-26T15:00:00Z", "2026-11-27T15:00:00Z")] // 23:00: the next business day
    [InlineData("2026-11-25T16:30:00Z", "2026-11-26T15:00:00Z")] // 00:30 the next local day
    public void ABusinessDay_EndsAtTheCutoffAfterTheInstant(string instant, string end) =>
        Assert.Equal(DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture),
            BusinessDay.TryFrom(new GatewayOptions())!.EndOf(DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("23:00", "Nowhere/Atlantis")]
    [InlineData("24:00", "Asia/Shanghai")]
    [InlineData("11pm", "Asia/Shanghai")]
    public void ACutoffOrTimeZoneThatCannotBeRead_IsNoBusinessDay(string cutoff, string zone) =>
        Assert.Null(BusinessDay.TryFrom(new GatewayOptions { SettlementCutoffLocalTime = cutoff, SettlementTimeZone = zone }));

    [Fact]
    public void AVoid_TakesOnlyAPaidOrderWithNothingRefunded_BeforeTheCutoffOfTheDayItWasPaid()
    {
        var day = BusinessDay.TryFrom(new GatewayOptions())!;
        var paid = OrderOf(OrderStatus.Paid, Now) with { PaidMinor = 100, PaidAt = Now };
        var cutoff = new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

        Assert.Equal(OrderLifetime.Voiding.Void, OrderLifetime.OnVoid(paid, cutoff.AddTicks(-1), day));
        Assert.Equal(OrderLifetime.Voiding.PastCutoff, OrderLifetime.OnVoid(paid, cutoff, day));
        Assert.Equal(OrderLifetime.Voiding.Refunded, OrderLifetime.OnVoid(paid with { RefundedMinor = 1 }, Now, day));
        Assert.Equal(OrderLifetime.Voiding.AlreadyVoided, OrderLifetime.OnVoid(paid with { Status = OrderStatus.Voided }, cutoff.AddDays(3), day));
        foreach (var status in new[] { OrderStatus.Created, OrderStatus.Pending, OrderStatus.Failed, OrderStatus.Closed })
        {
            Assert.Equal(OrderLifetime.Voiding.NotPaid, OrderLifetime.OnVoid(OrderOf(status, Now), Now, day));
        }
    }
}
