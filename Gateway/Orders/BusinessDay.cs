using System.Globalization;
using Mesh.Gateway.Options;

namespace Mesh.Gateway.Orders;

/// <summary>
/// Settlement's business day as the gateway needs it: an instant belongs to the day that ends at
/// the next cut-off (local time of the settlement time zone, 23:00 Asia/Shanghai by default; at
/// 00:00, midnight), the same day settlement books it on.
/// </summary>
public sealed class BusinessDay(TimeZoneInfo zone, TimeOnly cutoff)
{
    /// <summary>The business day of <paramref name="options"/>; null when its cut-off or time zone cannot be read.</summary>
    public static BusinessDay? TryFrom(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return TimeOnly.TryParseExact(options.SettlementCutoffLocalTime, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var cutoff)
            && TimeZoneInfo.TryFindSystemTimeZoneById(options.SettlementTimeZone, out var zone)
                ? new BusinessDay(zone, cutoff)
                : null;
    }

    /// <summary>The cut-off that ends the business day <paramref name="instant"/> belongs to.</summary>
    public DateTimeOffset EndOf(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var end = local.Date + cutoff.ToTimeSpan();
        if (end <= local)
        {
            end = end.AddDays(1);
        }
        return new DateTimeOffset(end, zone.GetUtcOffset(end));
    }
}
