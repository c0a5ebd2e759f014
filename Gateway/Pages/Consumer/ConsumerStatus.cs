using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;

namespace Mesh.Gateway.Pages.Consumer;

/// <summary>What an order's status is called on the consumer's pages (the English text, a resource key), and its colour.</summary>
public static class ConsumerStatus
{
    public static string Title(string status) => status switch
    {
        OrderStatus.Paid => "Payment successful",
        OrderStatus.Authorized or OrderStatus.Capturing => "Payment authorized",
        OrderStatus.Released or OrderStatus.Expired => "Authorization released",
        OrderStatus.Failed => "Payment failed",
        OrderStatus.Closed => "Order closed",
        OrderStatus.Voided => "Payment voided",
        _ => "Payment pending",
    };

    public static string CssClass(string status) => status switch
    {
        OrderStatus.Paid or OrderStatus.Authorized or OrderStatus.Capturing => "ok",
        OrderStatus.Created or OrderStatus.Pending => "",
        _ => "error",
    };

    /// <summary>
    /// The order's result message as words: a bank's answer is worded from its response code (so a code the consumer's
    /// language has no sentence for is still named in a sentence of that language), any other message from its English text.
    /// </summary>
    public static Words? Message(Order order) =>
        order.ResultMessage is { } message && order.ResponseCode is { } code && message == ConsumerMessages.For(code)
            ? ConsumerMessages.Of(code)
            : order.ResultMessage;
}
