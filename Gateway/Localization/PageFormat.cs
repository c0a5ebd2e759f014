using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Localization;

/// <summary>
/// Amounts and dates as a person reads them, in the request's language: an amount exactly from its
/// <c>long</c> minor units (¥1,234.56: integer arithmetic, no floating point), a date in China time
/// (Asia/Shanghai), with the patterns from <see cref="SharedText"/>'s resources.
/// </summary>
public sealed class PageFormat(IStringLocalizer<SharedText> text, TimeProvider time)
{
    public const string ChinaTimeZoneId = "Asia/Shanghai";

    /// <summary>China time: Asia/Shanghai from the system's zone data, or its fixed UTC+8 (China has kept no daylight saving since 1991).</summary>
    public static readonly TimeZoneInfo ChinaTimeZone = TimeZoneInfo.TryFindSystemTimeZoneById(ChinaTimeZoneId, out var zone)
        ? zone
        : TimeZoneInfo.CreateCustomTimeZone(ChinaTimeZoneId, TimeSpan.FromHours(8), ChinaTimeZoneId, ChinaTimeZoneId);

    /// <summary><paramref name="amountMinor"/> of <paramref name="currency"/> (ISO 4217 numeric, as orders carry it), e.g. ¥1,234.56.</summary>
    public string Money(long amountMinor, string currency) =>
        string.Format(CultureInfo.InvariantCulture, currency == Orders.OrderRules.Cny ? text["AmountCny"] : text["AmountOther"], Digits(amountMinor), currency);

    /// <summary><paramref name="instant"/> in China time, in the request's language's pattern.</summary>
    public string ChinaTime(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, ChinaTimeZone).ToString(text["DateTimePattern"], CultureInfo.InvariantCulture);

    /// <summary>The time now in China, from the platform's clock.</summary>
    public string ChinaTimeNow() => ChinaTime(time.GetUtcNow());

    /// <summary>The digits of an amount of two minor digits, grouped by thousands: 123456 is 1,234.56; exact for every <c>long</c>.</summary>
    public static string Digits(long amountMinor)
    {
        var magnitude = amountMinor < 0 ? (ulong)(-(amountMinor + 1)) + 1 : (ulong)amountMinor;
        return (amountMinor < 0 ? "-" : "") + (magnitude / 100).ToString("N0", CultureInfo.InvariantCulture) + "."
            + (magnitude % 100).ToString("D2", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// An amount in the invariant, English form (¥1,234.56, or the currency's code before the digits), for text that is not a
    /// localized page's: messages built in code and machine-read exports.
    /// </summary>
    public static string Invariant(long amountMinor, string currency) =>
        (currency == Orders.OrderRules.Cny ? "¥" : currency + " ") + Digits(amountMinor);
}
