using Grpc.Core;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Mesh.Gateway.Resilience;

/// <summary>
/// A request that fails because the gateway's database or one of its services is out of reach
/// (restarting, failing over, overloaded) is answered 503 with <c>Retry-After</c>, as RFC 9457
/// problem details (to a browser, as a page in its language: <see cref="Pages.BrowserErrorPages"/>): nothing the client sent was wrong, and the same request may be sent again
/// (every create is idempotent on its key). Anything else stays a 500 for the default handler.
/// </summary>
public sealed class DependencyUnavailableHandler(IProblemDetailsService problems, ILogger<DependencyUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (Unavailable(exception) is not { } dependency || context.Response.HasStarted)
        {
            return false;
        }
        logger.LogWarning("{Method} {Path} answered 503: {Dependency} unavailable ({Reason})", context.Request.Method, context.Request.Path, dependency,
            exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Pages.BrowserErrorPages.WantsHtml(context.Request))
        {
            await Pages.BrowserErrorPages.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The platform is briefly unavailable",
                "Please try again in a moment.");
            return true;
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The platform is briefly unavailable",
                Detail = $"Send the same request again in {RetryAfterSeconds} s; a request with the same key is done once.",
                Type = Apis.V1Problems.TypeOf(Apis.V1Problems.PlatformUnavailable),
                Extensions = { ["code"] = Apis.V1Problems.PlatformUnavailable },
            },
        });
    }

    /// <summary>What was out of reach, or null when the exception is not an outage.</summary>
    public static string? Unavailable(Exception exception) => exception switch
    {
        // Connection refused or lost, a server shutting down (57P), a connection failure (08), a timeout.
        PostgresException { SqlState: var state } when state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal) => "database",
        // The database's own limits on a wait (lock_timeout: 55P03; statement_timeout: 57014), set on the databases by
        // migration: a row another request holds for longer, as after a crash; busy, not broken.
        PostgresException { SqlState: "55P03" or "57014" } => "database",
        PostgresException => null,
        // Every other Npgsql error is the connection's: refused, lost, timed out, or every host answering and
        // none as the primary ("No suitable host was found": a failover under way, Mesh:Postgres=ha).
        NpgsqlException => "database",
        RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded } => "internal service",
        _ when exception.InnerException is { } inner => Unavailable(inner),
        _ => null,
    };
}
