using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Diagnostics;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Apis;

/// <summary>
/// <c>GET /v1/diagnostics</c>. Anyone (a merchant, a monitor) sees whether each hop answers and how
/// fast; what the hops said (the LMK's check value, key counts, bank ids, STANs, versions) and the
/// trace id are for the platform's operators only: the operator key in <c>X-Mesh-Admin-Key</c>, or
/// a signed-in operator console session.
/// </summary>
public static class DiagnosticsApi
{
    public static RouteGroupBuilder MapDiagnosticsApi(this RouteGroupBuilder group)
    {
        group.MapGet("/diagnostics", GetDiagnostics)
            .WithName("GetDiagnostics")
            .WithSummary("Asks every hop of the platform whether it answers")
            .WithDescription("Hsm, switch and each issuer (ISO 8583 echo over TCP), settlement and the gateway's own database: each hop's name, ok and latency; "
                + "503 when any hop is down. With the operator key (X-Mesh-Admin-Key) or an operator console session, also each hop's detail and the trace id.")
            .WithTags("Diagnostics");
        return group;
    }

    /// <summary>What everyone sees of a hop: its name, whether it answered, and how long it took.</summary>
    public sealed record PublicHop(string Name, bool Ok, double LatencyMs);

    public sealed record PublicReport(bool Ok, IReadOnlyList<PublicHop> Hops);

    private static async Task<Results<Ok<DiagnosticsReport>, JsonHttpResult<DiagnosticsReport>, Ok<PublicReport>, JsonHttpResult<PublicReport>>> GetDiagnostics(
        HttpContext http, DiagnosticsProbe probe, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var report = await probe.RunAsync(ct);
        var status = report.Ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        if (await IsOperatorAsync(http, options.Value))
        {
            return report.Ok ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: status);
        }
        var shown = new PublicReport(report.Ok, report.Hops.Select(h => new PublicHop(h.Name, h.Ok, h.LatencyMs)).ToList());
        return report.Ok ? TypedResults.Ok(shown) : TypedResults.Json(shown, statusCode: status);
    }

    private static async Task<bool> IsOperatorAsync(HttpContext http, GatewayOptions options)
    {
        var given = http.Request.Headers[MerchantsAdminApi.AdminKeyHeader].ToString();
        if (given.Length > 0)
        {
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(options.AdminKey), Encoding.UTF8.GetBytes(given));
        }
        return (await http.AuthenticateAsync(ConsoleSchemes.Operator)).Principal?.FindFirstValue(ConsoleClaims.Realm) == ConsoleRoles.Platform;
    }
}
