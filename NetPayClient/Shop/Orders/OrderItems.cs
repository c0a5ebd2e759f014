using System.Globalization;
using Mesh.Shop.Catalogue;

namespace Mesh.Shop.Orders;

/// <summary>What an order holds as the shop keeps it: product ids and quantities, no words (<c>longjing×2,pu-erh×1</c>); a page names them (<see cref="Localization.ShopFormat.Items"/>).</summary>
public static class OrderItems
{
    public static string Of(IEnumerable<CartLine> lines) =>
        string.Join(",", lines.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Product.Id}×{l.Quantity}")));
}
