using System.Diagnostics;
using System.Globalization;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;
using Mesh.Switch.Options;

namespace Mesh.Switch.Links;

/// <summary>
/// The switch's side of one TCP link to an issuing bank: connect (mutual TLS: the bank must present
/// a certificate naming the link, <see cref="IsoLinkTls"/>), sign on (0800/001), stay
/// connected, reconnect with back-off. An operator may sign the link off (0800/002, then the
/// connection closes and stays closed: the bank's cards get 91 at once and advices wait) and on
/// again. Every exchange on it is one client span that carries the trace context to the bank in
/// field 124.
/// </summary>
public sealed class IssuerLink(IssuerLinkOptions issuer, SwitchOptions options, IsoLinkTls tls, IsoPackager packager, StanSequence stans, TimeProvider time, ILogger logger)
{
    private const int ReconnectDelayMsMin = 100;
    private const int SignOffWaitsMax = 100;
    private const int SignOffWaitMs = 20;
    private volatile IsoClientChannel? _channel;
    private volatile TaskCompletionSource? _signedOff;
    private volatile TaskCompletionSource _closeRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => issuer.Name;

    public string BankId => issuer.BankId;

    public string ZpkId => issuer.ZpkId;

    public string ZakId => issuer.ZakId;

    public string ZmkId => issuer.ZmkId;

    /// <summary>The form the bank's zone keys arrive in (<see cref="KeyExchangeForms"/>).</summary>
    public string KeyExchange => issuer.KeyExchange;

    /// <summary>How long the last echo took to come back, in milliseconds (0 before the first).</summary>
    public double LastEchoLatencyMs { get; private set; }

    /// <summary>Raised for an answer that came after its request gave up (a late 0210, say).</summary>
    public event Action<IssuerLink, IsoMessage>? LateAnswer;

    public bool IsSignedOn => _channel is { IsOpen: true };

    /// <summary>Signed off by an operator: the link stays down until <see cref="SignOn"/>.</summary>
    public bool IsSignedOffByOperator => _signedOff is not null;

    /// <summary>
    /// Tells the bank the switch signs off (0800/002, best effort: a link already down has no one
    /// to tell), has the link's loop close the connection, and keeps it closed until <see cref="SignOn"/>.
    /// </summary>
    public async Task SignOffAsync(CancellationToken ct)
    {
        Interlocked.CompareExchange(ref _signedOff, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        if (_channel is { } channel)
        {
            try
            {
                await ExchangeAsync(channel, NetworkManagement(NetworkManagementCodes.SignOff), options.EchoTimeoutMs, ct);
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or IsoLinkException or ObjectDisposedException)
            {
                logger.LogWarning("Sign-off from {Issuer} was not answered: {Reason}; closing the link anyway", Name, ex.Message);
            }
        }
        _closeRequested.TrySetResult();
        // The link's loop closes the connection at once; the operator is answered once it is closed (bounded).
        for (var i = 0; i < SignOffWaitsMax && _channel is not null; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(SignOffWaitMs), time, ct);
        }
        logger.LogWarning("Signed off from {Issuer} by an operator: its cards get 91 until it is signed on again", Name);
    }

