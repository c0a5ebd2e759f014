using System.Globalization;

namespace Mesh.Shop.Catalogue;

public sealed record CartLine(Product Product, int Quantity)
{
    public long AmountMinor => Product.PriceMinor * Quantity;
}

/// <summary>The cart, kept in a cookie as <c>id:quantity</c> pairs; anything unknown or out of range is dropped.</summary>
public static class Cart
{
    public const string Cookie = "shop-cart";
    public const int QuantityMax = 20;

    public static IReadOnlyList<CartLine> Read(HttpRequest request) =>
        (request.Cookies[Cookie] ?? "").Split('.', StringSplitOptions.RemoveEmptyEntries).Take(Products.All.Count)
            .Select(pair => pair.Split(':'))
            .Where(p => p.Length == 2 && Products.Find(p[0]) is not null && int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q is >= 1 and <= QuantityMax)
            .GroupBy(p => p[0])
            .Select(g => new CartLine(Products.Find(g.Key)!, int.Parse(g.First()[1], CultureInfo.InvariantCulture)))
            .ToList();

    public static void Write(HttpResponse response, IEnumerable<CartLine> lines) =>
        response.Cookies.Append(Cookie, string.Join('.', lines.Select(l => $"{l.Product.Id}:{l.Quantity}")),
            new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true, Path = "/" });

    public static void Clear(HttpResponse response) => response.Cookies.Delete(Cookie, new CookieOptions { Path = "/" });
}
