using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;

namespace Mesh.Gateway.Tests;

/// <summary>What an issuer's answer does to a payment and its order, without a database.</summary>
public sealed class IssuerAnswerTests
{
    [Theory]
    [InlineData("00", "approved", OrderStatus.Paid)]
    [InlineData("51", "declined", OrderStatus.Failed)]
    [InlineData("55", "declined", OrderStatus.Failed)]
    [InlineData("A0", "declined", OrderStatus.Failed)]
    public void AnAnswer_EndsThePayment(string code, string paymentStatus, string orderStatus)
    {
        var answer = new IssuerAnswer(code, ReversalAcknowledged: false);

        Assert.False(answer.IsUnknown);
        Assert.Equal(paymentStatus, answer.PaymentStatus);
        Assert.Equal(orderStatus, answer.FinalOrderStatus);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("91")]
    [InlineData("96")]
    public void NoOutcome_IsUnknown_UntilTheReversalIsAcknowledged_ThenTheOrderFails(string? code)
    {
        var waiting = new IssuerAnswer(code, ReversalAcknowledged: false);
        var reversed = new IssuerAnswer(code, ReversalAcknowledged: true);

        Assert.True(waiting.IsUnknown);
        Assert.Throws<InvalidOperationException>(() => waiting.PaymentStatus);
        Assert.Throws<InvalidOperationException>(() => waiting.FinalOrderStatus);
        Assert.False(reversed.IsUnknown);
        Assert.Equal("reversed", reversed.PaymentStatus);
        Assert.Equal(OrderStatus.Failed, reversed.FinalOrderStatus);
    }

    [Fact]
    public void AWrongPin_AsksAgain_WhileTriesAreLeft()
    {
        var wrongPin = new IssuerAnswer(IssuerAnswer.WrongPinCode, ReversalAcknowledged: false);

        Assert.True(wrongPin.AsksAgain(wrongPinsCounted: 1, wrongPinsMax: 3));
        Assert.True(wrongPin.AsksAgain(wrongPinsCounted: 2, wrongPinsMax: 3));
        Assert.False(wrongPin.AsksAgain(wrongPinsCounted: 3, wrongPinsMax: 3));
        Assert.False(new IssuerAnswer("51", ReversalAcknowledged: false).AsksAgain(1, 3));
    }

    [Theory]
    [InlineData("1A", true)]
    [InlineData("63", true)]
    [InlineData("N7", false)]
    [InlineData("75", false)]
    [InlineData("51", false)]
    public void ACreditCardsBankAskingForItsCode_LeavesTheOrderWaitingForIt_AnythingElseDoesNot(string code, bool asksForCode)
    {
        var answer = new IssuerAnswer(code, ReversalAcknowledged: false);

        Assert.Equal(asksForCode, answer.AsksForCode);
        Assert.False(answer.IsUnknown);
        Assert.False(answer.IsWrongPin);
    }
}
