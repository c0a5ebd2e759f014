using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// The <c>/admin</c> routes' door: the same credential as gRPC (<c>x-mesh-caller</c> and
/// <c>authorization: Bearer</c>), and a role among those the route allows. Without a credential
/// or with a wrong one: a 401 problem; a role not allowed: 403. The routes answer only over
/// HTTPS or to a loopback address (403 otherwise): on plain HTTP the secret crosses the network in clear.
/// </summary>
public static class MeshCallerEndpoints
{
    public static TBuilder RequireMeshCaller<TBuilder>(this TBuilder builder, params string[] roles) where TBuilder : IEndpointConventionBuilder
    {
        if (roles.Length == 0 || roles.Any(r => !MeshRoles.All.Contains(r)))
        {
            throw new ArgumentException($"RequireMeshCaller needs Mesh roles ({string.Join(", ", MeshRoles.All)}), not [{string.Join(", ", roles)}]", nameof(roles));
        }
        var allowed = roles.ToFrozenSet(StringComparer.Ordinal);
        return builder.AddEndpointFilter(async (context, next) => Refusal(context.HttpContext, allowed) ?? await next(context));
    }

    private static IResult? Refusal(HttpContext http, FrozenSet<string> allowed)
    {
        var callers = http.RequestServices.GetRequiredService<MeshCallerAuthenticator>();
        var method = $"{http.Request.Method} {(http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "?"}";
        var claimed = Single(http.Request.Headers[MeshCallerAuthenticator.CallerHeader]);
        if (!http.Request.IsHttps && !IsLoopback(http.Connection.RemoteIpAddress))
        {
            callers.Refused(method, claimed, null, MeshAccessMetrics.NotSecure);
            return Results.Problem(title: "Operators' routes answer over HTTPS or on loopback only",
                detail: "On plain HTTP from another host the caller's secret would cross the network in clear", statusCode: StatusCodes.Status403Forbidden);
        }
        if (callers.Authenticate(claimed, Single(http.Request.Headers.Authorization)) is not { } caller)
        {
            callers.Refused(method, claimed, null, MeshAccessMetrics.Unauthenticated);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(title: "Unknown caller or wrong secret",
                detail: $"Present {MeshCallerAuthenticator.CallerHeader} and authorization: Bearer", statusCode: StatusCodes.Status401Unauthorized);
        }
        if (!allowed.Contains(caller.Role))
        {
            callers.Refused(method, caller.Name, caller.Role, MeshAccessMetrics.NotAllowed);
            return Results.Problem(title: "Caller not allowed", detail: $"{method} is not allowed for {caller.Name} (role {caller.Role})",
                statusCode: StatusCodes.Status403Forbidden, extensions: new Dictionary<string, object?> { ["reason"] = MeshAccessInterceptor.NotAllowedReason });
        }
        return null;
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 1 ? values[0] : null;

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);
}
