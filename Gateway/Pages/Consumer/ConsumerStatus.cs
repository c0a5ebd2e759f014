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
}
