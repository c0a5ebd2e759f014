using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Core;

namespace Mesh.Contracts.Hsm;

/// <summary>
/// A caller's session with the Hsm: one long-lived <c>Session</c> stream carrying the
/// transaction-path commands, many in flight, matched to their results by id. It costs a
/// fraction of a unary call per command. The stream is opened on first use and again after it
/// breaks; the commands in flight when it breaks fail with <see cref="StatusCode.Unavailable"/>.
/// A refused command throws the <see cref="RpcException"/> a unary call would have thrown.
/// </summary>
public sealed class HsmSession(Func<Hsm.HsmClient> clients) : IAsyncDisposable
{
    public const int CommandTimeoutMs = 10_000;
    public const int OutgoingMax = 1_024;

    /// <summary>A write that more writes follow at once: gRPC need not flush it on its own.</summary>
    public static readonly WriteOptions BufferedWrite = new(WriteFlags.BufferHint);
    private static readonly ActivitySource Source = new("Mesh.HsmSession");
    private readonly SemaphoreSlim _opening = new(1, 1);
    private Connection? _connection;
    private long _nextId;

    public async Task<GenerateMacReply> GenerateMacAsync(GenerateMacRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { GenerateMac = request }, ct)).GenerateMac;

    public async Task<VerifyMacReply> VerifyMacAsync(VerifyMacRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { VerifyMac = request }, ct)).VerifyMac;

    public async Task<VerifyPinReply> VerifyPinAsync(VerifyPinRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { VerifyPin = request }, ct)).VerifyPin;

    public async Task<LookupHashReply> LookupHashAsync(LookupHashRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { LookupHash = request }, ct)).LookupHash;

    public async Task<DecryptDataReply> DecryptDataAsync(DecryptDataRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { DecryptData = request }, ct)).DecryptData;

    public async Task<SignReply> SignAsync(SignRequest request, CancellationToken ct) =>
        (await ExecuteAsync(new HsmCommand { Sign = request }, ct)).Sign;

    /// <summary>Most commands in one <see cref="HsmBatch"/>.</summary>
    public const int BatchMax = 8;

    /// <summary>
    /// Commands that do not depend on one another in one round trip. Each result is what the
    /// command sent alone would have answered, a refusal included: <see cref="Checked"/> turns it
    /// into that call's <see cref="RpcException"/>.
    /// </summary>
    public async Task<IReadOnlyList<HsmResult>> ExecuteBatchAsync(IReadOnlyCollection<HsmCommand> commands, CancellationToken ct)
    {
        if (commands.Count is 0 or > BatchMax)
        {
            throw new ArgumentOutOfRangeException(nameof(commands), commands.Count, $"a batch holds 1 to {BatchMax} commands");
        }
        var results = (await ExecuteAsync(new HsmCommand { Batch = new HsmBatch { Commands = { commands } } }, ct)).Batch.Results;
        if (results.Count != commands.Count)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the Hsm answered {results.Count} results to a batch of {commands.Count}"));
        }
        return results;
    }

    /// <summary>A batch's result as its command's own call gives it: the result, or the <see cref="RpcException"/> of its refusal.</summary>
    public static HsmResult Checked(HsmResult result) =>
        result.Refusal is { } refusal ? throw new RpcException(new Status((StatusCode)refusal.StatusCode, refusal.Message)) : result;

    /// <summary>
    /// Whether a batch's command was accepted: true when it ran, false when the Hsm refused its
    /// input as wrong or unreadable (a MAC that does not verify, a PIN ciphertext that does not
    /// open); any other refusal (unavailable, not allowed) throws as <see cref="Checked"/> does.
    /// </summary>
    public static bool Accepted(HsmResult result) =>
        result.Refusal is not { StatusCode: (int)StatusCode.FailedPrecondition or (int)StatusCode.InvalidArgument }
        && Checked(result) is not null;

    private async Task<HsmResult> ExecuteAsync(HsmCommand command, CancellationToken ct)
    {
        using var activity = Source.StartActivity($"hsm {command.CommandCase}", ActivityKind.Client);
        command.Id = (ulong)Interlocked.Increment(ref _nextId);
        command.Traceparent = activity?.Id ?? "";
        var connection = await OpenAsync(ct);
        var pending = new TaskCompletionSource<HsmResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Pending[command.Id] = pending;
        try
        {
            await connection.Outgoing.Writer.WriteAsync(command, ct);
            var result = await pending.Task.WaitAsync(TimeSpan.FromMilliseconds(CommandTimeoutMs), ct);
            if (result.Refusal is { } refusal)
            {
                activity?.SetTag("hsm.error_code", refusal.HsmErrorCode);
            }
            return Checked(result);
        }
        catch (TimeoutException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"the Hsm did not answer {command.CommandCase} in {CommandTimeoutMs} ms"));
        }
        catch (ChannelClosedException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the Hsm session closed"));
        }
        finally
        {
            connection.Pending.TryRemove(command.Id, out _);
        }
    }

    private async ValueTask<Connection> OpenAsync(CancellationToken ct)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }
        await _opening.WaitAsync(ct);
        try
        {
            if (_connection is { IsOpen: true } opened)
            {
                return opened;
            }
            _connection = new Connection(clients().Session(cancellationToken: CancellationToken.None)); // lives beyond this call
            return _connection;
        }
        finally
        {
            _opening.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            await connection.CloseAsync();
        }
        _opening.Dispose();
    }

    /// <summary>One stream: a writer loop (gRPC allows one write at a time) and a reader loop that completes the commands.</summary>
    private sealed class Connection
    {
        private readonly AsyncDuplexStreamingCall<HsmCommand, HsmResult> _call;
        private readonly Task _writer;
        private readonly Task _reader;

        public Connection(AsyncDuplexStreamingCall<HsmCommand, HsmResult> call)
        {
            _call = call;
            _writer = Task.Run(WriteAsync);
            _reader = Task.Run(ReadAsync);
        }

        public Channel<HsmCommand> Outgoing { get; } = Channel.CreateBounded<HsmCommand>(new BoundedChannelOptions(OutgoingMax) { SingleReader = true });

        public ConcurrentDictionary<ulong, TaskCompletionSource<HsmResult>> Pending { get; } = new();

        public bool IsOpen { get; private set; } = true;

        private async Task WriteAsync()
        {
            try
            {
                while (await Outgoing.Reader.WaitToReadAsync())
                {
                    while (Outgoing.Reader.TryRead(out var command))
                    {
                        // Commands of concurrent callers that queued up together leave in one flush: each but the last is
                        // written with the buffer hint.
                        _call.RequestStream.WriteOptions = Outgoing.Reader.Count > 0 ? BufferedWrite : null;
                        await _call.RequestStream.WriteAsync(command);
                    }
                }
                await _call.RequestStream.CompleteAsync();
            }
            catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                Break();
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var result in _call.ResponseStream.ReadAllAsync())
                {
                    if (Pending.TryRemove(result.Id, out var pending))
                    {
                        pending.TrySetResult(result);
                    }
                }
            }
            catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or ObjectDisposedException)
            {
            }
            Break();
        }

        /// <summary>The stream is gone: nothing more is sent on it, and what waits on it fails now rather than at its timeout.</summary>
        private void Break()
        {
            IsOpen = false;
            Outgoing.Writer.TryComplete();
            foreach (var id in Pending.Keys)
            {
                if (Pending.TryRemove(id, out var pending))
                {
                    pending.TrySetException(new RpcException(new Status(StatusCode.Unavailable, "the Hsm session broke")));
                }
            }
        }

        public async Task CloseAsync()
        {
            Outgoing.Writer.TryComplete();
            await Task.WhenAny(Task.WhenAll(_writer, _reader), Task.Delay(2_000));
            _call.Dispose();
        }
    }
}
