using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Holds;

/// <summary>What a hold's capture or release is, as <c>hold_actions.kind</c> keeps it.</summary>
public static class HoldActionKind
{
    public const string Capture = "capture";
    public const string Release = "release";
}

/// <summary>Who released a hold: its merchant, or the platform when it expired.</summary>
public static class HoldReason
{
    public const string Merchant = "merchant";
    public const string Expired = "expired";
}

/// <summary>
/// The legal moves of a hold (an order of capture mode <c>hold</c>), without a database: an authorized
/// hold is captured once, for at most the amount held, or released (by its merchant, or by the
/// platform once it has expired); a hold being captured, captured, released or expired takes no other
/// move. The stores make the same checks again under the order's row lock, where the race is decided.
/// </summary>
public static class HoldRules
{
    public enum Refusal
    {
        None,
        NoSuchOrder,
        NotAHold,
        NotHeld,
        CaptureInFlight,
        AlreadyCaptured,
        AlreadyReleased,
        OverHeld,
        NotExpired,
    }

    /// <summary>Why <paramref name="order"/> cannot be captured for <paramref name="amountMinor"/>; <see cref="Refusal.None"/> when it can.</summary>
    public static Refusal OnCapture(Order? order, long amountMinor) => order switch
    {
        null => Refusal.NoSuchOrder,
        { CaptureMode: not CaptureMode.Hold } => Refusal.NotAHold,
        { Status: OrderStatus.Authorized } when amountMinor > order.AmountMinor => Refusal.OverHeld,
        _ => ByStatus(order),
    };

    /// <summary>
    /// Why <paramref name="order"/> cannot be released for <paramref name="reason"/> at <paramref name="now"/>; <see cref="Refusal.None"/>
    /// when it can. The platform releases only a hold past its expiry.
    /// </summary>
    public static Refusal OnRelease(Order? order, string reason, DateTimeOffset now) => order switch
    {
        null => Refusal.NoSuchOrder,
        { CaptureMode: not CaptureMode.Hold } => Refusal.NotAHold,
        { Status: OrderStatus.Authorized } when reason == HoldReason.Expired && !(order.HoldExpiresAt <= now) => Refusal.NotExpired,
        _ => ByStatus(order),
    };

    /// <summary>Whether <paramref name="order"/> is a hold its merchant has already released: a release repeated is answered as the first.</summary>
    public static bool ReleasedByMerchant(Order? order) => order is { CaptureMode: CaptureMode.Hold, Status: OrderStatus.Released };

    private static Refusal ByStatus(Order order) => order.Status switch
    {
        OrderStatus.Authorized => Refusal.None,
        OrderStatus.Capturing => Refusal.CaptureInFlight,
        OrderStatus.Paid or OrderStatus.Voided => Refusal.AlreadyCaptured,
        OrderStatus.Released or OrderStatus.Expired => Refusal.AlreadyReleased,
        _ => Refusal.NotHeld,
    };
}
