namespace Mesh.Shop.Catalogue;

public sealed record Product(string Id, string Name, string Description, long PriceMinor);

/// <summary>The shop's teas. Prices live here, on the server: a cart carries product ids and quantities, never prices.</summary>
public static class Products
{
    public const string Currency = "CNY";

    public static readonly IReadOnlyList<Product> All =
    [
        new("longjing", "West Lake Longjing", "Green tea from Hangzhou, spring picking, 100 g", 128_00),
        new("pu-erh", "Pu-erh cake", "Aged raw pu-erh from Yunnan, 357 g", 268_00),
        new("tieguanyin", "Tieguanyin", "Oolong from Anxi, lightly roasted, 125 g", 88_50),
    ];

    public static Product? Find(string id) => All.FirstOrDefault(p => p.Id == id);
}
