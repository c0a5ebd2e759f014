using System.Security.Cryptography;
using System.Text;

namespace Mesh.Shop.Pages;

/// <summary>
/// What every answer of the shop carries: no framing, no script, only the layout's own style (by its hash), no sniffing, no
/// referrer. Forms may post anywhere the checkout's redirect leads (the platform's payment page), so <c>form-action</c> is not set.
/// </summary>
public static class ShopPageHeaders
{
    private static readonly string ContentSecurityPolicy =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(ShopLayout.Style)))}'; img-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'";

    public static IApplicationBuilder UseShopPageHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        return next(context);
    });
}
