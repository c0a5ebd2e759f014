using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Grpc;

/// <summary>
/// Turns a refused command into a gRPC status whose details carry the payShield error code
/// (google.rpc.ErrorInfo, domain <c>hsm.mesh</c>). Messages name keys and rules, never values.
/// </summary>
public sealed class HsmErrorInterceptor(ILogger<HsmErrorInterceptor> logger) : Interceptor
{
    public const string ErrorDomain = "hsm.mesh";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (HsmException ex)
        {
            logger.LogInformation("{Method} refused with error {HsmErrorCode}: {Reason}", context.Method, ex.Code, ex.Message);
            throw ToRpcException(ex);
        }
    }

    public static RpcException ToRpcException(HsmException ex)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)StatusCodeOf(ex.Code),
            Message = $"{ex.Code}: {ex.Message}",
            Details = { Any.Pack(new ErrorInfo { Domain = ErrorDomain, Reason = ex.Code }) },
        };
        return status.ToRpcException();
    }

    /// <summary>The payShield code of a refusal this interceptor made ("01"), or the gRPC status name for any other failure.</summary>
    public static string ErrorCodeOf(RpcException ex) =>
        ex.Status.Detail.IndexOf(':', StringComparison.Ordinal) is > 0 and <= 2 and var colon ? ex.Status.Detail[..colon] : ex.StatusCode.ToString();

    public static Code StatusCodeOf(string code) => code switch
    {
        HsmErrorCode.KeyNotFound => Code.NotFound,
        HsmErrorCode.KeyExists => Code.AlreadyExists,
        HsmErrorCode.VerificationFailure => Code.FailedPrecondition,
        HsmErrorCode.CommandDisabled or HsmErrorCode.KeyNotPermitted => Code.PermissionDenied,
        _ => Code.InvalidArgument,
    };
}
