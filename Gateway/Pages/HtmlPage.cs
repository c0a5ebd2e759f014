namespace Mesh.Gateway.Pages;

/// <summary>An HTML page written as text, with <see cref="PageHeaders"/>.</summary>
public sealed class HtmlPage(string html, int statusCode, string? formAction = null) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        PageHeaders.Apply(context.Response, formAction);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html, context.RequestAborted);
    }
}
