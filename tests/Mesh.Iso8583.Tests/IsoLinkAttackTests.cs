using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Tests;

/// <summary>
/// Who may talk on a bank's ISO link, tried as an attacker on the network would: every peer but
/// the switch, holding the scheme's certificate for its role, is refused before a byte of ISO
/// 8583 is read; and the switch talks to no listener but the bank it dialled.
/// </summary>
public sealed class IsoLinkAttackTests : IAsyncLifetime
{
    private const string Bank = "issuer-icbc";
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);
    private readonly TestLinkCertificates _scheme = new();
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
    private readonly List<string> _serverLog = [];
    private IsoServer _server = null!;
    private Task _serving = Task.CompletedTask;
    private int _requestsHandled;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _server = new IsoServer(Packager, Answer, _scheme.End(Bank, TestLinkCertificates.ServerAuthentication), "switch",
            (what, _) => { lock (_serverLog) { _serverLog.Add(what); } });
        _serving = _server.RunAsync(new IPEndPoint(IPAddress.Loopback, _port), _stop.Token);
        await Eventually.TrueAsync(() => _server.IsListening, "the bank's ISO server listening");
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving;
        _stop.Dispose();
        _scheme.Dispose();
    }

    private ValueTask<IsoMessage?> Answer(IsoMessage request, CancellationToken ct)
    {
        Interlocked.Increment(ref _requestsHandled);
        return ValueTask.FromResult<IsoMessage?>(IsoMessage.AnswerTo(request, ResponseCodes.Approved, [IsoFields.Stan]));
    }

    [Fact]
    public async Task TheSwitch_WithItsCertificate_IsServed()
    {
        await using var client = await IsoClientChannel.ConnectAsync("127.0.0.1", _port, _scheme.End("switch", TestLinkCertificates.ClientAuthentication), Bank,
            Packager, _stop.Token);

        var answer = await client.SendRequestAsync(Echo("000001"), 5_000, _stop.Token);

        Assert.Equal(ResponseCodes.Approved, answer.GetString(IsoFields.ResponseCode));
        Assert.Equal(1, _requestsHandled);
    }

    [Fact]
    public async Task PlainTcp_ANeatlyFramedEcho_IsNeverRead()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, _stop.Token);
        var stream = tcp.GetStream();

        await stream.WriteAsync(IsoFraming.Frame(Packager.Pack(Echo("000002"))), _stop.Token);
        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, _stop.Token);
        }
        catch (IOException)
        {
            // A reset connection is a refusal too.
        }

        // All the bank says in clear is TLS's refusal (an alert record, type 21) before it closes.
        var bytes = received.ToArray();
        Assert.True(bytes.Length == 0 || bytes[0] == 21, $"got {Convert.ToHexString(bytes)}");
        Assert.Equal(0, _requestsHandled);
        await AssertRefusalLoggedAsync();
    }

    [Fact]
    public async Task TlsWithoutAClientCertificate_IsRefused()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _port, _stop.Token);
        await using var tls = new SslStream(tcp.GetStream());

        await AssertRefusedAsync(async () =>
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = Bank,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, _stop.Token);
            await tls.WriteAsync(IsoFraming.Frame(Packager.Pack(Echo("000003"))), _stop.Token);
            if (await tls.ReadAsync(new byte[256], _stop.Token) == 0)
            {
                throw new IOException("The bank closed the connection");
            }
        });
        await AssertRefusalLoggedAsync();
    }

    public static TheoryData<string, string> Impostors => new()
    {
        { "another CA's certificate named switch", "foreign-switch" },
        { "the scheme's certificate of another service (the gateway)", "gateway" },
        { "the scheme's certificate of another bank (server authentication only)", "bank-as-switch" },
        { "the switch's certificate, expired", "expired-switch" },
    };

    [Theory]
    [MemberData(nameof(Impostors))]
    public async Task APeerThatIsNotTheSwitch_IsRefused_AndNothingIsHandled(string who, string impostor)
    {
        using var foreign = new TestLinkCertificates("Some other CA");
        var certificate = impostor switch
        {
            "foreign-switch" => foreign.Issue("switch", TestLinkCertificates.ClientAuthentication),
            "gateway" => _scheme.Issue("gateway", TestLinkCertificates.ClientAuthentication),
            "bank-as-switch" => _scheme.Issue("switch", TestLinkCertificates.ServerAuthentication),
            _ => _scheme.Issue("switch", TestLinkCertificates.ClientAuthentication, notAfter: DateTimeOffset.UtcNow.AddDays(-1)),
        };
        // The impostor trusts our bank (it only wants to be trusted back).
        var end = new IsoLinkTls(certificate, _scheme.TrustAnchor, TimeProvider.System);

        await AssertRefusedAsync(async () =>
        {
            await using var client = await IsoClientChannel.ConnectAsync("127.0.0.1", _port, end, Bank, Packager, _stop.Token);
            await client.SendRequestAsync(Echo("000004"), 5_000, _stop.Token);
        }, who);
        await AssertRefusalLoggedAsync();
    }

    [Fact]
    public async Task TheSwitch_RefusesAListenerThatIsNotTheBankItDialled()
    {
        var port = FreePort();
        // A listener holding the scheme's certificate of another bank, pretending to be ICBC's.
        var other = new IsoServer(Packager, Answer, _scheme.End("issuer-ccb", TestLinkCertificates.ServerAuthentication), "switch", (_, _) => { });
        _ = other.RunAsync(new IPEndPoint(IPAddress.Loopback, port), _stop.Token);
        await Eventually.TrueAsync(() => other.IsListening, "the other bank's listener listening");

        await Assert.ThrowsAsync<AuthenticationException>(() =>
            IsoClientChannel.ConnectAsync("127.0.0.1", port, _scheme.End("switch", TestLinkCertificates.ClientAuthentication), Bank, Packager, _stop.Token));
        Assert.Equal(0, _requestsHandled);
    }

    /// <summary>The attempt fails (refused handshake, closed connection or no answer) and no request reached the bank's handler.</summary>
    private async Task AssertRefusedAsync(Func<Task> attempt, string? who = null)
    {
        var refused = await Record.ExceptionAsync(attempt);
        Assert.True(refused is AuthenticationException or IOException or TimeoutException or ObjectDisposedException,
            $"{who}: expected a refusal, got {refused?.GetType().Name ?? "an answer"}");
        Assert.Equal(0, _requestsHandled);
    }

    /// <summary>The bank's log says why (the refusal is logged as the handshake ends, which may be just after the client gave up).</summary>
    private Task AssertRefusalLoggedAsync() =>
        Eventually.TrueAsync(() =>
        {
            lock (_serverLog)
            {
                return _serverLog.Any(line => line.Contains("refused: not switch over TLS", StringComparison.Ordinal));
            }
        }, "the bank's listener logging the refusal (refused: not switch over TLS)");

    private static IsoMessage Echo(string stan) =>
        new IsoMessage("0800").Set(IsoFields.Stan, stan).Set(IsoFields.NetworkManagementCode, NetworkManagementCodes.Echo);

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
