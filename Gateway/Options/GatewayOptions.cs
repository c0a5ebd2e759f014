namespace Mesh.Gateway.Options;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";
    public const int AdminKeyCharsMin = 32;

    /// <summary>The longest pay-by time an installation may allow: 30 days.</summary>
    public const int PayMinutesLimit = 43_200;

    /// <summary>The operators' key for <c>/admin</c> (the AppHost's <c>gateway-admin-key</c> parameter).</summary>
    public string AdminKey { get; set; } = "";

    /// <summary>The largest order accepted, in minor units (1,000,000.00 CNY by default).</summary>
    public long OrderAmountMinorMax { get; set; } = 100_000_000;

    /// <summary>How long a consumer's payment page stays usable.</summary>
    public int PaymentSessionMinutes { get; set; } = 15;

    /// <summary>How long a consumer has to pay an order whose merchant set no pay-by time (NetPay orders, and /v1 orders without payTimeout).</summary>
    public int PayMinutesDefault { get; set; } = 30;

    /// <summary>How far ahead a merchant may set an order's pay-by time (/v1 payTimeout).</summary>
    public int PayMinutesMax { get; set; } = 10_080;

    /// <summary>
    /// The fallback poll of the background closing of orders past their pay-by time: it sleeps until the earliest
    /// pay-by time it knows of, and looks at least this often for orders created since (by any replica).
    /// </summary>
    public int CloseExpiredPollMs { get; set; } = 5_000;

    /// <summary>The longest an installation may let a hold stand: 30 days, as card schemes allow a pre-authorization.</summary>
    public const int HoldExpiryDaysLimit = 30;

    /// <summary>
    /// How many days an approved hold (a <c>/v1</c> order of capture mode <c>hold</c>) stands uncaptured before the platform
    /// releases it and tells the merchant: 1 to <see cref="HoldExpiryDaysLimit"/>.
    /// </summary>
    public int HoldExpiryDays { get; set; } = 7;

    /// <summary>
    /// The fallback poll of the background release of expired holds: it sleeps until the earliest expiry it knows of, and looks
    /// at least this often for holds approved since (by any replica).
    /// </summary>
    public int HoldExpiryPollMs { get; set; } = 60_000;

    /// <summary>Wrong PINs on one order before it fails.</summary>
    public int WrongPinsMax { get; set; } = 3;

    /// <summary>How the page encrypts the PIN: <c>ecdh</c> (P-256 + AES-GCM) or <c>rsa-oaep</c> (payShield-compatible).</summary>
    public string PinTransport { get; set; } = "ecdh";

    /// <summary>The deadline of one call to the switch; the switch itself answers 91 after its issuer timeout.</summary>
    public int SwitchDeadlineMs { get; set; } = 30_000;

    /// <summary>A payment still unresolved this long after it was sent is looked up at the switch.</summary>
    public int ResolveAfterMs { get; set; } = 35_000;

    /// <summary>
    /// The fallback poll of the look-ups of unresolved payments and refunds, which finds the answers marked unknown since:
    /// otherwise the resolver sleeps until the earliest payment or refund in flight comes to <see cref="ResolveAfterMs"/>,
    /// or a second while one it looked up is still unknown.
    /// </summary>
    public int ResolvePollMs { get; set; } = 5_000;

    /// <summary>
    /// The settlement relay's fallback poll: a writer in this process rings it when its rows are committed; this finds
    /// the rows nobody rang for (another replica's, one that stopped).
    /// </summary>
    public int SettlementRelayPollMs { get; set; } = 5_000;

    /// <summary>The longest fallback poll a background worker may be given: ten minutes.</summary>
    public const int PollMsMax = 600_000;

    /// <summary>How far a signed query's timestamp may be from the gateway's clock.</summary>
    public int QueryClockSkewSeconds { get; set; } = 300;

    /// <summary>Where consumers reach the payment page (the gateway's HTTPS address): /v1 orders' payUrl starts with it.</summary>
    public string PaymentPageBaseUrl { get; set; } = "https://localhost:5443";

    /// <summary>
    /// The business day's cut-off, local time (HH:mm) of <see cref="SettlementTimeZone"/>, as settlement has it: a payment
    /// may be voided until the cut-off that ends its settlement date, and only refunded after.
    /// </summary>
    public string SettlementCutoffLocalTime { get; set; } = "23:00";

    /// <summary>The longest an installation may keep a closed merchant's data: 30 years.</summary>
    public const int MerchantRetentionDaysLimit = 10_950;

    /// <summary>
    /// How long a closed merchant's orders, payments, refunds and audit stay in the database after it closed (in days, 1 to
    /// <see cref="MerchantRetentionDaysLimit"/>): recorded on the merchant as <c>retain_until</c>; nothing is deleted by the gateway.
    /// </summary>
    public int MerchantRetentionDays { get; set; } = 1_825;

    /// <summary>
    /// The fallback poll of the closing of offboarding merchants (each closes once its last settlement batch is paid); a payout
    /// recorded in the operator console wakes it at once.
    /// </summary>
    public int OffboardingPollMs { get; set; } = 60_000;

    /// <summary>The time zone of settlement's business day (an IANA id).</summary>
    public string SettlementTimeZone { get; set; } = "Asia/Shanghai";
}
