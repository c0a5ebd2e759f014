using System.Globalization;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Risk;

/// <summary>A refusal at order creation: the rule's code and the merchant's words.</summary>
public sealed record RiskRefusal(string Code, string Detail)
{
    /// <summary>
    /// The per-payment limit, which an order's amount alone decides: refused at creation (recorded for the operators;
    /// no order is written), so the consumer never reaches a page that cannot be paid. Null when the order is within it.
    /// </summary>
    public static async Task<RiskRefusal?> AtCreationAsync(OrderRequest request, RiskStore risk, CancellationToken ct)
    {
        var limits = await risk.LimitsAsync(request.MerchantId, request.Currency, ct);
        if (limits.RefusesPayment(request.AmountMinor) is not { } code)
        {
            return null;
        }
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"the amount {request.AmountMinor} is over the limit per payment of {limits.PerPaymentMinor} minor units ({code})");
        await risk.RefusedAsync(request.MerchantId, request.OrderId, code, request.AmountMinor, request.Currency, detail, ct);
        return new RiskRefusal(code, detail);
    }
}
