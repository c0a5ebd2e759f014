using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Risk;

/// <summary>
/// The stable codes of the risk controls' refusals: the merchant reads the exact one (its <c>/v1</c> answers' and
/// notifications' <c>respCode</c>, its console); the consumer sees the limits' codes, but a velocity or block refusal
/// only as <see cref="Declined"/>, so a card tester learns nothing about which list matched.
/// </summary>
public static class RiskCodes
{
    public const string LimitPerPayment = "risk.limit_per_payment";
    public const string LimitPerDay = "risk.limit_per_day";
    public const string Velocity = "risk.velocity";
    public const string BlockedCard = "risk.blocked_card";
    public const string BlockedNetwork = "risk.blocked_network";

    /// <summary>What the consumer's page shows for a velocity or block refusal.</summary>
    public const string Declined = "risk.declined";

    public static readonly string[] All = [LimitPerPayment, LimitPerDay, Velocity, BlockedCard, BlockedNetwork];

    public static bool IsRisk(string? code) => code is not null && code.StartsWith("risk.", StringComparison.Ordinal);

    /// <summary>The code the consumer sees for <paramref name="code"/>.</summary>
    public static string ForConsumer(string code) => code is LimitPerPayment or LimitPerDay ? code : Declined;

    /// <summary>The consumer's words for <paramref name="code"/>: nothing of the lists, the counters or the merchant's figures.</summary>
    public static string ConsumerMessage(string code) => code switch
    {
        LimitPerPayment => "The amount is over what this merchant accepts in one payment. You have not been charged.",
        LimitPerDay => "The merchant cannot accept this payment today. You have not been charged.",
        _ => "The payment was declined by risk controls. You have not been charged. Please use another card or contact the merchant.",
    };
}

/// <summary>A merchant's limits in one currency: the operator's caps and the merchant's own. Null: no limit.</summary>
public sealed record MerchantLimits(string MerchantId, string Currency, long? CapPerPaymentMinor, long? CapPerDayMinor, long? MerchantPerPaymentMinor,
    long? MerchantPerDayMinor, DateTimeOffset? UpdatedAt)
{
    public static MerchantLimits None(string merchantId, string currency) => new(merchantId, currency, null, null, null, null, null);

    public long? PerPaymentMinor => Tighter(CapPerPaymentMinor, MerchantPerPaymentMinor);

    public long? PerDayMinor => Tighter(CapPerDayMinor, MerchantPerDayMinor);

    private static long? Tighter(long? a, long? b) => a is { } x && b is { } y ? Math.Min(x, y) : a ?? b;

    /// <summary>The per-payment refusal of <paramref name="amountMinor"/>, or null.</summary>
    public string? RefusesPayment(long amountMinor) => PerPaymentMinor is { } max && amountMinor > max ? RiskCodes.LimitPerPayment : null;
}

/// <summary>The platform's velocity settings per card: attempts and amount per window (0: that limit is off).</summary>
public sealed record VelocitySettings(int AttemptsMax, long AmountMinorMax, int WindowMinutes, DateTimeOffset? UpdatedAt = null)
{
    /// <summary>The start of the fixed window <paramref name="at"/> falls in (windows are aligned to the Unix epoch).</summary>
    public DateTimeOffset WindowStart(DateTimeOffset at)
    {
        var seconds = WindowMinutes * 60L;
        return DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds() / seconds * seconds);
    }
}

/// <summary>
/// The rules of what people may set: every figure read strictly (digits only, no sign), within a named bound, and a
/// merchant's own limit never looser than the operator's cap. Each check adds its problem in words and returns null.
/// </summary>
public static class RiskRules
{
    /// <summary>The largest limit anyone may set: 10,000,000,000.00 in minor units.</summary>
    public const long LimitMinorMax = 1_000_000_000_000;

    public const int AttemptsMaxLimit = 10_000;
    public const int WindowMinutesMax = 7 * 24 * 60;
    public const int ReasonCharsMax = 200;
    public const int RefusalsListed = 200;

