namespace Mesh.Settlement.Ledger;

/// <summary>One line of a journal entry: debits positive, credits negative.</summary>
public readonly record struct Line(string AccountId, long AmountMinor);

/// <summary>
/// How each movement is booked (debits positive):
/// <list type="bullet">
/// <item>a purchase of A with fee F: the issuer owes A, the merchant is owed A − F, the platform earns F;</item>
/// <item>a refund of R: the refunds clearing account takes R from the issuer's receivable; at the day's
/// close it is charged to the merchant;</item>
/// <item>a reversal: the purchase's lines, negated;</item>
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

    public static string KindOf(string accountId) => accountId.Split(':') switch
    {
        ["merchant", _, "payable", _] => "merchant_payable",
        ["issuer", _, "receivable", _] => "issuer_receivable",
        [_, "fee-income", _] => "fee_income",
        [_, "refunds", _] => "refunds",
        [_, "cash", _] => "cash",
        _ => "suspense",
    };

    /// <summary>The merchant's fee for a purchase: the rate (parts per million, half up), at least the minimum, never more than the amount.</summary>
    public static long Fee(long amountMinor, int ratePpm, long minimumMinor) =>
        Math.Min(amountMinor, Math.Max(minimumMinor, (amountMinor * ratePpm + 500_000) / 1_000_000));

    public static Line[] Purchase(string merchantId, string issuerId, string currency, long amountMinor, long feeMinor) =>
    [
        new(IssuerReceivable(issuerId, currency), amountMinor),
        new(MerchantPayable(merchantId, currency), -(amountMinor - feeMinor)),
        new(FeeIncome(currency), -feeMinor),
    ];

    public static Line[] Refund(string issuerId, string currency, long amountMinor) =>
    [
        new(Refunds(currency), amountMinor),
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
