using System.Globalization;
using Mesh.Gateway.Options;

namespace Mesh.Gateway.Orders;

/// <summary>
/// How an order ends without being paid. Every order has a pay-by time: the merchant's
/// (<c>/v1</c> <c>payTimeout</c>, yyyyMMddHHmmss UTC, after now and at most
/// <see cref="GatewayOptions.PayMinutesMax"/> ahead), else <see cref="GatewayOptions.PayMinutesDefault"/>
/// from its creation. Only a created order before its pay-by time can be paid. Past it, a created
/// order is closed; a merchant may close a created or failed order at any time. A paid order, or
/// one whose payment is in flight, is never closed; a closed one stays closed. A paid order may be
/// voided (撤销) on the business day it was paid (<see cref="OnVoid"/>); a voided order stays voided.
/// </summary>
public static class OrderLifetime
{
    public const string PayTimeoutFormat = "yyyyMMddHHmmss";

    public const string ExpiredMessage = "The time to pay this order has passed: it is closed, and nothing was charged.";
    public const string ClosedByMerchantMessage = "The merchant closed this order: nothing was charged.";
    public const string VoidedMessage = "The merchant voided this payment: the whole amount went back to the card.";

    /// <summary>The states a merchant's close takes an order out of.</summary>
    public static readonly string[] Closable = [OrderStatus.Created, OrderStatus.Failed];

    /// <summary>What a merchant's close of an order comes to.</summary>
    public enum Closing
    {
        Closed,
        AlreadyClosed,
        Paid,
        PaymentInFlight,
        Voided,
        Held,
        NoSuchOrder,
    }

    /// <summary>What a merchant's void of an order comes to.</summary>
    public enum Voiding
    {
        Void,
        AlreadyVoided,
        NotPaid,
        Refunded,
        PastCutoff,
        NoSuchOrder,
    }

    /// <summary>What closing an order in <paramref name="status"/> does.</summary>
    public static Closing OnClose(string status) => status switch
    {
        OrderStatus.Created or OrderStatus.Failed => Closing.Closed,
        OrderStatus.Closed => Closing.AlreadyClosed,
        OrderStatus.Paid => Closing.Paid,
        OrderStatus.Pending => Closing.PaymentInFlight,
        OrderStatus.Voided => Closing.Voided,
        OrderStatus.Authorized or OrderStatus.Capturing => Closing.Held,
        OrderStatus.Released or OrderStatus.Expired => Closing.AlreadyClosed,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not an order status"),
    };

    /// <summary>
    /// What voiding <paramref name="order"/> at <paramref name="now"/> does: only a paid order with
    /// nothing refunded, before the cut-off that ends the business day it was paid on, is voided.
    /// </summary>
    public static Voiding OnVoid(Order order, DateTimeOffset now, BusinessDay day)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(day);
        return order switch
        {
            { Status: OrderStatus.Voided } => Voiding.AlreadyVoided,
            { Status: not OrderStatus.Paid } or { PaidAt: null } => Voiding.NotPaid,
            { RefundedMinor: > 0 } => Voiding.Refunded,
            _ when now >= day.EndOf(order.PaidAt.Value) => Voiding.PastCutoff,
            _ => Voiding.Void,
        };
    }

    /// <summary>The pay-by time of an order opened at <paramref name="now"/>: the merchant's, else the default.</summary>
    public static DateTimeOffset PayBy(DateTimeOffset? requested, DateTimeOffset now, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return requested ?? now.AddMinutes(options.PayMinutesDefault);
    }

    /// <summary>Whether <paramref name="order"/> has ended unpaid at <paramref name="now"/>: closed, or created and past its pay-by time.</summary>
    public static bool HasEnded(Order order, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(order);
        return order.Status == OrderStatus.Closed || (order.Status == OrderStatus.Created && order.PayBy <= now);
    }

    /// <summary>
    /// A merchant's <c>payTimeout</c>: null and no problem when it is absent (the default applies);
    /// otherwise the time, or the rule it breaks.
    /// </summary>
    public static (DateTimeOffset? PayBy, string? Problem) ReadPayTimeout(string? text, DateTimeOffset now, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(text))
        {
            return (null, null);
        }
        var rule = $"{PayTimeoutFormat} (UTC), after now and at most {options.PayMinutesMax} minutes ahead";
        if (text.Length != PayTimeoutFormat.Length || !DateTime.TryParseExact(text, PayTimeoutFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
        {
            return (null, rule);
        }
        var payBy = new DateTimeOffset(at, TimeSpan.Zero);
        return payBy > now && payBy <= now.AddMinutes(options.PayMinutesMax) ? (payBy, null) : (null, rule);
    }
}
