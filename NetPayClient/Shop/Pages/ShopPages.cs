using System.Net;
using System.Text;
using Mesh.Shop.Catalogue;
using Mesh.Shop.Orders;

namespace Mesh.Shop.Pages;

/// <summary>The shop's pages: server-rendered, no script, the shop's own small style.</summary>
public static class ShopPages
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:0;background:#faf7f2;color:#2b2b2b}header{background:#3d5a40;color:#fff;padding:12px 24px}" +
        "header a{color:#fff;margin-right:16px;text-decoration:none}main{max-width:860px;margin:24px auto;padding:0 16px}" +
        ".product{background:#fff;border:1px solid #e6e0d6;border-radius:6px;padding:12px 16px;margin-bottom:12px}" +
        "table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:6px 10px;border-bottom:1px solid #eee;text-align:left}" +
        ".num{text-align:right}button{background:#3d5a40;color:#fff;border:0;border-radius:4px;padding:8px 14px;cursor:pointer}" +
        ".paid{color:#1e7b34;font-weight:600}.failed{color:#b3261e;font-weight:600}.error{color:#b3261e}";

    public static IResult Catalogue(string antiforgery, int cartCount)
    {
        var html = Start("Mesh Tea House", cartCount);
        html.Append("<h1>Our teas</h1>");
        foreach (var product in Products.All)
        {
            html.Append("<div class=\"product\"><h2>").Append(E(product.Name)).Append("</h2><p>").Append(E(product.Description)).Append("</p><p><strong>")
                .Append(Money(product.PriceMinor)).Append("</strong></p><form method=\"post\" action=\"/cart\">").Append(antiforgery)
                .Append("<input type=\"hidden\" name=\"product\" value=\"").Append(E(product.Id)).Append("\">")
                .Append("<button type=\"submit\" id=\"add-").Append(E(product.Id)).Append("\">Add to cart</button></form></div>");
        }
        return Finish(html);
    }

    public static IResult CartPage(IReadOnlyList<CartLine> lines, string antiforgery, string? error)
    {
        var html = Start("Your cart", lines.Sum(l => l.Quantity));
        html.Append("<h1>Your cart</h1>");
        if (error is not null)
        {
            html.Append("<p class=\"error\" id=\"error\">").Append(E(error)).Append("</p>");
        }
        if (lines.Count == 0)
        {
            return Finish(html.Append("<p id=\"empty\">Your cart is empty. <a href=\"/\">See our teas</a>.</p>"));
        }
        html.Append("<table id=\"cart\"><thead><tr><th>Tea</th><th class=\"num\">Quantity</th><th class=\"num\">Amount</th></tr></thead><tbody>");
        foreach (var line in lines)
        {
            html.Append("<tr><td>").Append(E(line.Product.Name)).Append("</td><td class=\"num\">").Append(line.Quantity).Append("</td><td class=\"num\">")
                .Append(Money(line.AmountMinor)).Append("</td></tr>");
        }
        html.Append("</tbody><tfoot><tr><th>Total</th><th></th><th class=\"num\" id=\"total\">").Append(Money(lines.Sum(l => l.AmountMinor)))
            .Append("</th></tr></tfoot></table><form method=\"post\" action=\"/checkout\">").Append(antiforgery)
            .Append("<p><button type=\"submit\" id=\"checkout\">Pay with a bank card</button></p></form>");
        return Finish(html);
    }

    public static IResult OrderPage(ShopOrder order, bool refresh)
    {
        var html = Start($"Order {order.OrderId}", 0, refresh ? 2 : null);
        var (title, css) = order.Status switch
        {
            "paid" => ("Thank you: your order is paid", "paid"),
            "failed" => ("The payment did not go through", "failed"),
            "closed" => ("The order was closed before it was paid: nothing was charged", "failed"),
            "voided" => ("The payment was voided: the whole amount went back to the card", "failed"),
            _ => ("Waiting for the payment's result", ""),
        };
        html.Append("<h1 id=\"order-status\" class=\"").Append(css).Append("\">").Append(E(title)).Append("</h1><table>")
            .Append("<tr><th>Order</th><td id=\"order-id\">").Append(E(order.OrderId)).Append("</td></tr>")
            .Append("<tr><th>Teas</th><td>").Append(E(order.Items)).Append("</td></tr>")
            .Append("<tr><th>Amount</th><td>").Append(Money(order.AmountMinor)).Append("</td></tr>")
            .Append("<tr><th>Status</th><td id=\"status\">").Append(E(order.Status)).Append("</td></tr>")
            .Append("<tr><th>Card</th><td>").Append(E(order.MaskedPan ?? "")).Append("</td></tr></table><p><a href=\"/orders\">All orders</a></p>");
        return Finish(html);
    }

    public static IResult OrdersPage(IReadOnlyList<ShopOrder> orders)
    {
        var html = Start("Orders", 0);
        html.Append("<h1>Orders</h1><table id=\"orders\"><thead><tr><th>Order</th><th>Teas</th><th class=\"num\">Amount</th><th>Status</th><th>Card</th><th>Placed (UTC)</th></tr></thead><tbody>");
        foreach (var o in orders)
        {
            html.Append("<tr><td><a href=\"/orders/").Append(E(o.OrderId)).Append("\">").Append(E(o.OrderId)).Append("</a></td><td>").Append(E(o.Items))
                .Append("</td><td class=\"num\">").Append(Money(o.AmountMinor)).Append("</td><td class=\"").Append(E(o.Status)).Append("\">").Append(E(o.Status))
                .Append("</td><td>").Append(E(o.MaskedPan ?? "")).Append("</td><td>")
                .Append(o.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)).Append("</td></tr>");
        }
        return Finish(html.Append("</tbody></table>"));
    }

    public static IResult Problem(int statusCode, string title, string detail)
    {
        var html = Start(title, 0);
        html.Append("<h1 class=\"error\">").Append(E(title)).Append("</h1><p id=\"error\">").Append(E(detail)).Append("</p><p><a href=\"/\">Back to the shop</a></p>");
        return Finish(html, statusCode);
    }

    public static string Money(long minor) => $"¥{minor / 100:N0}.{minor % 100:D2}";

    private static StringBuilder Start(string title, int cartCount, int? refreshSeconds = null) =>
        new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>")
            .Append(refreshSeconds is { } s ? $"<meta http-equiv=\"refresh\" content=\"{s}\">" : "")
            .Append("<style>").Append(Style).Append("</style></head><body><header><a href=\"/\"><strong>Mesh Tea House</strong></a><a href=\"/cart\" id=\"cart-link\">Cart (")
            .Append(cartCount).Append(")</a><a href=\"/orders\">Orders</a></header><main>");

    private static IResult Finish(StringBuilder html, int statusCode = StatusCodes.Status200OK) =>
        Results.Content(html.Append("</main></body></html>").ToString(), "text/html; charset=utf-8", Encoding.UTF8, statusCode);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
