using System.Globalization;
using System.Security.Cryptography;
using Mesh.NetPay.Api;
using Mesh.NetPay.Notifications;
using Mesh.NetPay.Signing;
using Mesh.ServiceDefaults.Database;
using Mesh.Shop.Catalogue;
using Mesh.Shop.Localization;
using Mesh.Shop.Orders;
using Mesh.Shop.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace Mesh.Shop;

public static class Extensions
{
    public static void AddShopServices(this IHostApplicationBuilder builder)
    {
        builder.AddMeshDatabase("shopdb");
        builder.Services.AddOptions<ShopOptions>().Bind(builder.Configuration.GetSection(ShopOptions.Section))
            .Validate(o => o.MerchantId.Length == 15 && o.MerchantId.All(char.IsAsciiDigit), "Shop:MerchantId is 15 digits")
            .Validate(o => File.Exists(o.KeyPath), "Shop:KeyPath names the shop's private key file")
            .Validate(o => Uri.TryCreate(o.GatewayUrl, UriKind.Absolute, out _) && Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out _),
                "Shop:GatewayUrl and Shop:PublicUrl are absolute URLs")
            .ValidateOnStart();
        builder.Services.AddNetPayClient(sp =>
        {
            var shop = sp.GetRequiredService<IOptions<ShopOptions>>().Value;
            return new NetPayClientOptions
            {
                GatewayUrl = new Uri(shop.GatewayUrl),
                MerchantId = shop.MerchantId,
                Key = MerchantKey.FromPem(File.ReadAllText(shop.KeyPath)),
            };
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ShopOrders>();
        builder.Services.AddSingleton<INotificationInbox, DatabaseNotificationInbox>();
        builder.Services.AddAntiforgery();
        builder.Services.AddShopLocalization();
        builder.Services.AddRazorComponents();
    }

    public static WebApplication MapShop(this WebApplication app)
    {
        app.UseShopPageHeaders();
        app.UseRequestLocalization();
        app.MapCultureSwitch();
        app.MapGet("/", (HttpContext http, IAntiforgery antiforgery) => ShopPages.Catalogue(Token(http, antiforgery), Cart.Read(http.Request).Sum(l => l.Quantity)));
        app.MapGet("/cart", (HttpContext http, IAntiforgery antiforgery) => ShopPages.CartPage(Cart.Read(http.Request), Token(http, antiforgery), null));
        app.MapPost("/cart", AddToCartAsync);
        app.MapPost("/checkout", CheckoutAsync);
        app.MapGet("/orders", async (ShopOrders orders, CancellationToken ct) => ShopPages.OrdersPage(await orders.LatestAsync(ct)));
        app.MapGet("/orders/{orderId}", OrderAsync);
        // The payment page sends the consumer back by posting the platform's signed answer here; the
        // shop believes only the platform (a fresh, signed query on the page it redirects to).
        app.MapPost("/orders/{orderId}", (string orderId) => Results.Redirect($"/orders/{Uri.EscapeDataString(orderId)}", permanent: false, preserveMethod: false));
        app.MapNetPayNotifications("/netpay/notify", async (notification, services, ct) =>
        {
            // The notification is verified and new; the order's signed state is asked for, so a refund's total is the platform's too.
            var order = await services.GetRequiredService<NetPayClient>().GetOrderAsync(notification.OrderId, ct);
            await services.GetRequiredService<ShopOrders>().ApplyAsync(order.OrderId, order.Version, order.Status, order.MaskedPan, order.RefundedMinor, ct);
        });
        return app;
    }

    private static async Task<IResult> AddToCartAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return ShopPages.Problem(StatusCodes.Status400BadRequest, "The form has expired", "Please go back and try again.");
        }
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (Products.Find(form["product"].ToString()) is not { } product)
        {
            return ShopPages.Problem(StatusCodes.Status400BadRequest, "No such tea", "That product is not in our catalogue.");
        }
        var lines = Cart.Read(http.Request).ToList();
        var index = lines.FindIndex(l => l.Product.Id == product.Id);
        if (index < 0)
        {
            lines.Add(new CartLine(product, 1));
        }
        else
        {
            lines[index] = lines[index] with { Quantity = Math.Min(Cart.QuantityMax, lines[index].Quantity + 1) };
        }
        Cart.Write(http.Response, lines);
        return Results.Redirect("/cart");
    }

    private static async Task<IResult> CheckoutAsync(HttpContext http, IAntiforgery antiforgery, ShopOrders orders, NetPayClient platform, IOptions<ShopOptions> options,
        ILogger<ShopOrders> logger, CancellationToken ct)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return ShopPages.Problem(StatusCodes.Status400BadRequest, "The form has expired", "Please go back and try again.");
        }
        var lines = Cart.Read(http.Request);
        if (lines.Count == 0)
        {
            return ShopPages.CartPage(lines, Token(http, antiforgery), "Your cart is empty.");
        }
        var orderId = "tea" + DateTime.UtcNow.ToString("yyMMddHHmmss", CultureInfo.InvariantCulture) + RandomNumberGenerator.GetInt32(1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var amount = lines.Sum(l => l.AmountMinor);
        await orders.CreateAsync(orderId, amount, Products.Currency, OrderItems.Of(lines), ct);
        var publicUrl = options.Value.PublicUrl.TrimEnd('/');
        try
        {
            var order = await platform.CreateOrderAsync(new CreateOrder(orderId, amount, Products.Currency, BackUrl: $"{publicUrl}/netpay/notify",
                FrontUrl: $"{publicUrl}/orders/{orderId}"), ct);
            Cart.Clear(http.Response);
            return Results.Redirect(order.PayUrl!.ToString());
        }
        catch (Exception ex) when (ex is NetPayException or HttpRequestException)
        {
            logger.LogWarning("The platform did not take order {OrderId}: {Reason}", orderId, ex.Message);
            return ShopPages.CartPage(lines, Token(http, antiforgery), "The payment service is not available right now; your cart is kept, please try again.");
        }
    }

    private static async Task<IResult> OrderAsync(string orderId, ShopOrders orders, NetPayClient platform, ILogger<ShopOrders> logger, CancellationToken ct)
    {
        if (orderId.Length > 32 || await orders.FindAsync(orderId, ct) is not { } order)
        {
            return ShopPages.Problem(StatusCodes.Status404NotFound, "No such order", "We have no order with that number.");
        }
        if (order.Status is not (Order.Paid or Order.Failed or Order.Closed))
        {
            try
            {
                // The consumer may be back before the notification: ask the platform (a signed answer).
                var known = await platform.GetOrderAsync(orderId, ct);
                if (await orders.ApplyAsync(orderId, known.Version, known.Status, known.MaskedPan, known.RefundedMinor, ct))
                {
                    order = (await orders.FindAsync(orderId, ct))!;
                }
            }
            catch (Exception ex) when (ex is NetPayException or HttpRequestException)
            {
                logger.LogWarning("Could not ask the platform about order {OrderId}: {Reason}", orderId, ex.Message);
            }
        }
        return ShopPages.OrderPage(order, refresh: order.Status is not (Order.Paid or Order.Failed or Order.Closed));
    }

    private static AntiforgeryTokenSet Token(HttpContext http, IAntiforgery antiforgery) => antiforgery.GetAndStoreTokens(http);
}
