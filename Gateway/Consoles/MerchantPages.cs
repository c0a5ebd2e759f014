using Mesh.Contracts.Settlement;
using Mesh.Gateway.Consoles.Components.Merchant;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Pages;
using Mesh.Gateway.Risk;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The merchant console's pages: each a Razor component in <c>Components/Merchant</c> rendered on the server (<see cref="SecurePage"/>),
/// its words from <see cref="MerchantConsoleText"/> in the request's language. Messages and errors are <see cref="Words"/>, worded on the page.
/// </summary>
public static class MerchantPages
{
    public sealed record Filters(string From, string To, string Status, string OrderId, string Min, string Max);

    /// <summary>The statuses the transactions page filters by.</summary>
    public static readonly string[] Statuses =
    [
        OrderStatus.Created, OrderStatus.Pending, OrderStatus.Paid, OrderStatus.Failed, OrderStatus.Closed, OrderStatus.Voided, OrderStatus.Authorized,
        OrderStatus.Capturing, OrderStatus.Released, OrderStatus.Expired,
    ];

    public static IResult Home(ConsoleSession session, IReadOnlyList<DayVolume> days, Merchants.Merchant merchant) =>
        Page<MerchantHome>(session, new() { [nameof(MerchantHome.Days)] = days, [nameof(MerchantHome.Merchant)] = merchant });

    public static IResult Transactions(ConsoleSession session, Filters filters, IReadOnlyList<Order> orders, int page, bool more, string query,
        IReadOnlyList<Words> problems) =>
        Page<MerchantTransactions>(session, new()
        {
            [nameof(MerchantTransactions.Filters)] = filters,
            [nameof(MerchantTransactions.Orders)] = orders,
            [nameof(MerchantTransactions.PageNumber)] = page,
            [nameof(MerchantTransactions.More)] = more,
            [nameof(MerchantTransactions.Query)] = query,
            [nameof(MerchantTransactions.Problems)] = problems,
        });

    public static IResult Detail(ConsoleSession session, Order order, IReadOnlyList<MerchantOrder.Event> timeline) =>
        Page<MerchantOrder>(session, new() { [nameof(MerchantOrder.Order)] = order, [nameof(MerchantOrder.Timeline)] = timeline });

    public static IResult RefundForm(ConsoleSession session, Order order, string amount, string reason, IReadOnlyList<Words> problems) =>
        Page<Components.Merchant.RefundForm>(session, new()
        {
            [nameof(Components.Merchant.RefundForm.Order)] = order,
            [nameof(Components.Merchant.RefundForm.Amount)] = amount,
            [nameof(Components.Merchant.RefundForm.Reason)] = reason,
            [nameof(Components.Merchant.RefundForm.Problems)] = problems,
        }, problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);

    /// <summary>The second step (确认退款): what will be refunded, sent under a refund id fixed here, so a double submit refunds once.</summary>
    public static IResult RefundConfirm(ConsoleSession session, Order order, long amountMinor, string reason, string refundId) =>
        Page<Components.Merchant.RefundConfirm>(session, new()
        {
            [nameof(Components.Merchant.RefundConfirm.Order)] = order,
            [nameof(Components.Merchant.RefundConfirm.AmountMinor)] = amountMinor,
            [nameof(Components.Merchant.RefundConfirm.Reason)] = reason,
            [nameof(Components.Merchant.RefundConfirm.RefundId)] = refundId,
        });

    public static IResult RefundDone(ConsoleSession session, Order order, string status, string? responseCode) =>
        Page<Components.Merchant.RefundDone>(session, new()
        {
            [nameof(Components.Merchant.RefundDone.Order)] = order,
            [nameof(Components.Merchant.RefundDone.Status)] = status,
            [nameof(Components.Merchant.RefundDone.ResponseCode)] = responseCode,
        });

    /// <summary>A hold's capture or release, done (<paramref name="captured"/> tells which): the order as it now is.</summary>
    public static IResult HoldDone(ConsoleSession session, Order order, bool captured) =>
        Page<Components.Merchant.HoldDone>(session, new() { [nameof(Components.Merchant.HoldDone.Order)] = order, [nameof(Components.Merchant.HoldDone.Captured)] = captured });

    public static IResult Settlement(ConsoleSession session, IReadOnlyList<Batch> batches) =>
        Page<MerchantSettlement>(session, new() { [nameof(MerchantSettlement.Batches)] = batches });

    public static IResult Notifications(ConsoleSession session, IReadOnlyList<Notifications.NotificationState> notifications, Words? message) =>
        Page<MerchantNotifications>(session, new()
        {
            [nameof(MerchantNotifications.Notifications)] = notifications,
            [nameof(MerchantNotifications.Message)] = message,
        });

    public static IResult Settings(ConsoleSession session, Merchants.Merchant merchant, Words? message, Words? error) =>
        Page<MerchantSettings>(session, new()
        {
            [nameof(MerchantSettings.Merchant)] = merchant,
            [nameof(MerchantSettings.Message)] = message,
            [nameof(MerchantSettings.Error)] = error,
        }, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);

    public static IResult Users(ConsoleSession session, IReadOnlyList<ConsoleAccounts.User> users, Words? message, Words? error) =>
        Page<MerchantUsers>(session, new()
        {
            [nameof(MerchantUsers.Users)] = users,
            [nameof(MerchantUsers.Message)] = message,
            [nameof(MerchantUsers.Error)] = error,
        }, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);

    public static IResult Risk(ConsoleSession session, MerchantLimits limits, IReadOnlyList<RefusedAttempt> refusals, Words? message, Words? error,
        int statusCode) =>
        Page<MerchantRisk>(session, new()
        {
            [nameof(MerchantRisk.Limits)] = limits,
            [nameof(MerchantRisk.Refusals)] = refusals,
            [nameof(MerchantRisk.Message)] = message,
            [nameof(MerchantRisk.Error)] = error,
        }, statusCode);

    /// <summary>An error page in the console's layout, its title and detail worded in the request's language.</summary>
    public static IResult Error(ConsoleSession session, int statusCode, Words title, Words detail) =>
        Page<MerchantError>(session, new() { [nameof(MerchantError.Title)] = title, [nameof(MerchantError.Detail)] = detail }, statusCode);

    private static IResult Page<TComponent>(ConsoleSession session, Dictionary<string, object?> parameters, int statusCode = StatusCodes.Status200OK)
        where TComponent : Microsoft.AspNetCore.Components.IComponent
    {
        parameters["Session"] = session;
        return SecurePage.Of<TComponent>(parameters, statusCode);
    }
}
