using Mesh.Gateway.Orders;
using Mesh.Iso8583.Messages;

namespace Mesh.Gateway.Payments;

/// <summary>
/// What an issuer's answer (ISO 8583 field 39, or none) means for a card payment and its order: the
/// rules of the payment's answer in one plain type, which the stores write and the tests check
/// without a database. No answer, 91 or 96 leave the outcome unknown until the switch's reversal is
/// acknowledged; then the payment is reversed and the order failed. 00 pays the order; 55 (a wrong
/// PIN) asks again while tries are left; 1A and 63 (a credit card's bank asking for its one-time code)
/// leave the order payable with the code; anything else fails it.
/// </summary>
public readonly record struct IssuerAnswer(string? Code, bool ReversalAcknowledged)
{
    /// <summary>The issuer's answer to a wrong PIN.</summary>
    public const string WrongPinCode = "55";

    private bool NoOutcome => Code is null or ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction;

    /// <summary>Nothing is known yet: the order stays pending and the payment is looked up again.</summary>
    public bool IsUnknown => NoOutcome && !ReversalAcknowledged;

    public bool IsWrongPin => Code == WrongPinCode;

    /// <summary>A credit card's bank asks for the one-time code it sent (1A), or for it again after a wrong one (63): not final.</summary>
    public bool AsksForCode => Code is ResponseCodes.AuthenticationRequired or ResponseCodes.WrongOneTimeCode;

    /// <summary>The payment's final status: reversed, approved or declined.</summary>
    public string PaymentStatus =>
        IsUnknown ? throw new InvalidOperationException("an unknown outcome has no final status")
        : NoOutcome ? "reversed"
        : Code == ResponseCodes.Approved ? "approved"
        : "declined";

    /// <summary>The order's final state when this answer ends the payment.</summary>
    public string FinalOrderStatus =>
        IsUnknown ? throw new InvalidOperationException("an unknown outcome does not end the order")
        : Code == ResponseCodes.Approved ? OrderStatus.Paid
        : OrderStatus.Failed;

    /// <summary>Whether the page asks for the PIN again, with <paramref name="wrongPinsCounted"/> counted on the order, this one included.</summary>
    public bool AsksAgain(int wrongPinsCounted, int wrongPinsMax) => IsWrongPin && wrongPinsCounted < wrongPinsMax;
}
