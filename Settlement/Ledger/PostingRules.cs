namespace Mesh.Settlement.Ledger;

/// <summary>One line of a journal entry: debits positive, credits negative.</summary>
public readonly record struct Line(string AccountId, long AmountMinor);

/// <summary>
/// How each movement is booked (debits positive). The gateway's side of a payment and the
/// switch's meet in the interbank clearing account, which nets to zero once both are in:
/// <list type="bullet">
/// <item>a purchase of A with fee F (gateway): clearing A is due from the network, the merchant is owed A − F, the platform earns F;</item>
/// <item>the same purchase cleared by the switch: the issuer owes A, taken out of clearing;</item>
/// <item>a refund of R (gateway): the refunds account takes R from clearing; at the day's close it is charged to the merchant;</item>
/// <item>a refund cleared by the switch (a 0220 the issuer accepted): the issuer's receivable gives R back to clearing;</item>
/// <item>a reversal: the purchase's lines, negated (the switch clears it as a refund advice);</item>
/// <item>a payout of N: the merchant is paid N in cash.</item>
/// </list>
/// </summary>
public static class PostingRules
{
    public static string MerchantPayable(string merchantId, string currency) => $"merchant:{merchantId}:payable:{currency}";

    public static string IssuerReceivable(string issuerId, string currency) => $"issuer:{issuerId}:receivable:{currency}";

    public static string FeeIncome(string currency) => $"platform:fee-income:{currency}";

    public static string Refunds(string currency) => $"platform:refunds:{currency}";

    public static string Cash(string currency) => $"platform:cash:{currency}";

    public static string Suspense(string currency) => $"platform:suspense:{currency}";

    public static string InterbankClearing(string currency) => $"platform:interbank-clearing:{currency}";

    public static string KindOf(string accountId) => accountId.Split(':') switch
    {
        ["merchant", _, "payable", _] => "merchant_payable",
        ["issuer", _, "receivable", _] => "issuer_receivable",
        [_, "fee-income", _] => "fee_income",
        [_, "refunds", _] => "refunds",
        [_, "cash", _] => "cash",
        [_, "interbank-clearing", _] => "interbank_clearing",
        _ => "suspense",
    };

    /// <summary>The merchant's fee for a purchase: the rate (parts per million, half up), at least the minimum, never more than the amount.</summary>
    public static long Fee(long amountMinor, int ratePpm, long minimumMinor) =>
        Math.Min(amountMinor, Math.Max(minimumMinor, (amountMinor * ratePpm + 500_000) / 1_000_000));

    public static Line[] Purchase(string merchantId, string currency, long amountMinor, long feeMinor) =>
    [
        new(InterbankClearing(currency), amountMinor),
        new(MerchantPayable(merchantId, currency), -(amountMinor - feeMinor)),
        new(FeeIncome(currency), -feeMinor),
    ];

    public static Line[] Refund(string currency, long amountMinor) =>
    [
        new(Refunds(currency), amountMinor),
        new(InterbankClearing(currency), -amountMinor),
    ];

    /// <summary>A reversal with no purchase on the books: the money waits in suspense for operators.</summary>
    public static Line[] UnmatchedReversal(string currency, long amountMinor) =>
    [
        new(Suspense(currency), amountMinor),
        new(InterbankClearing(currency), -amountMinor),
    ];

    public static Line[] InterbankPurchase(string issuerId, string currency, long amountMinor) =>
    [
        new(IssuerReceivable(issuerId, currency), amountMinor),
        new(InterbankClearing(currency), -amountMinor),
    ];

    public static Line[] InterbankRefund(string issuerId, string currency, long amountMinor) =>
    [
        new(InterbankClearing(currency), amountMinor),
        new(IssuerReceivable(issuerId, currency), -amountMinor),
    ];

    public static Line[] RefundsCleared(string merchantId, string currency, long amountMinor) =>
    [
        new(MerchantPayable(merchantId, currency), amountMinor),
        new(Refunds(currency), -amountMinor),
    ];

    public static Line[] Reversal(IEnumerable<Line> purchase) => purchase.Select(l => l with { AmountMinor = -l.AmountMinor }).ToArray();

    public static Line[] Payout(string merchantId, string currency, long amountMinor) =>
    [
        new(MerchantPayable(merchantId, currency), amountMinor),
        new(Cash(currency), -amountMinor),
    ];
}
