using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Aspire.Hosting.Testing;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Who may do what, as one table: every console and API route against every role of merchant A
/// (admin, operator, viewer), merchant B's admin, both platform roles, the operators' admin key and
/// no one. Each cell is what the principal must get on merchant A's resources: allowed (the page,
/// or a validation answer to an empty form), sent to sign in, forbidden (403), not found (another
/// merchant's order: 404, never a hint that it exists), or unauthenticated (401).
/// </summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class AuthorizationMatrixTests(MeshPlatformFixture platform, ITestOutputHelper output)
{
    private const string Password = "matrix passphrase long enough";

    /// <summary>Columns: A admin, A operator, A viewer, B admin, platform admin, platform operator, admin key, no one.</summary>
    private static readonly string[] Principals = ["A admin", "A operator", "A viewer", "B admin", "platform admin", "platform operator", "admin key", "no one"];

    /// <summary>
    /// One row per route. A = allowed, L = sent to its console's sign-in, F = 403, N = 404 (not yours),
    /// U = 401. {order} and {notification} are merchant A's; {merchant} is A.
    /// </summary>
    private static readonly (string Method, string Path, string Cells)[] Matrix =
    [
        ("GET", "/console", "AAAALLLL"),
        ("GET", "/console/transactions", "AAAALLLL"),
        ("GET", "/console/transactions/{order}", "AAANLLLL"),
        ("GET", "/console/transactions/{order}/refund", "AAFNLLLL"),
        ("POST", "/console/transactions/{order}/refund", "AAFNLLLL"),
        ("POST", "/console/notifications/{notification}/resend", "AAFNLLLL"),
        ("GET", "/console/notifications", "AAAALLLL"),
        ("GET", "/console/settings", "AFFALLLL"),
        ("POST", "/console/settings/notifications", "AFFALLLL"),
        ("POST", "/console/settings/certificate", "AFFALLLL"),
        ("GET", "/console/users", "AFFALLLL"),
        ("POST", "/console/users", "AFFALLLL"),
        // No such operator at either merchant: A's admin and B's are told so; nobody else may ask.
        ("POST", "/console/users/nobody/revoke", "NFFNLLLL"),
        ("GET", "/console/settlement", "AAAALLLL"),
        ("GET", "/console/risk", "AAAALLLL"),
        ("POST", "/console/risk/limits", "AFFALLLL"),
        ("GET", "/ops/risk", "LLLLAFLL"),
        ("POST", "/ops/risk/velocity", "LLLLAFLL"),
        ("POST", "/ops/risk/caps", "LLLLAFLL"),
        ("POST", "/ops/risk/blocks/card", "LLLLAFLL"),
        ("POST", "/ops/risk/blocks/network", "LLLLAFLL"),
        ("GET", "/ops", "LLLLAALL"),
        ("GET", "/ops/merchants", "LLLLAALL"),
        ("POST", "/ops/merchants", "LLLLAFLL"),
        // An empty form has no reason: refused as incomplete, and merchant A stays active for the rows after.
        ("POST", "/ops/merchants/{merchant}/suspend", "LLLLAFLL"),
        ("POST", "/ops/merchants/{merchant}/reactivate", "LLLLAFLL"),
        ("POST", "/ops/merchants/{merchant}/offboard", "LLLLAFLL"),
        ("GET", "/ops/settlement", "LLLLAALL"),
        ("POST", "/ops/settlement/batches/999999999/payout", "LLLLAFLL"),
        ("POST", "/ops/settlement/batches/999999999/retry", "LLLLAFLL"),
        ("GET", "/ops/settlement/payouts/MESHPAY-20000101-CNY", "LLLLAALL"),
        ("POST", "/ops/settlement/payouts/report", "LLLLAFLL"),
        ("GET", "/ops/reconciliation", "LLLLAALL"),
        ("GET", "/ops/sessions", "LLLLAALL"),
        ("POST", "/ops/sessions/revoke", "LLLLAFLL"),
        ("GET", "/ops/banks", "LLLLAALL"),
        ("POST", "/ops/banks", "LLLLAFLL"),
        ("GET", "/ops/gates", "LLLLAALL"),
        ("POST", "/ops/gates", "LLLLAFLL"),
        ("POST", "/ops/gates/0000/disable", "LLLLAFLL"),
        // An empty form names no version and no overlap: refused as incomplete, no key rotates.
        ("GET", "/ops/keys", "LLLLAALL"),
        ("POST", "/ops/keys/gateway.signing/rotate", "LLLLAFLL"),
        ("GET", "/admin/merchants/{merchant}", "UUUUUUAU"),
        ("POST", "/admin/merchants", "UUUUUUAU"),
        ("POST", "/admin/merchants/{merchant}/console-users", "UUUUUUAU"),
        ("POST", "/admin/platform-operators", "UUUUUUAU"),
        ("GET", "/admin/merchants/{merchant}/orders/{order}/notifications", "UUUUUUAU"),
        ("POST", "/admin/notifications/{notification}/resend", "UUUUUUAU"),
    ];

    [Fact]
    public async Task EveryRoute_ForEveryRoleAndMerchant_AllowsOrDeniesAsTheTableSays()
    {
        using var a = await TestMerchant.OnboardAsync(platform);
        using var b = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var orderId = TestMerchant.NewOrderId();
        Assert.Contains("successful", await consumer.PayAsync(await consumer.StartNetPayAsync(a.NetPayOrder(orderId, 7_00)), Acquirer.TestCard("622202", 1)),
            StringComparison.OrdinalIgnoreCase);
        var notificationId = await platform.ScalarAsync<long>("gatewaydb",
            "SELECT max(outbox_id) FROM outbox WHERE merchant_id = $1 AND order_id = $2 AND topic = 'notification'", a.MerchantId, orderId);
        var adminKey = await platform.ParameterAsync("gateway-admin-key");
        var suffix = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        var sessions = new ConsoleSession[]
        {
            await MerchantUserAsync(a.MerchantId, "admin" + suffix, "admin"),
            await MerchantUserAsync(a.MerchantId, "oper" + suffix, "operator"),
            await MerchantUserAsync(a.MerchantId, "view" + suffix, "viewer"),
            await MerchantUserAsync(b.MerchantId, "badmin" + suffix, "admin"),
            await PlatformUserAsync("padmin" + suffix, "platform-admin"),
            await PlatformUserAsync("poper" + suffix, "platform-operator"),
            ConsoleSession.None,
            ConsoleSession.None,
        };

        using var http = new HttpClient(new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        })
        { BaseAddress = platform.App.GetEndpoint("gateway", "https") };
        var wrong = new List<string>();
        var table = new StringBuilder($"| Route | {string.Join(" | ", Principals)} |\n");
        foreach (var (method, template, cells) in Matrix)
        {
            var path = template.Replace("{order}", orderId, StringComparison.Ordinal).Replace("{merchant}", a.MerchantId, StringComparison.Ordinal)
                .Replace("{notification}", notificationId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var got = new StringBuilder();
            for (var p = 0; p < Principals.Length; p++)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (sessions[p].Cookie is { } cookie)
                {
                    request.Headers.Add("Cookie", cookie);
                }
                if (Principals[p] == "admin key")
                {
                    request.Headers.Add("X-Mesh-Admin-Key", adminKey);
                }
                if (method == "POST")
                {
                    // An empty form (or JSON object) with the session's CSRF token: allowed means it is read and refused as incomplete, or done.
                    request.Content = template.StartsWith("/admin/", StringComparison.Ordinal)
                        ? JsonContent.Create(new { })
                        : new FormUrlEncodedContent(sessions[p].Csrf is { } csrf ? [new("csrf", csrf)] : Array.Empty<KeyValuePair<string, string>>());
                }
                using var answer = await http.SendAsync(request);
                var cell = Classify(answer, template);
                got.Append(cell);
                if (cell != cells[p])
                {
                    wrong.Add($"{method} {template} as {Principals[p]}: expected {Name(cells[p])}, got {Name(cell)} ({(int)answer.StatusCode} {answer.Headers.Location})");
                }
            }
            table.Append(CultureInfo.InvariantCulture, $"| {method} {template} | {string.Join(" | ", got.ToString().Select(c => c.ToString()))} |\n");
        }

        // The merchant API: A's signature reads A's order; B's signature finds nothing of A's; a query signed by B in A's name is 401.
        // /v1 takes RSA-2048 or ECDSA P-256, not the NetPay protocol's RSA-1024: this part has /v1 merchants of its own.
        using var api = platform.App.CreateHttpClient("gateway", "http");
        using var va = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        using var vb = await TestMerchant.OnboardAsync(platform, "ecdsa-p256");
        var v1OrderId = "matrix-" + TestMerchant.NewOrderId();
        using (var created = await api.PostAsJsonAsync("/v1/orders", va.SignV1(OrdersApiTests.Order(va, v1OrderId, 7_00))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var v1 = new (string Who, string Query, HttpStatusCode Expected)[]
        {
            ("A's key", va.Query([], ("orderId", v1OrderId)), HttpStatusCode.OK),
            ("B's key", vb.Query([], ("orderId", v1OrderId)), HttpStatusCode.NotFound),
            ("B's key in A's name", vb.Query([], ("orderId", v1OrderId)).Replace($"merId={vb.MerchantId}", $"merId={va.MerchantId}", StringComparison.Ordinal),
                HttpStatusCode.Unauthorized),
            // Without timestamp and signature the query is incomplete: refused as a bad request, before any look-up.
            ("no signature", $"merId={va.MerchantId}", HttpStatusCode.BadRequest),
            // A NetPay merchant's RSA-1024 key signs NetPay forms only.
            ("a NetPay key (RSA-1024)", a.Query([], ("orderId", v1OrderId)), HttpStatusCode.BadRequest),
        };
        foreach (var (who, query, expected) in v1)
        {
            using var answer = await api.GetAsync($"/v1/orders/{v1OrderId}?{query}");
            table.Append(CultureInfo.InvariantCulture, $"| GET /v1/orders/{{order}} as {who} | {(int)answer.StatusCode} |\n");
            if (answer.StatusCode != expected)
            {
                wrong.Add($"GET /v1/orders/{{order}} as {who}: expected {(int)expected}, got {(int)answer.StatusCode}");
            }
        }

        output.WriteLine(table.ToString());
        Assert.True(wrong.Count == 0, string.Join("\n", wrong) + "\n" + table);
    }

    private static char Classify(HttpResponseMessage answer, string template) => answer.StatusCode switch
    {
        HttpStatusCode.Redirect or HttpStatusCode.SeeOther when answer.Headers.Location?.OriginalString.EndsWith("/login", StringComparison.Ordinal) == true => 'L',
        HttpStatusCode.Unauthorized => 'U',
        HttpStatusCode.Forbidden => 'F',
        // A console action on an id that is not the principal's own is a 404; on the operator console's own ids (a payout's batch,
        // a gate code), which the rows name as ids that do not exist, a 404 is the allowed answer.
        HttpStatusCode.NotFound when !template.StartsWith("/ops/", StringComparison.Ordinal) => 'N',
        _ => 'A',
    };

    private static string Name(char cell) => cell switch
    {
        'A' => "allowed",
        'L' => "sign-in",
        'F' => "403",
        'N' => "404",
        'U' => "401",
        _ => cell.ToString(),
    };

    private Task<ConsoleSession> MerchantUserAsync(string merchantId, string operatorId, string role) =>
        ConsoleSession.MerchantUserAsync(platform, merchantId, operatorId, role, Password);

    private Task<ConsoleSession> PlatformUserAsync(string operatorId, string role) =>
        ConsoleSession.PlatformUserAsync(platform, operatorId, role, Password);
}
