using System.Collections.Concurrent;
using System.Net.Sockets;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Channel;

/// <summary>
/// One mutual-TLS connection to a peer (<see cref="IsoLinkTls"/>), many requests in flight on it: each request waits for the answer
/// with the same STAN and acquirer id. Answers that match nothing (late, or unknown) are handed to
/// <see cref="UnmatchedAnswer"/> so the caller can reconcile them.
/// </summary>
public sealed class IsoClientChannel : IAsyncDisposable
{
    public const int InFlightMax = 4096;

    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly IsoPackager _packager;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IsoMessage>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _readLoop;

    private IsoClientChannel(TcpClient tcp, Stream stream, IsoPackager packager)
    {
        _tcp = tcp;
        _stream = stream;
        _packager = packager;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Raised on the read loop for an answer no request is waiting for.</summary>
    public event Action<IsoMessage>? UnmatchedAnswer;

    /// <summary>Raised once when the connection ends, with the reason.</summary>
    public event Action<Exception?>? Closed;

    public bool IsOpen => !_closing.IsCancellationRequested;

    /// <summary>Connects to <paramref name="host"/> and proves, in a mutual TLS handshake, that the peer is <paramref name="expectedServer"/>.</summary>
    public static async Task<IsoClientChannel> ConnectAsync(string host, int port, IsoLinkTls tls, string expectedServer, IsoPackager packager, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, ct);
            var stream = await tls.ConnectAsync(tcp.GetStream(), expectedServer, ct);
            return new IsoClientChannel(tcp, stream, packager);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a request and waits for its answer, at most <paramref name="timeoutMs"/>.</summary>
    /// <exception cref="TimeoutException">No answer in time: the outcome is unknown.</exception>
    public async Task<IsoMessage> SendRequestAsync(IsoMessage request, int timeoutMs, CancellationToken ct)
    {
        var key = MatchKey(request) ?? throw new ArgumentException("A request needs a STAN (field 11)", nameof(request));
        var frame = IsoFraming.Frame(_packager.Pack(request));
        if (_pending.Count >= InFlightMax)
        {
            throw new InvalidOperationException($"More than {InFlightMax} requests in flight on one link");
        }
        var answer = new TaskCompletionSource<IsoMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"A request with STAN and acquirer {key} is already in flight");
        }
        try
        {
            await SendFrameAsync(frame, ct);
            return await answer.Task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs), ct);
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>Sends a message that expects no answer on this call (an answer to the peer, an advice).</summary>
    public Task SendAsync(IsoMessage message, CancellationToken ct) =>
        SendFrameAsync(IsoFraming.Frame(_packager.Pack(message)), ct);

    private async Task SendFrameAsync(byte[] frame, CancellationToken ct)
    {
        if (!IsOpen)
        {
            throw new IOException("The link is closed");
        }
        await _writeLock.WaitAsync(ct);
        try
        {
            await _stream.WriteAsync(frame, ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static string? MatchKey(IsoMessage message) =>
        message.GetString(IsoFields.Stan) is { } stan ? $"{stan}/{message.GetString(IsoFields.AcquirerId)}" : null;

    private async Task ReadLoopAsync()
    {
        Exception? reason = null;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var frame = await IsoFraming.ReadFrameAsync(_stream, _closing.Token);
                if (frame is null)
                {
                    break;
                }
                var result = _packager.Unpack(frame);
                if (!result.Ok)
                {
                    // An answer we cannot read matches nothing: its request times out and is reversed.
                    continue;
                }
                var message = result.Message!;
                if (MatchKey(message) is { } key && _pending.TryRemove(key, out var waiting))
                {
                    waiting.TrySetResult(message);
                }
                else
                {
                    UnmatchedAnswer?.Invoke(message);
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            reason = ex;
        }
        finally
        {
            _closing.Cancel();
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("The link closed before the answer arrived", reason));
            }
            Closed?.Invoke(reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _stream.DisposeAsync();
        _tcp.Dispose();
        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _closing.Dispose();
        _writeLock.Dispose();
    }
}
