namespace Mesh.Gateway.Merchants;

/// <summary>Where a merchant is in its life on the platform.</summary>
public enum MerchantStatus
{
    Active,
    Suspended,
    Offboarding,
    Closed,
}

/// <summary>What a merchant asks of the platform, as a suspension sees it.</summary>
public enum MerchantCall
{
    /// <summary>A new order, or paying one: what a suspension stops.</summary>
    NewBusiness,

    /// <summary>Finishing what was paid: a refund, a void, a capture or release of a hold, closing an order.</summary>
    FollowUp,

    /// <summary>Reading an order, a refund or a file.</summary>
    Query,
}

/// <summary>What an operator does to a merchant (<see cref="MerchantMove.Close"/> is the platform's, once the last batch is paid).</summary>
public enum MerchantMove
{
    Suspend,
    Reactivate,
    Offboard,
    Close,
}

/// <summary>
/// A merchant's lifecycle: active ⇄ suspended; active or suspended → offboarding → closed once its
/// last settlement batch is paid; an offboarding merchant may still be reactivated, a closed one
/// not. A suspended or offboarding merchant takes no new orders or payments, while refunds,
/// queries, notifications and settlement go on; a closed one is only read.
/// </summary>
public static class MerchantLifecycle
{
    public const int ReasonCharsMax = 200;

    public static string Text(MerchantStatus status) => status switch
    {
        MerchantStatus.Active => "active",
        MerchantStatus.Suspended => "suspended",
        MerchantStatus.Offboarding => "offboarding",
        _ => "closed",
    };

    public static MerchantStatus Parse(string text) => text switch
    {
        "active" => MerchantStatus.Active,
        "suspended" => MerchantStatus.Suspended,
        "offboarding" => MerchantStatus.Offboarding,
        "closed" => MerchantStatus.Closed,
        _ => throw new ArgumentOutOfRangeException(nameof(text), text, "not a merchant status"),
    };

    /// <summary>The stable code a refused request names: <c>merchant.suspended</c>, <c>merchant.offboarding</c>, <c>merchant.closed</c>.</summary>
    public static string Code(MerchantStatus status) => "merchant." + Text(status);

    /// <summary>Null when a merchant in <paramref name="status"/> may make <paramref name="call"/>; otherwise the code it is refused with.</summary>
    public static string? Refuses(MerchantStatus status, MerchantCall call) => (status, call) switch
    {
        (MerchantStatus.Active, _) => null,
        (MerchantStatus.Suspended or MerchantStatus.Offboarding, MerchantCall.FollowUp or MerchantCall.Query) => null,
        (MerchantStatus.Closed, MerchantCall.Query) => null,
        _ => Code(status),
    };

    /// <summary>Why <paramref name="status"/> refuses new business, in the merchant's words.</summary>
    public static string Why(MerchantStatus status) => status switch
    {
        MerchantStatus.Suspended => "the merchant is suspended by the platform: it takes no new orders or payments until it is reactivated",
        MerchantStatus.Offboarding => "the merchant is leaving the platform: it takes no new orders or payments",
        MerchantStatus.Closed => "the merchant has left the platform",
        _ => "the merchant is active",
    };

    /// <summary>The status <paramref name="move"/> leads to from <paramref name="from"/>, or why it is not a legal move.</summary>
    public static (MerchantStatus? To, string? Refusal) Move(MerchantStatus from, MerchantMove move) => (from, move) switch
    {
        (MerchantStatus.Active, MerchantMove.Suspend) => (MerchantStatus.Suspended, null),
        (MerchantStatus.Suspended or MerchantStatus.Offboarding, MerchantMove.Reactivate) => (MerchantStatus.Active, null),
        (MerchantStatus.Active or MerchantStatus.Suspended, MerchantMove.Offboard) => (MerchantStatus.Offboarding, null),
        (MerchantStatus.Offboarding, MerchantMove.Close) => (MerchantStatus.Closed, null),
        _ => (null, $"a {Text(from)} merchant cannot be {Past(move)}"),
    };

    private static string Past(MerchantMove move) => move switch
    {
        MerchantMove.Suspend => "suspended (only an active one is)",
        MerchantMove.Reactivate => "reactivated (only a suspended or offboarding one is)",
        MerchantMove.Offboard => "offboarded (only an active or suspended one is)",
        _ => "closed (only an offboarding one is, once its last batch is paid)",
    };
}
