namespace Mesh.Gateway.Options;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";
    public const int AdminKeyCharsMin = 32;

    /// <summary>The operators' key for <c>/admin</c> (the AppHost's <c>gateway-admin-key</c> parameter).</summary>
    public string AdminKey { get; set; } = "";
}
