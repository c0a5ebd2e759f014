using Grpc.Core;
using Mesh.Gateway.Resilience;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Mesh.Gateway.Tests;

/// <summary>
/// What a merchant gets when the gateway's database or a service behind it is out of reach (the
/// crash campaign's PostgreSQL kill found 500s here): a 503 problem with Retry-After, never a 500;
/// a real error in the request's own data is left to the other handlers.
/// </summary>
public sealed class DependencyUnavailableTests
{
    public static TheoryData<Exception> Outages() =>
    [
        new PostgresException("terminating connection due to unexpected postmaster exit", "FATAL", "FATAL", "57P01"),
        new NpgsqlException("Failed to connect to 127.0.0.1:5432", new System.Net.Sockets.SocketException(111)),
        new NpgsqlException("Exception while reading from stream", new IOException("Connection reset")),
        new NpgsqlException("No suitable host was found."),
        new PostgresException("canceling statement due to lock timeout", "ERROR", "ERROR", "55P03"),
        new PostgresException("canceling statement due to statement timeout", "ERROR", "ERROR", "57014"),
        new RpcException(new Status(StatusCode.Unavailable, "hsm is restarting")),
        new InvalidOperationException("wrapped", new RpcException(new Status(StatusCode.DeadlineExceeded, "switch deadline"))),
    ];

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task AnOutage_Is503_WithRetryAfter_AndAProblem(Exception outage)
    {
        var (handled, context, body) = await HandleAsync(outage);

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("2", context.Response.Headers.RetryAfter.ToString());
        Assert.Contains("\"status\":503", body, StringComparison.Ordinal);
        Assert.Contains("briefly unavailable", body, StringComparison.Ordinal);
    }

    public static TheoryData<Exception> NotOutages() =>
    [
        new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505"),
        new RpcException(new Status(StatusCode.InvalidArgument, "bad field")),
        new InvalidOperationException("a bug"),
    ];

    [Theory]
    [MemberData(nameof(NotOutages))]
    public async Task AnythingElse_IsLeftToTheDefaultHandler(Exception error)
    {
        var (handled, context, _) = await HandleAsync(error);

        Assert.False(handled);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    private static async Task<(bool Handled, HttpContext Context, string Body)> HandleAsync(Exception exception)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handler = new DependencyUnavailableHandler(services.GetRequiredService<Microsoft.AspNetCore.Http.IProblemDetailsService>(),
            NullLogger<DependencyUnavailableHandler>.Instance);
        var handled = await handler.TryHandleAsync(context, exception, CancellationToken.None);
        context.Response.Body.Position = 0;
        return (handled, context, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }
}
