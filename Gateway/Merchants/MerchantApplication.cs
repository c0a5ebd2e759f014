using System.Text.RegularExpressions;
using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Merchants;

/// <summary>What an operator sends to onboard a merchant.</summary>
public sealed partial record MerchantApplication(
    string? MerchantId,
    string? Name,
    string? PublicKeyPem,
    string? NotificationMode,
    string? NotificationProtocol,
    int FeeRatePpm,
    long FeeMinimumMinor,
    string? SettlementAccount,
    string[]? NotifyAllowList = null,
    string? TlsPinnedSha256 = null,
    string[]? ReturnUrlPrefixes = null,
    string? SettlementBank = null)
{
    public const int AllowListEntriesMax = 10;

    public const int NameCharsMax = 100;
    public const int FeeRatePpmMax = 100_000;
    public static readonly string[] NotificationModes = ["realtime", "deferred", "redirect"];
    public static readonly string[] NotificationProtocols = ["plain", "envelope", "https"];

    /// <summary>Every field's problem in words, by field name (empty when the application is good); <c>/v1</c> answers their English.</summary>
    public Dictionary<string, Words[]> Problems()
    {
        var problems = new Dictionary<string, Words[]>(StringComparer.Ordinal);
        void Check(bool ok, string field, Words rule)
        {
            if (!ok)
            {
                problems[field] = [rule];
            }
        }
        Check(MerchantId is not null && MerchantIdFormat().IsMatch(MerchantId), "merchantId", "15 digits");
        Check(!string.IsNullOrWhiteSpace(Name) && Name.Length <= NameCharsMax, "name", new Words("1 to {0} characters", NameCharsMax));
        Check(NotificationModes.Contains(NotificationMode), "notificationMode", new Words("{0}", string.Join(", ", NotificationModes)));
        Check(NotificationProtocols.Contains(NotificationProtocol), "notificationProtocol", new Words("{0}", string.Join(", ", NotificationProtocols)));
        Check(FeeRatePpm is >= 0 and <= FeeRatePpmMax, "feeRatePpm", new Words("0 to {0} parts per million (at most 10%)", FeeRatePpmMax));
        Check(FeeMinimumMinor is >= 0 and <= 100_000_000, "feeMinimumMinor", "0 to 100000000 minor units");
        Check(SettlementAccount is not null && AccountFormat().IsMatch(SettlementAccount), "settlementAccount", "6 to 34 letters and digits");
        Check(SettlementBank is null || BicFormat().IsMatch(SettlementBank), "settlementBank",
            "the BIC of the bank that holds the settlement account: 8 or 11 letters and digits (ICBKCNBJ, PCBCCNBJXXX); absent, the platform's own settlement bank");
        Check(NotifyAllowList is null || (NotifyAllowList.Length <= AllowListEntriesMax && NotifyAllowList.All(e => System.Net.IPNetwork.TryParse(e, out _))),
            "notifyAllowList", new Words("at most {0} networks in CIDR form (10.1.2.0/24) that notifications may reach although private", AllowListEntriesMax));
        if (Merchants.ReturnUrlPrefixes.Refusal(ReturnUrlPrefixes ?? [], NotificationProtocol ?? "") is { } refusal)
        {
            problems["returnUrlPrefixes"] = [refusal];
        }
        Check(TlsPinnedSha256 is null || PinFormat().IsMatch(TlsPinnedSha256), "tlsPinnedSha256",
            "the SHA-256 of the merchant's TLS certificate, 64 lower-case hex digits");
        return problems;
    }

    [GeneratedRegex("^[0-9]{15}$")]
    private static partial Regex MerchantIdFormat();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex PinFormat();

    [GeneratedRegex("^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")]
    private static partial Regex BicFormat();

    [GeneratedRegex("^[A-Za-z0-9]{6,34}$")]
    private static partial Regex AccountFormat();
}
