namespace Mesh.Shop;

public sealed class ShopOptions
{
    public const string Section = "Shop";

    /// <summary>The shop's merchant id at the platform (15 digits).</summary>
    public string MerchantId { get; set; } = "";

    /// <summary>The shop's private key (PEM), a file only the shop reads.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>The gateway's merchant API.</summary>
    public string GatewayUrl { get; set; } = "";

    /// <summary>Where the platform and consumers reach the shop (notifications, the return page).</summary>
    public string PublicUrl { get; set; } = "";
}
