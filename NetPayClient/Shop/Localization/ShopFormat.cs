using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Mesh.Shop.Localization;

/// <summary>Amounts in yuan exactly from fen (¥1,234.56), and times in China time, in the patterns of the shop's resources.</summary>
public sealed class ShopFormat(IStringLocalizer<ShopText> text)
{
    private static readonly TimeZoneInfo ChinaTime = TimeZoneInfo.TryFindSystemTimeZoneById("Asia/Shanghai", out var zone)
        ? zone
        : TimeZoneInfo.CreateCustomTimeZone("Asia/Shanghai", TimeSpan.FromHours(8), "Asia/Shanghai", "Asia/Shanghai");

    public string Money(long amountMinor)
    {
        var magnitude = amountMinor < 0 ? (ulong)(-(amountMinor + 1)) + 1 : (ulong)amountMinor;
        var digits = (amountMinor < 0 ? "-" : "") + (magnitude / 100).ToString("N0", CultureInfo.InvariantCulture) + "."
            + (magnitude % 100).ToString("D2", CultureInfo.InvariantCulture);
        return string.Format(CultureInfo.InvariantCulture, text["¥{0}"], digits);
    }

    public string Time(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, ChinaTime).ToString(text["yyyy-MM-dd HH:mm 'China time'"], CultureInfo.InvariantCulture);

    /// <summary>An order's status in the page's language; one the resources do not name is shown as the platform sent it.</summary>
    public string Status(string status) => text["Status." + status] is { ResourceNotFound: false } label ? label.Value : status;

    /// <summary>What an order holds (<see cref="Orders.OrderItems"/>): each tea's name in the page's language with its quantity; a part the catalogue does not know is shown as kept.</summary>
    public string Items(string items) => string.Join(text["ItemSeparator"], items.Split(',').Select(part =>
    {
        var at = part.LastIndexOf('×');
        return at > 0 && Catalogue.Products.Find(part[..at]) is { } product
            && int.TryParse(part[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var quantity)
            ? text["{0} × {1}", quantity, text[product.Name]].Value
            : part;
    }));
}
