using Mesh.Gateway.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mesh.Gateway.Apis;

public static class DiagnosticsApi
{
    public static RouteGroupBuilder MapDiagnosticsApi(this RouteGroupBuilder group)
    {
        group.MapGet("/diagnostics", GetDiagnostics)
            .WithName("GetDiagnostics")
            .WithSummary("Asks every hop of the platform whether it answers")
            .WithDescription("Hsm (LMK check value), switch and each issuer (ISO 8583 echo over TCP), settlement and the gateway's own database; 503 when any hop is down.")
            .WithTags("Diagnostics");
        return group;
    }

    private static async Task<Results<Ok<DiagnosticsReport>, JsonHttpResult<DiagnosticsReport>>> GetDiagnostics(
        DiagnosticsProbe probe, CancellationToken ct)
    {
        var report = await probe.RunAsync(ct);
        return report.Ok
            ? TypedResults.Ok(report)
            : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
