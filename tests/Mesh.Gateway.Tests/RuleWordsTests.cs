using System.Collections;
using System.Globalization;
using System.Resources;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Grpc.Core;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Platform;
using Mesh.Gateway.Risk;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The refusals of the rules <c>/v1</c> and the consoles share, driven with bad input: each is worded in
/// <c>ConsoleText.zh-CN.resx</c> with the placeholders of its English pattern (so a new rule's words without a
/// translation fail here, not on a Chinese page), and its English is, word for word, what <c>/v1</c> answered before.
/// </summary>
public sealed partial class RuleWordsTests
{
    private static readonly ResourceManager Resources = new(typeof(ConsoleText).FullName!, typeof(ConsoleText).Assembly);

    /// <summary>Each rule's words for a bad input, and the English they must say.</summary>
    private static List<(string Rule, Words Words, string English)> Refusals()
    {
        var data = new List<(string, Words, string)>();
        void Add(string rule, Words? words, string english) => data.Add((rule, words ?? throw new InvalidOperationException(rule + " refused nothing"), english));

        foreach (var field in new[] { "the limit per payment", "the limit per day", "the cap per payment", "the cap per day" })
        {
            Add("RiskRules.Limit", Single(problems => RiskRules.Limit(field, "12.50", problems)),
                field + " is blank (no limit) or 1 to 1000000000000 minor units, digits only");
        }
        var velocity = new List<Words>();
        RiskRules.Velocity("-1", "abc", "0", velocity);
        Add("RiskRules.Velocity attempts", velocity[0], "attempts per card is 0 to 10000, digits only");
        Add("RiskRules.Velocity amount", velocity[1], "amount per card is 0 to 1000000000000, digits only");
        Add("RiskRules.Velocity window", velocity[2], "window minutes is 1 to 10080, digits only");
        var looser = new List<Words>();
        RiskRules.NotLooserThanCaps(new MerchantLimits("777290058110097", "156", 5_000, 100_000, null, null, null), 6_000, 200_000, looser);
        Add("RiskRules.NotLooserThanCaps per payment", looser[0], "the limit per payment may not be looser than the platform's cap of 5000 minor units");
        Add("RiskRules.NotLooserThanCaps per day", looser[1], "the limit per day may not be looser than the platform's cap of 100000 minor units");
        Add("RiskRules.Network host bits", Single(problems => RiskRules.Network("10.0.0.1/8", problems)),
            "10.0.0.1/8 has bits set after its /8 prefix: write the network's first address");
        Add("RiskRules.Network", Single(problems => RiskRules.Network("example.com", problems)),
            "the network is an IPv4 or IPv6 address, or a CIDR prefix such as 203.0.113.0/24 or 2001:db8::/32");
        Add("RiskRules.Reason", Single(problems => RiskRules.Reason("", problems)), "the reason is 1 to 200 characters, without control characters");

        Add("MerchantKey.Parse blank", MerchantKey.Parse(null).Refusal, "a PEM public key or certificate of at most 16384 characters");
        Add("MerchantKey.Parse label", MerchantKey.Parse("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").Refusal,
            "the PEM label is PUBLIC KEY or CERTIFICATE");
        Add("MerchantKey.Parse unreadable", MerchantKey.Parse("not a key").Refusal, "not a readable PEM public key or certificate");
        Add("MerchantKey.Parse RSA size", MerchantKey.Parse(RsaPem(512)).Refusal, "an RSA key of 1024 to 4096 bits");
        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
        {
            Add("MerchantKey.Parse curve", MerchantKey.Parse(p384.ExportSubjectPublicKeyInfoPem()).Refusal, "an EC key on P-256");
        }
        Add("MerchantKey.Parse algorithm", MerchantKey.Parse(Ed25519Pem).Refusal, "an RSA or ECDSA P-256 public key");

        Add("KeyRotation.OverlapRefusal", KeyRotation.OverlapRefusal(31), "the overlap is 0 to 30 days");
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ecdsa = MerchantKey.Parse(p256.ExportSubjectPublicKeyInfoPem()).Key!;
        var (rsa1024, rsa2048) = (MerchantKey.Parse(RsaPem(1024)).Key!, MerchantKey.Parse(RsaPem(2048)).Key!);
        Add("KeyRotation.Breaks NetPay, RSA", KeyRotation.Breaks(MerchantKey.Rsa, 1024, rsa2048, confirmed: false),
            "NetPay forms need an RSA-1024 key (ChkValue is RSA SHA-1, 256 hex digits): with an RSA-2048 key, every purchase form (/pay/TransGet), "
            + "refund (/pay/Refund) and order query (/pay/Query) you sign is refused once the old key's overlap ends. Confirm that you stop using NetPay forms to replace it anyway");
        Add("KeyRotation.Breaks NetPay, ECDSA", KeyRotation.Breaks(MerchantKey.Rsa, 1024, ecdsa, confirmed: false),
            "NetPay forms need an RSA-1024 key (ChkValue is RSA SHA-1, 256 hex digits): with an ECDSA P-256 key, every purchase form (/pay/TransGet), "
            + "refund (/pay/Refund) and order query (/pay/Query) you sign is refused once the old key's overlap ends. Confirm that you stop using NetPay forms to replace it anyway");
        Add("KeyRotation.Breaks /v1", KeyRotation.Breaks(MerchantKey.EcdsaP256, 256, rsa1024, confirmed: false),
            "/v1 needs RSA of 2048 bits or more, or ECDSA P-256: with an RSA-1024 key, every /v1 request you sign is refused once the old key's overlap ends. "
            + "Confirm that you stop using /v1 to replace it anyway");

        Add("ReturnUrlPrefixes.Refusal", ReturnUrlPrefixes.Refusal(["ftp://shop.example/"], "plain"),
            "at most 10 absolute http(s) addresses of at most 200 characters, without credentials, query or fragment, that NetPay's BgRetUrl and PageRetUrl must lie under");
        Add("ReturnUrlPrefixes.Refusal https", ReturnUrlPrefixes.Refusal(["http://shop.example/"], "https"),
            "https addresses only: the https notification protocol never sends to http");

        var application = new MerchantApplication("1", "", "not a key", "loud", "carrier pigeon", -1, -1, "!", ["not a network"], "X", ["ftp://shop.example/"], "x");
        foreach (var (field, english) in new Dictionary<string, string>
        {
            ["merchantId"] = "15 digits",
            ["name"] = "1 to 100 characters",
            ["publicKeyPem"] = "not a readable PEM public key or certificate",
            ["notificationMode"] = "realtime, deferred, redirect",
            ["notificationProtocol"] = "plain, envelope, https",
            ["feeRatePpm"] = "0 to 100000 parts per million (at most 10%)",
            ["feeMinimumMinor"] = "0 to 100000000 minor units",
            ["settlementAccount"] = "6 to 34 letters and digits",
            ["settlementBank"] = "the BIC of the bank that holds the settlement account: 8 or 11 letters and digits (ICBKCNBJ, PCBCCNBJXXX); "
                + "absent, the platform's own settlement bank",
            ["notifyAllowList"] = "at most 10 networks in CIDR form (10.1.2.0/24) that notifications may reach although private",
            ["returnUrlPrefixes"] = "at most 10 absolute http(s) addresses of at most 200 characters, without credentials, query or fragment, "
                + "that NetPay's BgRetUrl and PageRetUrl must lie under",
            ["tlsPinnedSha256"] = "the SHA-256 of the merchant's TLS certificate, 64 lower-case hex digits",
        })
        {
            Add("MerchantsAdminApi.Check " + field, ByField(MerchantsAdminApi.Check(application).Problems, field), $"{field}: {english}");
        }
        var envelope = new MerchantApplication("808080000000001", "Tea", p256.ExportSubjectPublicKeyInfoPem(), "deferred", "envelope", 6_000, 100, "1202020209000012345");
        Add("MerchantsAdminApi.Check envelope", ByField(MerchantsAdminApi.Check(envelope).Problems, "notificationProtocol"),
            "notificationProtocol: envelope needs an RSA key or certificate to encrypt to");

        var user = MerchantsAdminApi.UserProblems(new MerchantsAdminApi.ConsoleUserApplication("no spaces please", "owner", "short"), ConsoleRoles.All);
        Add("MerchantsAdminApi.UserProblems operatorId", ByField(user, "operatorId"), "operatorId: 1 to 32 of A-Z a-z 0-9 _ . -");
        Add("MerchantsAdminApi.UserProblems role", ByField(user, "role"), "role: " + string.Join(", ", ConsoleRoles.All));
        Add("MerchantsAdminApi.UserProblems password", ByField(user, "password"), "password: 12 to 128 characters");
        Add("MerchantsAdminApi.UserProblems, all", Words.ByField(user),
            "operatorId: 1 to 32 of A-Z a-z 0-9 _ . -; role: " + string.Join(", ", ConsoleRoles.All) + "; password: 12 to 128 characters");

        Add("MerchantOffboarding.InFlight", MerchantOffboarding.InFlight(2, 1), "2 payments in flight or holds standing, 1 settlement events not yet relayed");
        Add("MerchantOffboarding.Unpaid", MerchantOffboarding.Unpaid(42, "2026-12-05", "sent"), "batch 42 of 2026-12-05 is sent");
        Add("MerchantOffboarding.NotInAPaidBatch", MerchantOffboarding.NotInAPaidBatch(1_234, "156"), "1234 minor units (156) are not yet in a paid batch");
        Add("PlatformKeyRotation.Refusal", PlatformKeyRotation.Refusal(new RpcException(new Status(StatusCode.FailedPrecondition, "the version changed"))),
            "The HSM refused the rotation: the version changed");
        return data;
    }