    /// <summary>A limit field: blank is no limit; otherwise 1 to <see cref="LimitMinorMax"/> minor units.</summary>
    public static long? Limit(Words field, string? text, List<Words> problems)
    {
        var value = (text ?? "").Trim();
        if (value.Length == 0)
        {
            return null;
        }
        if (value.Length <= 13 && value.All(char.IsAsciiDigit) && long.Parse(value, CultureInfo.InvariantCulture) is > 0 and <= LimitMinorMax and var minor)
        {
            return minor;
        }
        problems.Add(new Words("{0} is blank (no limit) or 1 to {1} minor units, digits only", field, LimitMinorMax));
        return null;
    }

    /// <summary>A whole number from 0 to <paramref name="max"/>.</summary>
    public static long Count(Words field, string? text, long min, long max, List<Words> problems)
    {
        var value = (text ?? "").Trim();
        if (value.Length is > 0 and <= 13 && value.All(char.IsAsciiDigit) && long.Parse(value, CultureInfo.InvariantCulture) is var n && n >= min && n <= max)
        {
            return n;
        }
        problems.Add(new Words("{0} is {1} to {2}, digits only", field, min, max));
        return min;
    }

    /// <summary>The merchant's own limits checked against the operator's caps: never looser (none is the cap itself), and the error says so.</summary>
    public static void NotLooserThanCaps(MerchantLimits caps, long? perPaymentMinor, long? perDayMinor, List<Words> problems)
    {
        if (caps.CapPerPaymentMinor is { } payment && perPaymentMinor > payment)
        {
            problems.Add(new Words("the limit per payment may not be looser than the platform's cap of {0} minor units", payment));
        }
        if (caps.CapPerDayMinor is { } day && perDayMinor > day)
        {
            problems.Add(new Words("the limit per day may not be looser than the platform's cap of {0} minor units", day));
        }
    }

    public static VelocitySettings? Velocity(string? attempts, string? amount, string? window, List<Words> problems)
    {
        var before = problems.Count;
        var settings = new VelocitySettings((int)Count("attempts per card", attempts, 0, AttemptsMaxLimit, problems),
            Count("amount per card", amount, 0, LimitMinorMax, problems), (int)Count("window minutes", window, 1, WindowMinutesMax, problems));
        return problems.Count == before ? settings : null;
    }

    /// <summary>
    /// An address or CIDR prefix, IPv4 or IPv6, in its canonical form (host bits must be zero, as PostgreSQL's
    /// <c>cidr</c> requires); null with a problem when it is not one.
    /// </summary>
    public static string? Network(string? text, List<Words> problems)
    {
        var value = (text ?? "").Trim();
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? value : value[..slash];
        if (value.Length is > 0 and <= 64 && IPAddress.TryParse(addressText, out var address) && !addressText.Contains('%', StringComparison.Ordinal)
            && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var prefixText = slash < 0 ? bits.ToString(CultureInfo.InvariantCulture) : value[(slash + 1)..];
            if (prefixText.Length is > 0 and <= 3 && prefixText.All(char.IsAsciiDigit) && int.Parse(prefixText, CultureInfo.InvariantCulture) is var prefix
                && prefix <= bits)
            {
                if (HostBitsZero(address.GetAddressBytes(), prefix))
                {
                    return $"{address}/{prefix}";
                }
                problems.Add(new Words("{0} has bits set after its /{1} prefix: write the network's first address", value, prefix));
                return null;
            }
        }
        problems.Add(new Words("the network is an IPv4 or IPv6 address, or a CIDR prefix such as 203.0.113.0/24 or 2001:db8::/32"));
        return null;
    }

    private static bool HostBitsZero(byte[] bytes, int prefix)
    {
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return false;
            }
        }
        return true;
    }

    public static string? Reason(string? text, List<Words> problems)
    {
        var value = (text ?? "").Trim();
        if (value.Length is > 0 and <= ReasonCharsMax && !value.Any(char.IsControl))
        {
            return value;
        }
        problems.Add(new Words("the reason is 1 to {0} characters, without control characters", ReasonCharsMax));
        return null;
    }
}