    /// <summary>Lets the link connect and sign on again after an operator's sign-off.</summary>
    public void SignOn()
    {
        if (Interlocked.Exchange(ref _signedOff, null) is { } waiting)
        {
            logger.LogInformation("{Issuer} may sign on again", Name);
            waiting.TrySetResult();
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        IssuerLinkOptions.TryParseEndpoint(issuer.Endpoint, out var host, out var port);
        var delayMs = ReconnectDelayMsMin;
        while (!ct.IsCancellationRequested)
        {
            if (_signedOff is { } signedOff)
            {
                await signedOff.Task.WaitAsync(ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            IsoClientChannel? channel = null;
            try
            {
                channel = await IsoClientChannel.ConnectAsync(host, port, tls, issuer.Name, packager, ct);
                var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var closeRequested = _closeRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                channel.Closed += _ => closed.TrySetResult();
                channel.UnmatchedAnswer += m => LateAnswer?.Invoke(this, m);
                await SignOnAsync(channel, ct);
                if (_signedOff is not null)
                {
                    continue; // signed off while this connection was signing on
                }
                _channel = channel;
                delayMs = ReconnectDelayMsMin;
                logger.LogInformation("Signed on to {Issuer} at {Endpoint}", Name, issuer.Endpoint);
                // The connection ends when the bank closes it, an echo goes unanswered, or an operator signs off.
                await KeepAliveAsync(channel, Task.WhenAny(closed.Task, closeRequested.Task), ct);
                logger.LogWarning("Link to {Issuer} closed", Name);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The bank, the network or the Hsm (signing the sign-on) out of reach: a link that
                // stopped trying would leave the bank's cards at 91 until the switch restarts.
                logger.LogWarning("Link to {Issuer} failed: {Reason} ({Kind}); retrying in {DelayMs} ms", Name, ex.Message, ex.GetType().Name, delayMs);
            }
            finally
            {
                _channel = null;
                if (channel is not null)
                {
                    await channel.DisposeAsync();
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(delayMs), time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delayMs = Math.Min(delayMs * 2, options.ReconnectDelayMsMax);
        }
    }

    /// <summary>A network-management request (0800) with field 70 = <paramref name="code"/>.</summary>
    public IsoMessage NetworkManagement(string code) =>
        new IsoMessage("0800")
            .Set(IsoFields.TransmissionDateTime, time.GetUtcNow().ToString("MMddHHmmss", CultureInfo.InvariantCulture))
            .Set(IsoFields.Stan, stans.Next())
            .Set(IsoFields.ForwardingId, options.InstitutionId)
            .Set(IsoFields.NetworkManagementCode, code);

    /// <summary>Sends a request on the link and waits for its answer, as one client span.</summary>
    public Task<IsoMessage> ExchangeAsync(IsoMessage request, int timeoutMs, CancellationToken ct)
    {
        var channel = _channel ?? throw new IsoLinkException($"{Name} is not signed on");
        return ExchangeAsync(channel, request, timeoutMs, ct);
    }

    private async Task<IsoMessage> ExchangeAsync(IsoClientChannel channel, IsoMessage request, int timeoutMs, CancellationToken ct)
    {
        using var activity = SwitchTelemetry.Source.StartActivity($"iso8583 {request.Mti} → {Name}", ActivityKind.Client);
        activity?.SetTag("iso8583.mti", request.Mti);
        activity?.SetTag("iso8583.stan", request.GetString(IsoFields.Stan));
        activity?.SetTag("iso8583.rrn", request.GetString(IsoFields.Rrn));
        activity?.SetTag("mesh.issuer", Name);
        activity?.SetTag("mesh.merchant_id", request.GetString(IsoFields.MerchantId));
        if (request.GetString(IsoFields.Pan) is { } pan)
        {
            activity?.SetTag("mesh.pan", Pan.Mask(pan));
        }
        activity?.SetTag("peer.service", Name);
        IsoTraceContext.Inject(request, activity);
        try
        {
            var answer = await channel.SendRequestAsync(request, timeoutMs, ct);
            activity?.SetTag("iso8583.response_code", answer.GetString(IsoFields.ResponseCode));
            return answer;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    /// <summary>Echoes (0800/301) on the link every EchoIntervalMs until it closes; an unanswered echo closes it.</summary>
    private async Task KeepAliveAsync(IsoClientChannel channel, Task closed, CancellationToken ct)
    {
        while (!closed.IsCompleted)
        {
            var tick = Task.Delay(TimeSpan.FromMilliseconds(options.EchoIntervalMs), time, ct);
            if (await Task.WhenAny(tick, closed) == closed)
            {
                return;
            }
            await tick;
            await EchoAsync(ct);
        }
    }

    /// <summary>An echo on the link; its latency is kept for the link state.</summary>
    public async Task<IsoMessage> EchoAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var answer = await ExchangeAsync(NetworkManagement(NetworkManagementCodes.Echo), options.EchoTimeoutMs, ct);
        LastEchoLatencyMs = time.GetElapsedTime(started).TotalMilliseconds;
        return answer;
    }

    private async Task SignOnAsync(IsoClientChannel channel, CancellationToken ct)
    {
        var answer = await ExchangeAsync(channel, NetworkManagement(NetworkManagementCodes.SignOn), options.EchoTimeoutMs, ct);
        var code = answer.GetString(IsoFields.ResponseCode);
        if (code != ResponseCodes.Approved)
        {
            throw new IsoLinkException($"{Name} refused sign-on with response code {code}");
        }
    }
}

public sealed class IsoLinkException(string message) : Exception(message);
