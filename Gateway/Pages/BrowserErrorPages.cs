using System.Globalization;
using Mesh.Gateway.Localization;
using Microsoft.AspNetCore.Localization;

namespace Mesh.Gateway.Pages;

/// <summary>
/// What a person's browser gets when no page could answer: the platform briefly unavailable (503) or no such page (404), as a page
/// in the person's language. A program (no <c>text/html</c> in <c>Accept</c>) gets RFC 9457 problem details, as before.
/// </summary>
public static class BrowserErrorPages
{
    public static bool WantsHtml(HttpRequest request) => request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    public static Task WriteAsync(HttpContext context, int statusCode, Words title, Words detail)
    {
        // The culture the localization middleware chose does not flow back out to an exception handler or to the status code
        // pages, which run outside it: take it again from the request.
        if (context.Features.Get<IRequestCultureFeature>() is { } chosen)
        {
            CultureInfo.CurrentCulture = chosen.RequestCulture.Culture;
            CultureInfo.CurrentUICulture = chosen.RequestCulture.UICulture;
        }
        return PaymentPages.Error(statusCode, title, detail).ExecuteAsync(context);
    }

    /// <summary>Status code pages: a 404 without a body is a page for a browser; everything else is problem details.</summary>
    public static IApplicationBuilder UseBrowserStatusCodePages(this IApplicationBuilder app)
    {
        var problemDetails = new StatusCodePagesOptions().HandleAsync;
        return app.UseStatusCodePages(status =>
            status.HttpContext.Response.StatusCode == StatusCodes.Status404NotFound && WantsHtml(status.HttpContext.Request)
                ? WriteAsync(status.HttpContext, StatusCodes.Status404NotFound, "No such page", "The address may be mistyped, or the page has moved.")
                : problemDetails(status));
    }
}
