using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Grpc;
using Mesh.Hsm.Options;
using Mesh.ServiceDefaults.Access;
using Microsoft.Extensions.Options;

namespace Mesh.Hsm.Access;

/// <summary>
/// Who is calling, and may they: the caller name (<c>x-mesh-caller</c>) and its secret
/// (<c>authorization: Bearer</c>) must match the Hsm's configuration, and the role must allow the
/// command, or the call is refused with 68; each key the command names must be the caller's for that
/// use (<see cref="KeyAccess"/>), or it is refused with K3. Key-management commands, allowed or not,
/// and every refusal are audited; failures of PIN commands are watched per caller.
/// </summary>
public sealed class CallerAuthorizationInterceptor(IOptions<HsmOptions> options, AuditLog audit, KeyAccess keyAccess, PinFailureWatch pinFailures,
    HsmMetrics metrics, TimeProvider time, ILogger<CallerAuthorizationInterceptor> logger) : Interceptor
{
    public const string CallerHeader = MeshCallerAuthenticator.CallerHeader;
    private const string ServicePrefix = "/mesh.hsm.Hsm/";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(ServicePrefix, StringComparison.Ordinal))
        {
            return await continuation(request, context); // the gRPC health service
        }
        var command = context.Method[ServicePrefix.Length..];
        // The server span of a unary command reads as the session's do: "hsm TranslatePinFromBrowser".
        Activity.Current?.SetTag("hsm.command", command).DisplayName = $"hsm {command}";
        var caller = Authenticate(context);
        context.UserState[RoleKey] = caller.Role;
        context.UserState[CallerKey] = caller.Name;
        var keyId = KeyIdOf(request);
        var started = time.GetTimestamp();
        if (!CallerPolicy.May(caller.Role, command))
        {
            metrics.Ran(command, caller.Name, "refused", TimeSpan.Zero);
            logger.LogWarning("Refused {Command} to {Caller} ({Role})", command, caller.Name, caller.Role);
            await audit.RecordAsync(caller.Name, command, keyId, "refused", context.CancellationToken);
            throw HsmErrorInterceptor.ToRpcException(new HsmException(HsmErrorCode.CommandDisabled, $"{command} is not allowed for {caller.Name}"));
        }
        try
        {
            await keyAccess.CheckAsync(caller.Name, caller.Role, request, context.CancellationToken);
        }
        catch (HsmException ex) when (ex.Code == HsmErrorCode.KeyNotPermitted)
        {
            metrics.Ran(command, caller.Name, "refused", TimeSpan.Zero);
            logger.LogWarning("Refused {Command} to {Caller} ({Role}): {Reason}", command, caller.Name, caller.Role, ex.Message);
            await audit.RecordAsync(caller.Name, command, ex.KeyId ?? keyId, $"refused: {ex.Code}", context.CancellationToken);
            throw HsmErrorInterceptor.ToRpcException(ex);
        }
        catch (HsmException ex)
        {
            throw HsmErrorInterceptor.ToRpcException(ex);
        }
        try
        {
            var response = await continuation(request, context);
            metrics.Ran(command, caller.Name, "done", time.GetElapsedTime(started));
            if (CallerPolicy.IsKeyManagement(command))
            {
                // The command has run: its row is written even if the caller has gone.
                await audit.RecordAsync(caller.Name, command, keyId, "done", CancellationToken.None);
            }
            return response;
        }
        catch (RpcException ex)
        {
            metrics.Ran(command, caller.Name, "failed", time.GetElapsedTime(started));
            await pinFailures.FailedAsync(caller.Name, command, HsmErrorInterceptor.ErrorCodeOf(ex), context.CancellationToken);
            if (CallerPolicy.IsKeyManagement(command))
            {
                await audit.RecordAsync(caller.Name, command, keyId, $"failed: {ex.StatusCode}", CancellationToken.None);
            }
            throw;
        }
    }

    /// <summary>
    /// A session stream (<c>Session</c>): the caller is authenticated once when it opens, and its
    /// role travels with the call for the per-command checks.
    /// </summary>
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Authenticate(context);
        context.UserState[RoleKey] = caller.Role;
        context.UserState[CallerKey] = caller.Name;
        logger.LogInformation("Session opened by {Caller} ({Role})", caller.Name, caller.Role);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The role of the caller of a unary command, or of the one that opened a session stream.</summary>
    public static string RoleOf(ServerCallContext context) =>
        context.UserState.TryGetValue(RoleKey, out var role) && role is string name ? name : "";

    /// <summary>The name of the caller of a unary command, or of the one that opened a session stream.</summary>
    public static string CallerOf(ServerCallContext context) =>
        context.UserState.TryGetValue(CallerKey, out var caller) && caller is string name ? name : "";

    private const string RoleKey = "mesh.hsm.role";
    private const string CallerKey = "mesh.hsm.caller";

    private (string Name, string Role) Authenticate(ServerCallContext context)
    {
        var name = context.RequestHeaders.GetValue(CallerHeader) ?? "";
        var known = options.Value.Callers.TryGetValue(name, out var configured);
        if (MeshCallerAuthenticator.BearerMatches(context.RequestHeaders.GetValue(MeshCallerAuthenticator.AuthorizationHeader), known ? configured!.Secret : "") && known)
        {
            return (name, configured!.Role);
        }
        logger.LogWarning("Unauthenticated call to {Method} claiming to be {Caller}", context.Method, name);
        throw new RpcException(new Status(StatusCode.Unauthenticated, "unknown caller or wrong secret"));
    }

    /// <summary>The key a request is about, for the audit log: the first it names for use, else the one it creates.</summary>
    internal static string? KeyIdOf(object request) => KeyAccess.UsesOf(request) is [var first, ..]
        ? first.KeyId
        : request.GetType().GetProperty("KeyId")?.GetValue(request) as string;
}
