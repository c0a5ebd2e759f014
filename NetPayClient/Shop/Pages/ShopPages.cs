using Mesh.Shop.Catalogue;
using Mesh.Shop.Orders;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mesh.Shop.Pages;

/// <summary>The shop's pages: Razor components rendered on the server (static SSR), no script, in the request's language.</summary>
public static class ShopPages
{
    public static IResult Catalogue(AntiforgeryTokenSet antiforgery, int cartCount) =>
        Page<CataloguePage>(new() { [nameof(CataloguePage.Antiforgery)] = antiforgery, [nameof(CataloguePage.CartCount)] = cartCount });

    public static IResult CartPage(IReadOnlyList<CartLine> lines, AntiforgeryTokenSet antiforgery, string? error) =>
        Page<CartPage>(new() { [nameof(Pages.CartPage.Lines)] = lines, [nameof(Pages.CartPage.Antiforgery)] = antiforgery, [nameof(Pages.CartPage.Error)] = error });

    public static IResult OrderPage(ShopOrder order, bool refresh) =>
        Page<OrderPage>(new() { [nameof(Pages.OrderPage.Order)] = order, [nameof(Pages.OrderPage.Refresh)] = refresh });

    public static IResult OrdersPage(IReadOnlyList<ShopOrder> orders) => Page<OrdersPage>(new() { [nameof(Pages.OrdersPage.Orders)] = orders });

    public static IResult Problem(int statusCode, string title, string detail) =>
        Page<ProblemPage>(new() { [nameof(ProblemPage.Title)] = title, [nameof(ProblemPage.Detail)] = detail }, statusCode);

    private static RazorComponentResult<TComponent> Page<TComponent>(Dictionary<string, object?> parameters, int statusCode = StatusCodes.Status200OK)
        where TComponent : IComponent =>
        new(parameters) { StatusCode = statusCode, ContentType = "text/html; charset=utf-8", PreventStreamingRendering = true };
}
