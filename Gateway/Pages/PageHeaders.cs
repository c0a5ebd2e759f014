namespace Mesh.Gateway.Pages;

/// <summary>
/// The headers every HTML page of the platform carries (the payment pages and the consoles): no
/// caching, no framing, only the platform's own scripts and styles, forms posted only to the
/// platform (and to <c>formAction</c>, the merchant's return address, when given).
/// </summary>
public static class PageHeaders
{
    public static void Apply(HttpResponse response, string? formAction)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; "
            + $"form-action 'self'{(formAction is null ? "" : " " + formAction)}; frame-ancestors 'none'; base-uri 'none'";
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
    }
}
