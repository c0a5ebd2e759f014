using Grpc.Core;
using Mesh.ServiceDefaults.Access;
using Mesh.Switch.KeyChange;
using Mesh.Switch.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Switch.Links;

/// <summary>
/// The operators' levers on the issuer links, on the switch's internal http endpoint behind the
/// Aspire dashboard's commands: list the links, sign one off (its cards get 91 at once, advices
/// to it wait) and on again, change its zone keys now (<see cref="ZoneKeyChanges"/>, with the
/// configured grace window). An operator's credential only. An unknown issuer is a 404 problem, a
/// change already under way or a key the Hsm would not make a 409.
/// </summary>
public static class LinksAdminApi
{
    public sealed record LinkView(string Issuer, string BankId, bool SignedOn, bool SignedOffByOperator, double LastEchoLatencyMs);

    public sealed record ZoneKeyChangeView(string Issuer, IReadOnlyList<ZoneKeyChangeResult> Keys);

    public static WebApplication MapLinksAdminApi(this WebApplication app)
    {
        var admin = app.MapGroup("/admin/links").RequireMeshCaller(MeshRoles.Operator);
        admin.MapGet("", (IssuerLinks links) => TypedResults.Ok(links.All.Select(View).ToArray()));
        admin.MapPost("/{issuer}/sign-off", async (string issuer, IssuerLinks links, CancellationToken ct) =>
        {
            if (links.Find(issuer) is not { } link)
            {
                return NoSuchIssuer(issuer);
            }
            await link.SignOffAsync(ct);
            return TypedResults.Ok(View(link));
        });
        admin.MapPost("/{issuer}/sign-on", async (string issuer, IssuerLinks links, TimeProvider time, CancellationToken ct) =>
        {
            if (links.Find(issuer) is not { } link)
            {
                return NoSuchIssuer(issuer);
            }
            link.SignOn();
            // The link reconnects on its own; the answer says whether it is up yet, after a short wait.
            for (var i = 0; i < SignOnWaitsMax && !link.IsSignedOn; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(SignOnWaitMs), time, ct);
            }
            return TypedResults.Ok(View(link));
        });
        admin.MapPost("/{issuer}/change-zone-keys", async (string issuer, HttpContext http, IssuerLinks links, ZoneKeyChanges changes,
            IOptions<SwitchOptions> options, CancellationToken ct) =>
        {
            if (links.Find(issuer) is not { } link)
            {
                return NoSuchIssuer(issuer);
            }
            try
            {
                var by = http.Request.Headers[MeshCallerAuthenticator.CallerHeader].ToString();
                return await changes.ChangeAsync(link, options.Value.ZoneKeyGraceSeconds, by, ct) is { } keys
                    ? TypedResults.Ok(new ZoneKeyChangeView(link.Name, keys))
                    : TypedResults.Problem($"A zone key change on {link.Name} is under way", statusCode: StatusCodes.Status409Conflict, title: "Key change under way");
            }
            catch (RpcException ex) when (ex.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled))
            {
                return TypedResults.Problem(ex.Status.Detail, statusCode: StatusCodes.Status409Conflict, title: "The Hsm did not make the new key");
            }
        });
        return app;
    }

    private const int SignOnWaitsMax = 50;
    private const int SignOnWaitMs = 100;

    private static IResult NoSuchIssuer(string issuer) =>
        TypedResults.Problem($"The switch has no link named {issuer}", statusCode: StatusCodes.Status404NotFound, title: "No such issuer");

    private static LinkView View(IssuerLink link) => new(link.Name, link.BankId, link.IsSignedOn, link.IsSignedOffByOperator, link.LastEchoLatencyMs);
}
