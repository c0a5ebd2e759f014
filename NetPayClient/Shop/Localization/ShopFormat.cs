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
}
