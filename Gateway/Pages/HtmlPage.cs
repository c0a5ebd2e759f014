namespace Mesh.Gateway.Pages;

/// <summary>
/// An HTML page with the headers every page of the platform carries (the payment pages and the
/// consoles): no caching, no framing, only the platform's own scripts and styles, forms posted
/// only to the platform (and to <c>formAction</c>, the merchant's return address, when given).
/// </summary>
public sealed class HtmlPage(string html, int statusCode, string? formAction = null) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; "
            + $"form-action 'self'{(formAction is null ? "" : " " + formAction)}; frame-ancestors 'none'; base-uri 'none'";
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html, context.RequestAborted);
    }
}
