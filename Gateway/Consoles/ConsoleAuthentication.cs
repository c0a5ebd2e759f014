using System.Security.Claims;
using Mesh.Gateway.Localization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Localization;
using Npgsql;

namespace Mesh.Gateway.Consoles;

/// <summary>The consoles' authentication schemes, one a realm, and their sign-in pages.</summary>
public static class ConsoleSchemes
{
    public const string Merchant = "merchant-console";
    public const string Operator = "operator-console";
    public const string MerchantCookie = "__Host-mesh-console";
    public const string OperatorCookie = "__Host-mesh-ops";
    public const string AntiforgeryCookie = "__Host-mesh-antiforgery";
    /// <summary>The hidden field every console form carries its antiforgery token in.</summary>
    public const string AntiforgeryField = "csrf";
    public const string MerchantLogin = "/console/login";
    public const string OperatorLogin = "/ops/login";
}

/// <summary>The authorization policies of the consoles' roles; each names its realm's scheme.</summary>
public static class ConsolePolicies
{
    /// <summary>Any of a merchant's people: admin, operator or viewer.</summary>
    public const string Merchant = "merchant";
    /// <summary>A merchant's admin or operator: refunds, captures, releases, notifications sent again.</summary>
    public const string MerchantRefunder = "merchant-refunder";
    /// <summary>A merchant's admin: keys, settings, operators, the merchant's own risk limits.</summary>
    public const string MerchantAdmin = "merchant-admin";
    /// <summary>Any of the platform's operators.</summary>
    public const string Operator = "operator";
    /// <summary>A platform admin: onboarding, lifecycle moves, payouts, banks, gate codes, risk controls.</summary>
    public const string PlatformAdmin = "platform-admin";
}

/// <summary>The claims a console session carries: its realm (a merchant id, or <see cref="ConsoleRoles.Platform"/>), operator and role.</summary>
public static class ConsoleClaims
{
    public const string Realm = "mesh:realm";
    public const string Operator = "mesh:operator";
    /// <summary>The session's own id (the hash of its key, never the key): the antiforgery tokens are bound to it, so another session's token is refused.</summary>
    public const string Session = "sub";

    public static ClaimsPrincipal Principal(string scheme, string realm, string operatorId, string role, string? sessionId = null)
    {
        var claims = new List<Claim> { new(Realm, realm), new(Operator, operatorId), new(ClaimTypes.Role, role) };
        if (sessionId is not null)
        {
            claims.Add(new Claim(Session, sessionId));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, Operator, ClaimTypes.Role));
    }
}

public static class ConsoleAuthentication
{
    private const string SessionKey = "console.session";

