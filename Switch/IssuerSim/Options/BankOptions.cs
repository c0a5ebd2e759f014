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
}

public sealed class Iso8583ListenerOptions
{
    public const string Section = "Iso8583";

    public int Port { get; set; }

    public string BindAddress { get; set; } = "127.0.0.1";
}
