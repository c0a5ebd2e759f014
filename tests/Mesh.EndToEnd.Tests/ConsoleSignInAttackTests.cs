using System.Net;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The consoles' sign-in (ASP.NET Core cookie authentication with the sessions in gatewaydb, and its
/// antiforgery service) attacked: forms without their token or with another session's, a revoked
/// session, a session idle too long or open too long, a merchant's cookie on the operator console
/// (as it is and renamed), each refused and changing nothing; and the sign-in form laid out in one column.
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class ConsoleSignInAttackTests(MeshPlatformFixture platform)
{
    private const string Password = "sign-in attack passphrase";
    private const string ReturnAddresses = "/console/settings/return-addresses";

    [Fact]
    public async Task AFormWithoutItsToken_OrWithAnotherSessionsToken_IsRefused_AndChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform, returnUrlPrefixes: ["https://shop.example/before/"]);
        var victim = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "victim", "admin", Password);
        // The same operator signed in from another browser: its own session, its own antiforgery cookie and token.
        var attacker = await ConsoleSession.SignInAsync(platform, "/console",
            new() { ["merchantId"] = merchant.MerchantId, ["operatorId"] = "victim", ["password"] = Password });
        var changed = new Dictionary<string, string> { ["returnUrlPrefixes"] = "https://attacker.example/" };
        // The victim's session cookie with the attacker's antiforgery cookie and token: a valid pair, but for another session.
        var mixed = victim with { Cookie = $"{Part(victim.Cookie!, "__Host-mesh-console")}; {Part(attacker.Cookie!, "__Host-mesh-antiforgery")}" };

        var without = await victim.PostAsync(platform, ReturnAddresses, new(changed), csrf: null);
        var forged = await victim.PostAsync(platform, ReturnAddresses, new(changed), csrf: "CfDJ8-not-a-token");
        var anotherBrowsers = await victim.PostAsync(platform, ReturnAddresses, new(changed), csrf: attacker.Csrf);
        var anotherSessions = await mixed.PostAsync(platform, ReturnAddresses, new(changed), csrf: attacker.Csrf);
        var prefixesAfterAttacks = await Prefixes(merchant.MerchantId);
        var own = await victim.PostAsync(platform, ReturnAddresses, new() { ["returnUrlPrefixes"] = "https://shop.example/after/" }, csrf: victim.Csrf);

        Assert.All([without, forged, anotherBrowsers, anotherSessions], refused =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Contains("The form has expired", refused.Html);
        });
        Assert.Equal("{https://shop.example/before/}", prefixesAfterAttacks);
        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal("{https://shop.example/after/}", await Prefixes(merchant.MerchantId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND action = 'settings' AND detail LIKE 'return addresses:%'", merchant.MerchantId));
    }

    [Fact]
    public async Task TheConsolesCookies_AreHostPrefixed_HttpOnly_Secure_AndStrict_AndTheTableKeepsAHashOfTheKey()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "cookies", "viewer", Password);
        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };

        using var login = await http.GetAsync("/console/login");
        var formCookie = login.Headers.GetValues("Set-Cookie").Single();
        var token = Regex.Match(await login.Content.ReadAsStringAsync(), "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value;
        using var signedIn = await http.PostAsync("/console/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = token,
            ["merchantId"] = merchant.MerchantId,
            ["operatorId"] = "cookies",
            ["password"] = Password,
        }));
        var sessionCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-mesh-console=", StringComparison.Ordinal));

        Assert.StartsWith("__Host-mesh-antiforgery=", formCookie);
        Assert.Equal((HttpStatusCode.Redirect, "/console"), (signedIn.StatusCode, signedIn.Headers.Location?.OriginalString));
        Assert.All(new[] { formCookie, sessionCookie }, cookie =>
        {
            Assert.All(new[] { "path=/", "secure", "samesite=strict", "httponly" }, a => Assert.Contains(a, cookie.ToLowerInvariant()));
            Assert.DoesNotContain("domain=", cookie.ToLowerInvariant());
            Assert.DoesNotContain("expires=", cookie.ToLowerInvariant());
        });
        // Two live sessions for the operator (the helper's and this one), each kept as a 32-byte hash.
        Assert.Equal(2L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_sessions WHERE merchant_id = $1 AND operator_id = 'cookies' AND length(session_hash) = 32", merchant.MerchantId));
    }

    [Fact]
    public async Task ARevokedSession_IsRefusedAtOnce_InEveryBrowser_WhileTheAdminsStaysOpen()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var admin = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "boss", "admin", Password);
        var clerk = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "clerk", "operator", Password);
        var clerkElsewhere = await ConsoleSession.SignInAsync(platform, "/console",
            new() { ["merchantId"] = merchant.MerchantId, ["operatorId"] = "clerk", ["password"] = Password });
        var before = await clerk.GetAsync(platform, "/console/transactions");

        var revoked = await admin.PostAsync(platform, "/console/users/clerk/revoke", [], admin.Csrf);
        var afterHere = await clerk.GetAsync(platform, "/console/transactions");
        var afterElsewhere = await clerkElsewhere.PostAsync(platform, "/console/logout", [], clerkElsewhere.Csrf);
        var adminAfter = await admin.GetAsync(platform, "/console/users");
        var clerkRevokesTheAdmin = await clerk.PostAsync(platform, "/console/users/boss/revoke", [], clerk.Csrf);

        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.Contains("clerk is signed out everywhere (2 sessions ended)", revoked.Html);
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (afterHere.Status, afterHere.Location));
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (afterElsewhere.Status, afterElsewhere.Location));
        Assert.Equal(HttpStatusCode.OK, adminAfter.Status);
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (clerkRevokesTheAdmin.Status, clerkRevokesTheAdmin.Location));
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_sessions WHERE merchant_id = $1 AND operator_id = 'clerk'", merchant.MerchantId));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = $1 AND operator_id = 'boss' AND action = 'sessions-revoked' AND detail LIKE '%clerk'",
            merchant.MerchantId));
    }

    [Fact]
    public async Task AnOperatorWhoIsNotAnAdmin_CannotRevokeSessions_NorAnotherMerchantsAdmin()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var other = await TestMerchant.OnboardAsync(platform);
        var clerk = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "clerk", "operator", Password);
        var outsider = await ConsoleSession.MerchantUserAsync(platform, other.MerchantId, "boss", "admin", Password);

        var byClerk = await clerk.PostAsync(platform, "/console/users/clerk/revoke", [], clerk.Csrf);
        var byOutsider = await outsider.PostAsync(platform, "/console/users/clerk/revoke", [], outsider.Csrf);
        var clerkAfter = await clerk.GetAsync(platform, "/console");

        Assert.Equal(HttpStatusCode.Forbidden, byClerk.Status);
        Assert.Contains("Your role (operator) cannot do this", byClerk.Html);
        Assert.Equal(HttpStatusCode.NotFound, byOutsider.Status);
        Assert.Equal(HttpStatusCode.OK, clerkAfter.Status);
    }

    [Fact]
    public async Task APlatformAdmin_SignsAMerchantsOperatorOutEverywhere_APlatformOperatorCannot()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var suffix = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var padmin = await ConsoleSession.PlatformOperatorAsync(platform, "sessadmin" + suffix, "platform-admin");
        var poper = await ConsoleSession.PlatformOperatorAsync(platform, "sessoper" + suffix, "platform-operator");
        var clerk = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "clerk", "operator", Password);
        var revoke = new Dictionary<string, string> { ["realm"] = merchant.MerchantId, ["operatorId"] = "clerk" };

        var listed = await padmin.GetAsync(platform, "/ops/sessions");
        var byOperator = await poper.PostAsync(platform, "/ops/sessions/revoke", new(revoke), poper.Csrf);
        var clerkBefore = await clerk.GetAsync(platform, "/console");
        var byAdmin = await padmin.PostAsync(platform, "/ops/sessions/revoke", new(revoke), padmin.Csrf);
        var clerkAfter = await clerk.GetAsync(platform, "/console");
        var operatorSignedOut = await padmin.PostAsync(platform, "/ops/sessions/revoke",
            new() { ["realm"] = "platform", ["operatorId"] = "sessoper" + suffix }, padmin.Csrf);
        var operatorAfter = await poper.GetAsync(platform, "/ops");

        Assert.Equal(HttpStatusCode.OK, listed.Status);
        Assert.Contains($"<td>{merchant.MerchantId}</td><td>clerk</td><td>operator</td>", listed.Html);
        Assert.Equal(HttpStatusCode.Forbidden, byOperator.Status);
        Assert.Equal(HttpStatusCode.OK, clerkBefore.Status);
        Assert.Contains($"{merchant.MerchantId}/clerk is signed out everywhere (1 session ended)", byAdmin.Html);
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (clerkAfter.Status, clerkAfter.Location));
        Assert.Contains("(1 session ended)", operatorSignedOut.Html);
        Assert.Equal((HttpStatusCode.Redirect, "/ops/login"), (operatorAfter.Status, operatorAfter.Location));
        Assert.Equal(1L, await platform.ScalarAsync<long>("gatewaydb",
            "SELECT count(*) FROM console_audit WHERE merchant_id = 'platform' AND operator_id = $1 AND action = 'sessions-revoked' AND detail = $2",
            "sessadmin" + suffix, $"every session of {merchant.MerchantId}/clerk"));
    }

    [Fact]
    public async Task ASessionIdleTooLong_OrOpenTooLong_IsRefused_AndStaysRefused()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var idle = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "idle", "viewer", Password);
        var old = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "old", "viewer", Password);
        var fresh = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "fresh", "viewer", Password);

        // Time passes for two of the sessions: one has seen no request for 31 minutes (the idle limit is 30),
        // the other was opened 8 hours and a minute ago (the limit is 8 hours) though it was used a moment ago.
        Assert.Equal(1L, await Age(merchant.MerchantId, "idle", "last_seen_at = last_seen_at - interval '31 minutes'"));
        Assert.Equal(1L, await Age(merchant.MerchantId, "old", "created_at = created_at - interval '8 hours 1 minute'"));
        var idleAnswer = await idle.GetAsync(platform, "/console");
        var oldAnswer = await old.GetAsync(platform, "/console");
        var freshAnswer = await fresh.GetAsync(platform, "/console");
        // A refusal moves no clock: trying again does not revive the session.
        var idleAgain = await idle.GetAsync(platform, "/console/transactions");

        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (idleAnswer.Status, idleAnswer.Location));
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (oldAnswer.Status, oldAnswer.Location));
        Assert.Equal((HttpStatusCode.Redirect, "/console/login"), (idleAgain.Status, idleAgain.Location));
        Assert.Equal(HttpStatusCode.OK, freshAnswer.Status);
    }

    [Fact]
    public async Task AMerchantsCookie_OnTheOperatorConsole_AsItIsOrRenamed_IsSentToSignIn_AndChangesNothing()
    {
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var session = await ConsoleSession.MerchantUserAsync(platform, merchant.MerchantId, "crossing", "admin", Password);
        var sealedTicket = Part(session.Cookie!, "__Host-mesh-console").Split('=', 2)[1];
        var renamed = session with { Cookie = $"__Host-mesh-ops={sealedTicket}; {Part(session.Cookie!, "__Host-mesh-antiforgery")}" };
        var application = new Dictionary<string, string> { ["merchantId"] = "898000000000001", ["name"] = "Crossed realms" };

        var asItIs = await session.GetAsync(platform, "/ops");
        var renamedGet = await renamed.GetAsync(platform, "/ops/merchants");
        var renamedPost = await renamed.PostAsync(platform, "/ops/merchants", new(application), session.Csrf);
        var ownConsole = await session.GetAsync(platform, "/console");

        Assert.Equal((HttpStatusCode.Redirect, "/ops/login"), (asItIs.Status, asItIs.Location));
        Assert.Equal((HttpStatusCode.Redirect, "/ops/login"), (renamedGet.Status, renamedGet.Location));
        Assert.Equal((HttpStatusCode.Redirect, "/ops/login"), (renamedPost.Status, renamedPost.Location));
        Assert.Equal(HttpStatusCode.OK, ownConsole.Status);
        Assert.Equal(0L, await platform.ScalarAsync<long>("gatewaydb", "SELECT count(*) FROM merchants WHERE merchant_id = '898000000000001'"));
    }

    [Theory]
    [InlineData("/console/login")]
    [InlineData("/ops/login")]
    public async Task TheSignInForm_IsOneColumn_TheButtonUnderThePasswordAndAlignedWithIt(string path)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestBrowser.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true })).NewPageAsync();

        await page.GotoAsync(new Uri(platform.App.GetEndpoint("gateway", "https"), path).ToString());
        var operatorId = (await page.Locator("#operatorId").BoundingBoxAsync())!;
        var password = (await page.Locator("#password").BoundingBoxAsync())!;
        var button = (await page.Locator("#sign-in").BoundingBoxAsync())!;

        Assert.True(button.Y >= password.Y + password.Height, $"the button (top {button.Y}) is beside the password (bottom {password.Y + password.Height})");
        Assert.True(password.Y >= operatorId.Y + operatorId.Height, "the password is beside the operator id");
        Assert.True(Math.Abs(password.X - button.X) < 1, $"the button starts at {button.X}, the password at {password.X}");
        Assert.True(Math.Abs(password.Width - button.Width) < 1, $"the button is {button.Width} wide, the password {password.Width}");
        Assert.True(Math.Abs(operatorId.Width - password.Width) < 1, $"the operator id is {operatorId.Width} wide, the password {password.Width}");
    }

    private Task<string> Prefixes(string merchantId) =>
        platform.ScalarAsync<string>("gatewaydb", "SELECT return_url_prefixes::text FROM merchants WHERE merchant_id = $1", merchantId);

    /// <summary>Moves a session's clock back in gatewaydb, as if the time had passed; the rows changed.</summary>
    private Task<long> Age(string merchantId, string operatorId, string set) =>
        platform.ScalarAsync<long>("gatewaydb",
            $"WITH aged AS (UPDATE console_sessions SET {set} WHERE merchant_id = $1 AND operator_id = $2 RETURNING 1) SELECT count(*) FROM aged", merchantId, operatorId);

    /// <summary>The <c>name=value</c> of one cookie in a Cookie header.</summary>
    private static string Part(string cookieHeader, string name) =>
        cookieHeader.Split("; ").Single(c => c.StartsWith(name + "=", StringComparison.Ordinal));
}