    [Fact]
    public void EveryRulesRefusal_SaysTheSameEnglishAsBefore()
    {
        var changed = Refusals().Where(r => r.Words.English() != r.English).Select(r => $"{r.Rule}: \"{r.Words.English()}\", not \"{r.English}\"").ToList();

        Assert.True(changed.Count == 0, string.Join("\n", changed));
    }

    [Fact]
    public void EveryRulesRefusal_IsWordedInChinese_WithItsPatternsPlaceholders()
    {
        var chinese = Chinese();
        var missing = new List<string>();
        foreach (var (rule, words, _) in Refusals())
        {
            foreach (var pattern in Patterns(words))
            {
                if (!chinese.TryGetValue(pattern, out var value))
                {
                    missing.Add($"{rule}: ConsoleText.zh-CN.resx has no \"{pattern}\"");
                }
                else if (!Placeholders(pattern).SequenceEqual(Placeholders(value)))
                {
                    missing.Add($"{rule}: \"{value}\" does not take the placeholders of \"{pattern}\"");
                }
            }
        }

        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public void ARulesRefusal_OnAChinesePage_IsChinese()
    {
        var text = new ConsoleLocalizer<MerchantConsoleText>(new Microsoft.Extensions.Localization.ResourceManagerStringLocalizerFactory(
            Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Localization.LocalizationOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        var problems = new List<Words>();
        RiskRules.Limit("the limit per payment", "-5", problems);
        RiskRules.Reason("", problems);
        var (chinese, english) = (Said(PageCultures.Chinese), Said(PageCultures.English));

        Assert.Equal("单笔限额留空（不限）或为 1 到 1000000000000 分，仅限数字；原因须为 1 到 200 个字符，不含控制字符", chinese);
        Assert.Equal("the limit per payment is blank (no limit) or 1 to 1000000000000 minor units, digits only; "
            + "the reason is 1 to 200 characters, without control characters", english);

        string Said(string culture)
        {
            using var _ = new UiCulture(culture);
            return text.Say(Words.List(problems));
        }
    }

    /// <summary>The resource keys <paramref name="words"/> is said with: its own and its worded arguments', but not a list's joining pattern.</summary>
    private static IEnumerable<string> Patterns(Words words)
    {
        if (!OnlyPlaceholders().IsMatch(words.Text))
        {
            yield return words.Text;
        }
        foreach (var inner in words.Args.OfType<Words>().SelectMany(Patterns))
        {
            yield return inner;
        }
    }

    private static Words Single(Action<List<Words>> rule)
    {
        var problems = new List<Words>();
        rule(problems);
        return Assert.Single(problems);
    }

    private static Words ByField(Dictionary<string, Words[]> problems, string field) =>
        Words.ByField(problems.Where(p => p.Key == field));

    /// <summary>The Chinese resource itself: a key it lacks is not found in the English one instead.</summary>
    private static Dictionary<string, string> Chinese() =>
        Resources.GetResourceSet(CultureInfo.GetCultureInfo(PageCultures.Chinese), createIfNotExists: true, tryParents: false)!.Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string)e.Value!, StringComparer.Ordinal);

    private static string[] Placeholders(string text) => [.. Placeholder().Matches(text).Select(m => m.Value).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>A public key of <paramref name="bits"/> bits (its modulus random, as a public key may be): nothing is generated.</summary>
    private static string RsaPem(int bits)
    {
        var modulus = RandomNumberGenerator.GetBytes(bits / 8);
        modulus[0] |= 0x80;
        modulus[^1] |= 1;
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = [1, 0, 1] });
        return rsa.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>An Ed25519 public key: neither RSA nor ECDSA.</summary>
    private const string Ed25519Pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----";

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(\{\d+\})+$")]
    private static partial Regex OnlyPlaceholders();
}
