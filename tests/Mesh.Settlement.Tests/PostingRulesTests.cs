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
        var purchase = PostingRules.Purchase("808080000000001", "156", 12_345, 74);

        Assert.Equal(0, purchase.Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Refund("156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.UnmatchedReversal("156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.InterbankPurchase("01020000", "156", 12_345).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.InterbankRefund("01020000", "156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Reversal(purchase).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.RefundsCleared("808080000000001", "156", 500).Sum(l => l.AmountMinor));
        Assert.Equal(0, PostingRules.Payout("808080000000001", "156", 12_271).Sum(l => l.AmountMinor));
        Assert.Equal([12_345, -12_271, -74], purchase.Select(l => l.AmountMinor));
    }

    [Fact]
    public void APurchaseAndItsClearing_LeaveTheIssuerOwingItAll_AndTheClearingAccountEmpty()
    {
        var lines = PostingRules.Purchase("808080000000001", "156", 12_345, 74)
            .Concat(PostingRules.InterbankPurchase("01020000", "156", 12_345))
            .Concat(PostingRules.Refund("156", 2_000))
            .Concat(PostingRules.InterbankRefund("01020000", "156", 2_000))
            .GroupBy(l => l.AccountId).ToDictionary(g => g.Key, g => g.Sum(l => l.AmountMinor));

        Assert.Equal(0, lines[PostingRules.InterbankClearing("156")]);
        Assert.Equal(10_345, lines[PostingRules.IssuerReceivable("01020000", "156")]);
        Assert.Equal(-12_271, lines[PostingRules.MerchantPayable("808080000000001", "156")]);
    }

    [Theory]
    [InlineData("0200", "00", 0, "interbank_purchase")]
    [InlineData("0220", "00", 0, "interbank_refund")]
    [InlineData("0221", "00", 0, "interbank_refund")]
    [InlineData("0200", "51", 0, null)] // declined: nothing moved
    [InlineData("0200", "00", 2, null)] // approved, then reversed by the switch: nothing moved
    [InlineData("0100", "00", 0, null)] // a pre-authorization moves no money
    public void TheSwitchsAuthorizations_ClearAsWhatTheyMoved(string mti, string code, int reversal, string? kind)
    {
        var record = new Contracts.Switch.SwitchRecord
        {
            AcquirerId = "08010000",
            Stan = "000123",
            Transmission = "1126101500",
            Mti = mti,
            ResponseCode = code,
            AmountMinor = 5_00,
            IssuerId = "01020000",
            Currency = "156",
            ReceivedAtUnixMs = 1_790_000_000_000,
            Reversal = (Contracts.Switch.ReversalState)reversal,
        };

        var cleared = Clearing.InterbankIntake.Event(record);

        Assert.Equal(kind, cleared?.Kind);
        if (cleared is not null)
        {
            Assert.Equal(("switch:08010000:000123:1126101500", 5_00L, "01020000"), (cleared.TransactionId, cleared.AmountMinor, cleared.IssuerId));
        }
    }

    [Theory]
    [InlineData("merchant:808080000000001:payable:156", "merchant_payable")]
    [InlineData("issuer:01020000:receivable:156", "issuer_receivable")]
    [InlineData("platform:fee-income:156", "fee_income")]
    [InlineData("platform:refunds:156", "refunds")]
    [InlineData("platform:cash:156", "cash")]
    [InlineData("platform:suspense:156", "suspense")]
    [InlineData("platform:interbank-clearing:156", "interbank_clearing")]
    public void AccountIds_NameTheirKind(string accountId, string kind) => Assert.Equal(kind, PostingRules.KindOf(accountId));
}
