using Mesh.Settlement.Ledger;

namespace Mesh.Settlement.Tests;

public sealed class PostingRulesTests
{
    [Theory]
    [InlineData(10_000, 6_000, 0, 60)] // 0.6% of 100.00
    [InlineData(10_050, 6_000, 0, 60)] // 60.3 rounds to 60
    [InlineData(10_084, 6_000, 0, 61)] // 60.504 rounds half up to 61
    [InlineData(1_000, 6_000, 100, 100)] // the minimum
    [InlineData(50, 6_000, 100, 50)] // never more than the amount
    [InlineData(999_999_999_999, 100_000, 0, 100_000_000_000)] // 10% of the largest amount, no overflow
    public void Fee_IsTheRateRoundedHalfUp_AtLeastTheMinimum_AtMostTheAmount(long amount, int ppm, long minimum, long fee) =>
        Assert.Equal(fee, PostingRules.Fee(amount, ppm, minimum));

    [Fact]
    public void EveryRule_Balances()
    {
        var purchase = PostingRules.Purchase("808080000000001", "01020000", "156", 12_345, 74);

        Assert.Equal(0, purchase.Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Refund("01020000", "156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Reversal(purchase).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.RefundsCleared("808080000000001", "156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Payout("808080000000001", "156", 12_271).Sum(l => l.AmountMinor));
        Assert.Equal([12_345, -12_271, -74], purchase.Select(l => l.AmountMinor));
    }

    [Theory]
    [InlineData("merchant:808080000000001:payable:156", "merchant_payable")]
    [InlineData("issuer:01020000:receivable:156", "issuer_receivable")]
    [InlineData("platform:fee-income:156", "fee_income")]
    [InlineData("platform:refunds:156", "refunds")]
    [InlineData("platform:cash:156", "cash")]
    [InlineData("platform:suspense:156", "suspense")]
    public void AccountIds_NameTheirKind(string accountId, string kind) => Assert.Equal(kind, PostingRules.KindOf(accountId));
}
