using Mesh.Gateway.Pages;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The consoles' sign-in and error pages, Razor components rendered through <see cref="SecurePage"/>. The merchant
/// console's own pages are <see cref="MerchantPages"/>, the operator console's <see cref="OperatorPage"/>.
/// </summary>
public static class ConsolePages
{
    /// <summary>
    /// A console's sign-in page (<see cref="Components.SignIn"/>), with a fresh antiforgery token; <paramref name="error"/> names a
    /// <see cref="Localization.ConsoleText"/> resource, formatted with <paramref name="arguments"/>.
    /// </summary>
    public static IResult Login(HttpContext http, bool platform, string? error = null, int statusCode = StatusCodes.Status200OK, params object[] arguments) =>
        SecurePage.Of<Components.SignIn>(new Dictionary<string, object?>
        {
            [nameof(Components.SignIn.Token)] = ConsoleAuthentication.FormToken(http),
            [nameof(Components.SignIn.Platform)] = platform,
            [nameof(Components.SignIn.Error)] = error,
            [nameof(Components.SignIn.ErrorArguments)] = arguments,
        }, statusCode);

    /// <summary>A console's error page (<see cref="Components.ConsoleError"/>); <paramref name="title"/> and <paramref name="detail"/> are in the request's language.</summary>
    public static IResult Error(ConsoleSession? session, int statusCode, string title, string detail) =>
        SecurePage.Of<Components.ConsoleError>(new Dictionary<string, object?>
        {
            [nameof(Components.ConsoleError.Session)] = session,
            [nameof(Components.ConsoleError.Title)] = title,
            [nameof(Components.ConsoleError.Detail)] = detail,
        }, statusCode);
}
