using Mesh.Iso8583.Channel;

namespace Mesh.IssuerSim.Options;

/// <summary>Who this simulated issuing bank is.</summary>
public sealed class BankOptions
{
    public const string Section = "Bank";

    /// <summary>Institution id (field 100 of messages routed here), e.g. <c>01020000</c>.</summary>
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>Card number prefixes this bank issues.</summary>
    public List<string> Bins { get; set; } = [];

    /// <summary>
    /// Which of <see cref="Bins"/> are credit: their cards pay with expiry and CVV2 instead of a PIN. The
    /// first is where the bank's credit test cards are numbered from.
    /// </summary>
    public List<string> CreditBins { get; set; } = [];

    /// <summary>How long a one-time code sent to a cardholder may be used.</summary>
    public int OneTimeCodeMinutes { get; set; } = 5;

    /// <summary>Prefix of this bank's keys in the Hsm: <c>{KeyPrefix}.zpk</c>, <c>.zak</c>, <c>.pvk</c>, <c>.dek</c>, <c>.cvk</c>.</summary>
    public string KeyPrefix { get; set; } = "";

    /// <summary>The Hsm id of the ZMK this bank shares with the platform; its zone keys are exported under it.</summary>
    public string ZmkId { get; set; } = "";

    /// <summary>
    /// How the bank's zone keys leave it: <c>tr31</c> (TR-31 version D key blocks under its AES ZMK,
    /// the default) or <c>cryptogram</c> (bare cryptograms, for a ZMK made before TR-31 or a bank configured so).
    /// </summary>
    public string KeyExchange { get; set; } = "tr31";

    /// <summary>How many extra approvable cards to issue for load tests (0 outside them).</summary>
    public int LoadTestCards { get; set; }

    /// <summary>The bank's schema in issuerdb.</summary>
    public string Schema => SchemaFor(Id);

    /// <summary>Where a bank's tables live in the shared issuerdb.</summary>
    public static string SchemaFor(string? bankId) => $"bank_{bankId}";

    public string ZpkId => $"{KeyPrefix}.zpk";

    public string ZakId => $"{KeyPrefix}.zak";

    public string PvkId => $"{KeyPrefix}.pvk";

    public string DekId => $"{KeyPrefix}.dek";

    public string CvkId => $"{KeyPrefix}.cvk";
}

public sealed class Iso8583ListenerOptions
{
    public const string Section = "Iso8583";

    public int Port { get; set; }

    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>The bank's certificate and key for its listener and the scheme's trust anchor.</summary>
    public IsoLinkTlsOptions Tls { get; set; } = new();

    /// <summary>The one peer the listener serves: the name the switch's client certificate must carry.</summary>
    public string Peer { get; set; } = "switch";
}
