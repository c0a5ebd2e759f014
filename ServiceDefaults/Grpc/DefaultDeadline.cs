using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Mesh.ServiceDefaults.Grpc;

/// <summary>
/// Every unary call inside the mesh ends: one made without a deadline gets
/// <see cref="UnaryDeadline"/>. A stuck peer becomes a DeadlineExceeded the caller handles, never
/// a request that waits forever. Streams (the Hsm's session) keep the caller's choice.
/// </summary>
public sealed class DefaultDeadline(TimeProvider time) : Interceptor
{
    public static readonly TimeSpan UnaryDeadline = TimeSpan.FromSeconds(15);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Options.Deadline is null)
        {
            context = new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host,
                context.Options.WithDeadline(time.GetUtcNow().UtcDateTime.Add(UnaryDeadline)));
        }
        return continuation(request, context);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        BlockingUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Options.Deadline is null)
        {
            context = new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host,
                context.Options.WithDeadline(time.GetUtcNow().UtcDateTime.Add(UnaryDeadline)));
        }
        return continuation(request, context);
    }
}
