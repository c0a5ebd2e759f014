using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Channel;

/// <summary>Handles one request; returns the answer to send, or null for none.</summary>
public delegate ValueTask<IsoMessage?> IsoRequestHandler(IsoMessage request, CancellationToken ct);

/// <summary>Thrown by a handler to drop the connection the request came on (a fault a test asks for).</summary>
public sealed class IsoCloseConnectionException(string reason) : Exception(reason);

/// <summary>
/// A TCP server speaking framed ISO 8583 inside mutual TLS: a connection is served only after its
/// peer proved to be <paramref name="expectedClient"/> (<see cref="IsoLinkTls"/>); every
/// connection is then read in a loop, requests are handled concurrently up to
/// <see cref="RequestsInFlightMax"/> per connection, and bytes that do not unpack are answered
/// with response code 30 when the MTI can be read, never with an exception.
/// </summary>
public sealed class IsoServer(IsoPackager packager, IsoRequestHandler handler, IsoLinkTls tls, string expectedClient, Action<string, Exception?> log)
{
    public const int ConnectionsMax = 256;
    public const int RequestsInFlightMax = 512;
    private int _connections;

    /// <summary>True while the listener accepts connections.</summary>
    public bool IsListening { get; private set; }

    public async Task RunAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        using var listener = new TcpListener(endpoint);
        listener.Start();
        IsListening = true;
        log($"listening on {listener.LocalEndpoint}", null);
        var connections = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(ct);
                if (Interlocked.Increment(ref _connections) > ConnectionsMax)
                {
                    Interlocked.Decrement(ref _connections);
                    log("connection refused: too many connections", null);
                    client.Dispose();
                    continue;
                }
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeAsync(client, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            IsListening = false;
        }
        await Task.WhenAll(connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ServeAsync(TcpClient client, CancellationToken ct)
    {
        client.NoDelay = true;
        var peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
        SslStream stream;
        try
        {
            stream = await tls.AcceptAsync(client.GetStream(), expectedClient, ct);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            // Not the link's peer (no certificate, another CA's, another name), or no TLS at all: nothing is read from it.
            log($"connection from {peer} refused: not {expectedClient} over TLS", ex is OperationCanceledException ? null : ex);
            client.Dispose();
            Interlocked.Decrement(ref _connections);
            return;
        }
        using var writeLock = new SemaphoreSlim(1, 1);
        using var inFlight = new SemaphoreSlim(RequestsInFlightMax, RequestsInFlightMax);
        var handlers = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var frame = await IsoFraming.ReadFrameAsync(stream, ct);
                if (frame is null)
                {
                    break;
                }
                await inFlight.WaitAsync(ct);
                handlers.RemoveAll(t => t.IsCompleted);
                handlers.Add(HandleAsync(frame));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            log($"connection from {peer} dropped", ex);
        }
        finally
        {
            await Task.WhenAll(handlers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await stream.DisposeAsync();
            client.Dispose();
            Interlocked.Decrement(ref _connections);
        }

        async Task HandleAsync(byte[] frame)
        {
            try
            {
                var answer = await AnswerAsync(frame, ct);
                if (answer is not null)
                {
                    var bytes = IsoFraming.Frame(packager.Pack(answer));
                    await writeLock.WaitAsync(ct);
                    try
                    {
                        await stream.WriteAsync(bytes, ct);
                    }
                    finally
                    {
                        writeLock.Release();
                    }
                }
            }
            catch (IsoCloseConnectionException ex)
            {
                log($"closing the connection from {peer}: {ex.Message}", null);
                client.Close();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log($"request from {peer} failed", ex);
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    private async ValueTask<IsoMessage?> AnswerAsync(byte[] frame, CancellationToken ct)
    {
        var result = packager.Unpack(frame);
        if (result.Ok)
        {
            return await handler(result.Message!, ct);
        }
        log($"format error: {result.Error}", null);
        return FormatErrorAnswer(result.Partial);
    }

    /// <summary>The answer to an unreadable request: its response MTI with 39 = 30, echoing the STAN if read.</summary>
    public static IsoMessage? FormatErrorAnswer(IsoMessage? partial)
    {
        if (partial is null || partial.Mti[2] is not ('0' or '2' or '4'))
        {
            return null;
        }
        return IsoMessage.AnswerTo(partial, ResponseCodes.FormatError, [IsoFields.TransmissionDateTime, IsoFields.Stan, IsoFields.AcquirerId]);
    }
}