    /// <summary>
    /// Cookie authentication for each console (its own <c>__Host-</c> cookie, HttpOnly, Secure,
    /// SameSite=Strict, ending with the browser), whose tickets live in PostgreSQL (<see cref="ConsoleTicketStore"/>);
    /// the roles' policies; and the gateway's antiforgery service (the consoles' forms and the Razor pages'), its cookie also
    /// <c>__Host-</c>, its token in each form's <c>csrf</c> field only (no header).
    /// </summary>
    public static void AddConsoleAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication()
            .AddCookie(ConsoleSchemes.Merchant, o => Configure(o, ConsoleSchemes.MerchantCookie, ConsoleSchemes.MerchantLogin))
            .AddCookie(ConsoleSchemes.Operator, o => Configure(o, ConsoleSchemes.OperatorCookie, ConsoleSchemes.OperatorLogin));
        builder.Services.AddOptions<CookieAuthenticationOptions>(ConsoleSchemes.Merchant)
            .Configure<NpgsqlDataSource, TimeProvider>((o, db, time) => o.SessionStore = new ConsoleTicketStore(db, time, ConsoleSchemes.Merchant));
        builder.Services.AddOptions<CookieAuthenticationOptions>(ConsoleSchemes.Operator)
            .Configure<NpgsqlDataSource, TimeProvider>((o, db, time) => o.SessionStore = new ConsoleTicketStore(db, time, ConsoleSchemes.Operator));
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ConsolePolicies.Merchant, p => p.AddAuthenticationSchemes(ConsoleSchemes.Merchant).RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.FindFirstValue(ConsoleClaims.Realm) is { } realm && realm != ConsoleRoles.Platform)
                .RequireRole(ConsoleRoles.All))
            .AddPolicy(ConsolePolicies.MerchantRefunder, p => p.AddAuthenticationSchemes(ConsoleSchemes.Merchant).RequireAuthenticatedUser()
                .RequireRole(ConsoleRoles.Admin, ConsoleRoles.Operator))
            .AddPolicy(ConsolePolicies.MerchantAdmin, p => p.AddAuthenticationSchemes(ConsoleSchemes.Merchant).RequireAuthenticatedUser()
                .RequireRole(ConsoleRoles.Admin))
            .AddPolicy(ConsolePolicies.Operator, p => p.AddAuthenticationSchemes(ConsoleSchemes.Operator).RequireAuthenticatedUser()
                .RequireClaim(ConsoleClaims.Realm, ConsoleRoles.Platform).RequireRole(ConsoleRoles.PlatformRoles))
            .AddPolicy(ConsolePolicies.PlatformAdmin, p => p.AddAuthenticationSchemes(ConsoleSchemes.Operator).RequireAuthenticatedUser()
                .RequireClaim(ConsoleClaims.Realm, ConsoleRoles.Platform).RequireRole(ConsoleRoles.PlatformAdmin));
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = ConsoleSchemes.AntiforgeryCookie;
            o.Cookie.Path = "/";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = ConsoleSchemes.AntiforgeryField;
            o.HeaderName = null;
            // Every page sets X-Frame-Options: DENY itself (PageHeaders), stricter than antiforgery's SAMEORIGIN.
            o.SuppressXFrameOptionsHeader = true;
        });
    }

    private static void Configure(CookieAuthenticationOptions o, string cookie, string loginPath)
    {
        o.Cookie.Name = cookie;
        o.Cookie.Path = "/";
        o.Cookie.HttpOnly = true;
        o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.IsEssential = true;
        // The ticket store ends a session after its idle time or its absolute limit; the cookie says no more than that.
        o.ExpireTimeSpan = ConsoleAccounts.SessionMax;
        o.SlidingExpiration = false;
        o.LoginPath = loginPath;
        o.Events.OnRedirectToLogin = context =>
        {
            context.Response.Redirect(loginPath);
            return Task.CompletedTask;
        };
        o.Events.OnRedirectToAccessDenied = context =>
        {
            var session = Session(context.HttpContext);
            var text = context.HttpContext.RequestServices.GetRequiredService<IStringLocalizer<ConsoleText>>();
            return ConsolePages.Error(session, StatusCodes.Status403Forbidden, text["NotAllowed"],
                text[session.MerchantId == ConsoleRoles.Platform ? "NotAllowedPlatform" : "NotAllowedMerchant", text.Label("Role", session.Role)]).ExecuteAsync(context.HttpContext);
        };
    }

    /// <summary>
    /// Console endpoints under <paramref name="policy"/>: a form posted without this browser's and
    /// this session's antiforgery token (or one that cannot be read) changes nothing.
    /// </summary>
    public static RouteGroupBuilder RequireConsole(this RouteGroupBuilder group, string policy)
    {
        group.RequireAuthorization(policy);
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (HttpMethods.IsPost(http.Request.Method) && !await FormIsGenuineAsync(http))
            {
                var text = http.RequestServices.GetRequiredService<IStringLocalizer<ConsoleText>>();
                return ConsolePages.Error(Session(http), StatusCodes.Status400BadRequest, text["FormExpired"], text["FormExpiredDetail"]);
            }
            return await next(context);
        });
        return group;
    }

    /// <summary>True when the posted form can be read and carries a valid antiforgery token for this browser and user.</summary>
    public static async Task<bool> FormIsGenuineAsync(HttpContext http) =>
        await Pages.PaymentPageApi.ReadFormAsync(http) is not null
        && await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http);

    /// <summary>A fresh antiforgery token for a form on this response (its cookie half is set when the browser has none).</summary>
    public static string FormToken(HttpContext http) => http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http).RequestToken!;

    /// <summary>Who is signed in on this request (the console's policy has authenticated them), with a token for the page's forms.</summary>
    public static ConsoleSession Session(HttpContext http)
    {
        if (http.Items[SessionKey] is ConsoleSession known)
        {
            return known;
        }
        var user = http.User;
        var session = new ConsoleSession(user.FindFirstValue(ConsoleClaims.Realm)!, user.FindFirstValue(ConsoleClaims.Operator)!,
            user.FindFirstValue(ClaimTypes.Role)!, FormToken(http));
        http.Items[SessionKey] = session;
        return session;
    }

    /// <summary>Signs a checked login in to <paramref name="scheme"/>: the ticket store keeps the session, the browser gets its cookie.</summary>
    public static Task SignInAsync(HttpContext http, string scheme, string realm, string operatorId, string role) =>
        http.SignInAsync(scheme, ConsoleClaims.Principal(scheme, realm, operatorId, role), new AuthenticationProperties { IsPersistent = false });
}
