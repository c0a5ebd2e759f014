using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Options;
using Mesh.Gateway.Refunds;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Orders;

/// <summary>
/// A merchant's void (撤销) of a paid order on the business day it was paid (<see cref="OrderLifetime.OnVoid"/>):
/// the whole amount is reversed at the issuer through the refund path, as a refund of kind
/// <see cref="RefundKind.Void"/> under one id per order, so a repeated void is the same void. Once
/// the issuer takes it the order is voided and the merchant is told; settlement books the
/// purchase's reversal, which takes its fee back too.
/// </summary>
public sealed class OrderVoiding(OrderBook orders, RefundDesk refunds, IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>What a void comes to beyond <see cref="OrderLifetime.Voiding"/>: the issuer's answer to the reversal.</summary>
    public enum Outcome
    {
        Voided,
        InFlight,
        Refused,
    }

    private readonly BusinessDay _day = BusinessDay.TryFrom(options.Value)!;

    public async Task<(OrderLifetime.Voiding Voiding, Outcome Outcome, Order? Order)> VoidAsync(string merchantId, string orderId, CancellationToken ct)
    {
        if (await orders.FindAsync(merchantId, orderId, ct) is not { } order)
        {
            return (OrderLifetime.Voiding.NoSuchOrder, Outcome.Refused, null);
        }
        var refundId = VoidRefundId(orderId);
        if (await refunds.FindAsync(merchantId, refundId, ct) is { } earlier && earlier.OrderId == orderId)
        {
            return (OrderLifetime.Voiding.AlreadyVoided, OutcomeOf(earlier), await orders.FindAsync(merchantId, orderId, ct));
        }
        var voiding = OrderLifetime.OnVoid(order, time.GetUtcNow(), _day);
        if (voiding != OrderLifetime.Voiding.Void)
        {
            return (voiding, Outcome.Voided, order);
        }
        var (refusal, reversal, _) = await refunds.RefundAsync(merchantId, orderId, refundId, order.PaidMinor, ct, RefundKind.Void);
        return refusal switch
        {
            RefundDesk.Refusal.NotPaid => (OrderLifetime.Voiding.NotPaid, Outcome.Refused, order),
            RefundDesk.Refusal.OverRemainder => (OrderLifetime.Voiding.Refunded, Outcome.Refused, order),
            _ => (OrderLifetime.Voiding.Void, OutcomeOf(reversal!), await orders.FindAsync(merchantId, orderId, ct)),
        };
    }

    /// <summary>The refund id of an order's void: <c>vd-</c> and 29 hex digits of the order id's SHA-256, within a refund id's 32 characters.</summary>
    public static string VoidRefundId(string orderId) => $"vd-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(orderId)))[..29]}";

    private static Outcome OutcomeOf(Refund reversal) => reversal.Status switch
    {
        RefundStatus.Succeeded => Outcome.Voided,
        RefundStatus.Pending => Outcome.InFlight,
        _ => Outcome.Refused,
    };
}
