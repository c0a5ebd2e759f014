using Mesh.Iso8583.Channel;

namespace Mesh.Switch.Options;

public sealed class SwitchOptions
{
    public const string Section = "Switch";

    public List<IssuerLinkOptions> Issuers { get; set; } = [];

    /// <summary>
    /// The switch's certificate and key for its ISO links (client authentication) and the scheme's
    /// trust anchor; each bank must present a certificate naming the link (<see cref="IssuerLinkOptions.Name"/>).
    /// </summary>
    public IsoLinkTlsOptions IsoTls { get; set; } = new();

    /// <summary>How long an echo or sign-on waits for its 0810.</summary>
    public int EchoTimeoutMs { get; set; } = 5_000;

    /// <summary>Longest wait between reconnection attempts to an issuer.</summary>
    public int ReconnectDelayMsMax { get; set; } = 5_000;

    /// <summary>This switch's institution id, sent in field 33 (forwarding institution).</summary>
    public string InstitutionId { get; set; } = "00010000";

    public List<AcquirerOptions> Acquirers { get; set; } = [];

    /// <summary>How long a 0200 waits for the issuer before its outcome is unknown (answered 91, reversed).</summary>
    public int AuthorizationTimeoutMs { get; set; } = 10_000;

    /// <summary>An idle link sends an echo (0800/301) this often.</summary>
    public int EchoIntervalMs { get; set; } = 30_000;

    /// <summary>
    /// The reversal queue's fallback poll: it sleeps until its earliest advice is due or an advice is queued in this
    /// process; this finds advices queued by another replica.
    /// </summary>
    public int ReversalPollMs { get; set; } = 5_000;

    /// <summary>Longest wait between two repeats of one reversal advice.</summary>
    public int ReversalBackoffMsMax { get; set; } = 60_000;

    /// <summary>Advices claimed at once by one switch replica.</summary>
    public int ReversalBatchMax { get; set; } = 50;

    /// <summary>How often each link's ZPK and ZAK change (0800/101), from the link's first start on; an operator may change them at any time.</summary>
    public int ZoneKeyChangeIntervalMinutes { get; set; } = 1_440;

    /// <summary>
    /// How long a changed zone key's previous version is still accepted, at both ends, before it is
    /// refused: at least one authorization timeout, so a request in flight at the change still goes through.
    /// </summary>
    public int ZoneKeyGraceSeconds { get; set; } = 300;

    public const int ZoneKeyChangeIntervalMinutesMax = 525_600;
}

/// <summary>An acquirer (field 32) and the prefix of its keys in the Hsm (<c>.zpk</c>, <c>.zak</c>).</summary>
public sealed class AcquirerOptions
{
    public string Id { get; set; } = "";

    public string KeyPrefix { get; set; } = "";
}

public sealed class IssuerLinkOptions
{
    /// <summary>The resource name, e.g. <c>issuer-icbc</c>.</summary>
    public string Name { get; set; } = "";

    public string BankId { get; set; } = "";

    /// <summary><c>tcp://host:port</c> of the bank's ISO 8583 listener.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>
    /// Card number prefixes routed to this bank when the routing table is first filled; none for a
    /// bank that is onboarded later (OnboardIssuer), whose keys are not exchanged yet.
    /// </summary>
    public List<string> Bins { get; set; } = [];

    /// <summary>The bank's BIN prefixes whose cards are credit cards (paid with expiry and CVV2), whether routed yet or not.</summary>
    public List<string> CreditBins { get; set; } = [];

    /// <summary>
    /// How the bank's zone keys arrive: <c>tr31</c> (TR-31 version D key blocks under an AES ZMK,
    /// the default) or <c>cryptogram</c> (bare 3DES cryptograms, for a bank configured for them).
    /// </summary>
    public string KeyExchange { get; set; } = KeyExchangeForms.Tr31;

    public string ZpkId => $"{Name}.zpk";

    public string ZakId => $"{Name}.zak";

    /// <summary>The key-encrypting key shared with the bank, formed at the key ceremony; zone keys travel under it.</summary>
    public string ZmkId => $"{Name}.zmk";

    public static bool TryParseEndpoint(string endpoint, out string host, out int port)
    {
        host = "";
        port = 0;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "tcp" || uri.Port <= 0)
        {
            return false;
        }
        host = uri.Host;
        port = uri.Port;
        return true;
    }
}

/// <summary>The forms zone keys travel in between the platform and a bank.</summary>
public static class KeyExchangeForms
{
    public const string Tr31 = "tr31";
    public const string Cryptogram = "cryptogram";

    public static bool IsKnown(string form) => form is Tr31 or Cryptogram;
}
