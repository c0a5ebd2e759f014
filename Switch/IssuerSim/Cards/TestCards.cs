using System.Globalization;
using Mesh.Iso8583.Messages;

namespace Mesh.IssuerSim.Cards;

/// <summary>What a test card is for: the answer a purchase with it gets.</summary>
public enum TestCardOutcome
{
    Approved,
    InsufficientFunds,
    Lost,
    Stolen,
    Expired,
    OverDailyLimit,
    /// <summary>For PIN tries: three wrong PINs and it answers 75, even to the right one.</summary>
    PinTries,
    /// <summary>A credit card whose purchases ask the cardholder for a one-time code (answered 1A first).</summary>
    OneTimeCode,
}

/// <summary>What a card is: a debit card pays with its PIN, a credit card with its expiry and CVV2 (and, if its bank asks, a one-time code).</summary>
public enum CardProduct
{
    Debit,
    Credit,
}

public sealed record TestCard(string Pan, string Expiry, string Pin, string Status, long BalanceMinor, long DailyLimitMinor, TestCardOutcome Outcome,
    CardProduct Product = CardProduct.Debit, bool OtpRequired = false);

/// <summary>
/// The bank's published test cards, one per outcome, numbered from its first BIN: BIN, eight
/// zeros, the outcome digit, the Luhn check digit. Every debit test card's PIN is 123456; the credit
/// cards, numbered the same way from the bank's credit BIN, have no PIN.
/// </summary>
public static class TestCards
{
    public const string Pin = "123456";

    public static IReadOnlyList<TestCard> For(string bin) =>
    [
        Card(bin, 1, "3012", "active", 100_000_000, 5_000_000, TestCardOutcome.Approved),
        Card(bin, 2, "3012", "active", 1_000, 5_000_000, TestCardOutcome.InsufficientFunds),
        Card(bin, 3, "3012", "lost", 100_000_000, 5_000_000, TestCardOutcome.Lost),
        Card(bin, 4, "3012", "stolen", 100_000_000, 5_000_000, TestCardOutcome.Stolen),
        Card(bin, 5, "2001", "active", 100_000_000, 5_000_000, TestCardOutcome.Expired),
        Card(bin, 6, "3012", "active", 100_000_000, 10_000, TestCardOutcome.OverDailyLimit),
        Card(bin, 7, "3012", "active", 100_000_000, 5_000_000, TestCardOutcome.PinTries),
    ];

    /// <summary>The bank's credit test cards, from its credit BIN: paid with expiry and CVV2; card 2 also asks for a one-time code.</summary>
    public static IReadOnlyList<TestCard> ForCredit(string bin) =>
    [
        Card(bin, 1, "3012", "active", 100_000_000, 5_000_000, TestCardOutcome.Approved) with { Pin = "", Product = CardProduct.Credit },
        Card(bin, 2, "3012", "active", 100_000_000, 5_000_000, TestCardOutcome.OneTimeCode) with { Pin = "", Product = CardProduct.Credit, OtpRequired = true },
        Card(bin, 3, "3012", "active", 1_000, 5_000_000, TestCardOutcome.InsufficientFunds) with { Pin = "", Product = CardProduct.Credit },
        Card(bin, 5, "2001", "active", 100_000_000, 5_000_000, TestCardOutcome.Expired) with { Pin = "", Product = CardProduct.Credit },
    ];

    /// <summary>Credit cards for load tests: the credit BIN, a serial from 1000, Luhn digit; approvable without a one-time code.</summary>
    public static IEnumerable<TestCard> ForCreditLoad(string bin, int count) =>
        ForLoad(bin, count).Select(card => card with { Pin = "", Product = CardProduct.Credit });

    /// <summary>Cards for load tests (<c>Bank:LoadTestCards</c>): BIN, a serial from 1000, Luhn digit; approvable, own account each.</summary>
    public static IEnumerable<TestCard> ForLoad(string bin, int count) =>
        Enumerable.Range(1000, count).Select(serial =>
        {
            var body = bin + serial.ToString(CultureInfo.InvariantCulture).PadLeft(15 - bin.Length, '0');
            return new TestCard(body + Pan.LuhnCheckDigit(body), "3012", Pin, "active", 100_000_000, 100_000_000, TestCardOutcome.Approved);
        });

    private static TestCard Card(string bin, int digit, string expiry, string status, long balance, long limit, TestCardOutcome outcome)
    {
        var body = bin + new string('0', 15 - bin.Length - 1) + digit.ToString(CultureInfo.InvariantCulture);
        return new TestCard(body + Pan.LuhnCheckDigit(body), expiry, Pin, status, balance, limit, outcome);
    }
}
