namespace Mesh.Switch.Options;

public sealed class SwitchOptions
{
    public const string Section = "Switch";

    public List<IssuerLinkOptions> Issuers { get; set; } = [];

    /// <summary>How long an echo or sign-on waits for its 0810.</summary>
    public int EchoTimeoutMs { get; set; } = 5_000;

    /// <summary>Longest wait between reconnection attempts to an issuer.</summary>
    public int ReconnectDelayMsMax { get; set; } = 5_000;

    /// <summary>This switch's institution id, sent in field 33 (forwarding institution).</summary>
    public string InstitutionId { get; set; } = "00010000";
}

public sealed class IssuerLinkOptions
{
    /// <summary>The resource name, e.g. <c>issuer-icbc</c>.</summary>
    public string Name { get; set; } = "";

    public string BankId { get; set; } = "";

    /// <summary><c>tcp://host:port</c> of the bank's ISO 8583 listener.</summary>
    public string Endpoint { get; set; } = "";

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
