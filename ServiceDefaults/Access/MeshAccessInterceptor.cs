using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// Every gRPC call but the health service's: the caller is authenticated (<see cref="MeshCallerAuthenticator"/>),
/// or the call ends <c>Unauthenticated</c>; then the service's <see cref="MeshAccessPolicy"/> must
/// allow its role the method, or the call ends <c>PermissionDenied</c> with a
/// <c>google.rpc.ErrorInfo</c> (domain <c>access.mesh</c>, reason <c>CALLER_NOT_ALLOWED</c>).
/// Nothing of the request is read before that.
/// </summary>
public sealed class MeshAccessInterceptor(MeshAccessPolicy policy, MeshCallerAuthenticator callers) : Interceptor
{
    public const string ErrorDomain = "access.mesh";
    public const string NotAllowedReason = "CALLER_NOT_ALLOWED";
    public const string UnauthenticatedReason = "CALLER_UNAUTHENTICATED";

    private const string CallerKey = "mesh.access.caller";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>The authenticated caller of this call (null for the health service).</summary>
    public static MeshCaller? CallerOf(ServerCallContext context) =>
        context.UserState.TryGetValue(CallerKey, out var caller) ? caller as MeshCaller : null;

    private void Check(ServerCallContext context)
    {
        if (MeshAccessPolicy.IsOpen(context.Method))
        {
            return;
        }
        var claimed = context.RequestHeaders.GetValue(MeshCallerAuthenticator.CallerHeader);
        if (callers.Authenticate(claimed, context.RequestHeaders.GetValue(MeshCallerAuthenticator.AuthorizationHeader)) is not { } caller)
        {
            callers.Refused(context.Method, claimed, null, MeshAccessMetrics.Unauthenticated);
            throw Refusal(StatusCode.Unauthenticated, UnauthenticatedReason, "unknown caller or wrong secret");
        }
        if (!policy.Allows(context.Method, caller.Role))
        {
            callers.Refused(context.Method, caller.Name, caller.Role, MeshAccessMetrics.NotAllowed);
            throw Refusal(StatusCode.PermissionDenied, NotAllowedReason, $"{context.Method} is not allowed for {caller.Name} (role {caller.Role})");
        }
        context.UserState[CallerKey] = caller;
    }

    private static RpcException Refusal(StatusCode code, string reason, string message) =>
        new Google.Rpc.Status
        {
            Code = (int)code,
            Message = message,
            Details = { Any.Pack(new ErrorInfo { Domain = ErrorDomain, Reason = reason }) },
        }.ToRpcException();
}
