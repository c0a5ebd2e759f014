using Mesh.ServiceDefaults.Background;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Switch.Tests;

/// <summary>
/// The background workers' loop (the reversal queue's among them). The crash campaign found the
/// switch stopping when the Hsm was killed with a reversal due: the queue's own loop let the Hsm's
/// RpcException escape, and a worker that throws stops the host. Now any failure of a round is
/// logged and the round tried again; only stopping ends the loop.
/// </summary>
public sealed class PollingLoopTests
{
    [Fact]
    public async Task ARoundThatThrows_AnythingButStopping_IsTriedAgain_AndStoppingEndsTheLoop()
    {
        var failures = new Queue<Exception>([
            new global::Grpc.Core.RpcException(new global::Grpc.Core.Status(global::Grpc.Core.StatusCode.Unavailable, "hsm is down")),
            new TaskCanceledException("an HTTP timeout"),
            new InvalidOperationException("anything else"),
        ]);
        using var stopping = new CancellationTokenSource();
        var rounds = 0;
        var loop = PollingLoop.RunAsync(_ =>
        {
            rounds++;
            if (failures.TryDequeue(out var failure))
            {
                throw failure;
            }
            if (rounds == 5)
            {
                stopping.Cancel();
            }
            return Task.FromResult(true);
        }, () => TimeSpan.Zero, new FakeTimeProvider(), NullLogger.Instance, "test rounds", stopping.Token);

        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(5, rounds);
        Assert.Empty(failures);
    }
}
