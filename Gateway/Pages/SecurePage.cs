using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mesh.Gateway.Pages;

/// <summary>
/// A Razor component rendered on the server as a whole page (static SSR: no interactive render mode,
/// no <c>blazor.web.js</c>, so the only scripts are the platform's own), with <see cref="PageHeaders"/>.
/// A minimal API handler answers with it as it would with any other result.
/// </summary>
public sealed class SecurePage<TComponent>(IReadOnlyDictionary<string, object?> parameters, int statusCode, string? formAction) : IResult
    where TComponent : IComponent
{
    public Task ExecuteAsync(HttpContext context)
    {
        PageHeaders.Apply(context.Response, formAction);
        return new RazorComponentResult<TComponent>(parameters)
        {
            StatusCode = statusCode,
            ContentType = "text/html; charset=utf-8",
            PreventStreamingRendering = true,
        }.ExecuteAsync(context);
    }
}

public static class SecurePage
{
    /// <summary>The page <typeparamref name="TComponent"/> with <paramref name="parameters"/> (its parameters' names and values).</summary>
    public static IResult Of<TComponent>(IReadOnlyDictionary<string, object?> parameters, int statusCode = StatusCodes.Status200OK, string? formAction = null)
        where TComponent : IComponent =>
        new SecurePage<TComponent>(parameters, statusCode, formAction);
}
