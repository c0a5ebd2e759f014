using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Tests;

/// <summary>Client and server over real loopback TCP, inside mutual TLS as a bank's listener and the switch run it.</summary>
public sealed class IsoChannelTests : IAsyncLifetime
{
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);
    private readonly TestLinkCertificates _scheme = new();
    private readonly IsoLinkTls _bank;
    private readonly IsoLinkTls _switch;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
    private readonly List<string> _serverLog = [];
    private readonly List<string?> _receivedTraceParents = [];
    private IsoServer _server = null!;
    private Task _serverTask = Task.CompletedTask;
    private int _port;

    public IsoChannelTests()
    {
        _bank = _scheme.End("issuer-test", TestLinkCertificates.ServerAuthentication);
        _switch = _scheme.End("switch", TestLinkCertificates.ClientAuthentication);
    }

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _server = new IsoServer(Packager, AnswerAsync, _bank, "switch", (what, _) => { lock (_serverLog) { _serverLog.Add(what); } });
        _serverTask = _server.RunAsync(new IPEndPoint(IPAddress.Loopback, _port), _stop.Token);
        await WaitUntilListeningAsync(_server);
    }

    private static Task WaitUntilListeningAsync(IsoServer server) =>
        Eventually.TrueAsync(() => server.IsListening, "the ISO server listening");

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serverTask;
        _stop.Dispose();
        _scheme.Dispose();
    }

    private ValueTask<IsoMessage?> AnswerAsync(IsoMessage request, CancellationToken ct)
    {
        lock (_receivedTraceParents)
        {
            _receivedTraceParents.Add(IsoTraceContext.TryExtract(request, out var context) ? context.TraceId.ToString() : null);
        }
        var answer = new IsoMessage(IsoMessage.ResponseMti(request.Mti))
            .Set(IsoFields.Stan, request.GetString(IsoFields.Stan)!)
            .Set(IsoFields.ResponseCode, ResponseCodes.Approved);
        return ValueTask.FromResult<IsoMessage?>(answer);
    }

    [Fact]
    public async Task ManyRequestsInFlight_EachGetsTheAnswerWithItsStan()
    {
        await using var client = await IsoClientChannel.ConnectAsync("127.0.0.1", _port, _switch, "issuer-test", Packager, _stop.Token);

        var answers = await Task.WhenAll(Enumerable.Range(1, 200).Select(async i =>
        {
            var stan = i.ToString("D6", CultureInfo.InvariantCulture);
            var request = new IsoMessage("0800").Set(IsoFields.Stan, stan).Set(IsoFields.NetworkManagementCode, NetworkManagementCodes.Echo);
            var answer = await client.SendRequestAsync(request, 5_000, _stop.Token);
            return (stan, answer);
        }));

        Assert.All(answers, a =>
        {
            Assert.Equal("0810", a.answer.Mti);
            Assert.Equal(a.stan, a.answer.GetString(IsoFields.Stan));
        });
    }

    [Fact]
    public async Task TraceContext_CrossesTheLinkInField124()
    {
        using var source = new ActivitySource("Mesh.Tests.Iso8583");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var client = await IsoClientChannel.ConnectAsync("127.0.0.1", _port, _switch, "issuer-test", Packager, _stop.Token);
        using var activity = source.StartActivity("echo")!;
        var request = new IsoMessage("0800").Set(IsoFields.Stan, "000777").Set(IsoFields.NetworkManagementCode, NetworkManagementCodes.Echo);
        IsoTraceContext.Inject(request, activity);

        await client.SendRequestAsync(request, 5_000, _stop.Token);

        lock (_receivedTraceParents)
        {
            Assert.Contains(activity.TraceId.ToString(), _receivedTraceParents);
        }
    }

    [Fact]
    public async Task UnreadableRequest_IsAnsweredWithFormatError30()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, _stop.Token);
        await using var stream = await _switch.ConnectAsync(tcp.GetStream(), "issuer-test", _stop.Token);
        var echo = Packager.Pack(new IsoMessage("0800").Set(IsoFields.Stan, "000042").Set(IsoFields.NetworkManagementCode, "301"));
        echo[^1] = (byte)'X'; // field 70 is numeric

        await stream.WriteAsync(IsoFraming.Frame(echo), _stop.Token);
        var answer = Packager.Unpack((await IsoFraming.ReadFrameAsync(stream, _stop.Token))!);

        Assert.True(answer.Ok);
        Assert.Equal("0810", answer.Message!.Mti);
        Assert.Equal("000042", answer.Message.GetString(IsoFields.Stan));
        Assert.Equal(ResponseCodes.FormatError, answer.Message.GetString(IsoFields.ResponseCode));
    }

    [Fact]
    public async Task NoAnswerInTime_IsATimeout()
    {
        var port = FreePort();
        var silent = new IsoServer(Packager, (_, _) => ValueTask.FromResult<IsoMessage?>(null), _bank, "switch", (_, _) => { });
        _ = silent.RunAsync(new IPEndPoint(IPAddress.Loopback, port), _stop.Token);
        await WaitUntilListeningAsync(silent);
        await using var client = await IsoClientChannel.ConnectAsync("127.0.0.1", port, _switch, "issuer-test", Packager, _stop.Token);

        var request = new IsoMessage("0800").Set(IsoFields.Stan, "000001").Set(IsoFields.NetworkManagementCode, "301");
        await Assert.ThrowsAsync<TimeoutException>(() => client.SendRequestAsync(request, 200, _stop.Token));
    }

    [Fact]
    public async Task FrameLongerThanTheLimit_DropsTheConnectionWithoutAnswer()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, _stop.Token);
        await using var stream = await _switch.ConnectAsync(tcp.GetStream(), "issuer-test", _stop.Token);
        var header = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(header, IsoPackager.MessageBytesMax + 1);

        await stream.WriteAsync(header, _stop.Token);
        var read = await stream.ReadAsync(new byte[16], _stop.Token);

        Assert.Equal(0, read);
    }

    [Fact]
    public async Task ReadFrame_PeerClosesBetweenFrames_GivesNull_AndInsideAFrame_Throws()
    {
        Assert.Null(await IsoFraming.ReadFrameAsync(new MemoryStream([]), CancellationToken.None));
        await Assert.ThrowsAsync<IsoFramingException>(async () =>
            await IsoFraming.ReadFrameAsync(new MemoryStream([0x00, 0x10, 0x30]), CancellationToken.None));
        await Assert.ThrowsAsync<IsoFramingException>(async () =>
            await IsoFraming.ReadFrameAsync(new MemoryStream([0x00, 0x00]), CancellationToken.None));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
