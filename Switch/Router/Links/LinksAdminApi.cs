using Mesh.ServiceDefaults.Access;

namespace Mesh.Switch.Links;

/// <summary>
/// The operators' levers on the issuer links, on the switch's internal http endpoint behind the
/// Aspire dashboard's commands: list the links, sign one off (its cards get 91 at once, advices
/// to it wait) and on again. An operator's credential only. An unknown issuer is a 404 problem.
/// </summary>
public static class LinksAdminApi
{
    public sealed record LinkView(string Issuer, string BankId, bool SignedOn, bool SignedOffByOperator, double LastEchoLatencyMs);

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
        return app;
    }

    private const int SignOnWaitsMax = 50;
    private const int SignOnWaitMs = 100;

    private static IResult NoSuchIssuer(string issuer) =>
        TypedResults.Problem($"The switch has no link named {issuer}", statusCode: StatusCodes.Status404NotFound, title: "No such issuer");

    private static LinkView View(IssuerLink link) => new(link.Name, link.BankId, link.IsSignedOn, link.IsSignedOffByOperator, link.LastEchoLatencyMs);
}
