using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests;

/// <summary>A notification as the merchant's server received it, and the path it was posted to.</summary>
public sealed record ReceivedNotification(string ContentType, IReadOnlyDictionary<string, string> Headers, byte[] Body, int AnsweredStatus, string Path);

/// <summary>
/// The merchant's notification endpoint: real Kestrel on loopback (HTTP, or HTTPS with a
/// self-signed certificate), recording what it receives. It can fail the next N requests, answer
/// 500 to all, or hang longer than the gateway waits.
/// </summary>
public sealed class MerchantServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failNext;

    private MerchantServer(WebApplication app, X509Certificate2? certificate)
    {
        _app = app;
        Certificate = certificate;
    }

    private static readonly ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);

    /// <summary>
    /// The addresses of the servers running now, as return-address prefixes: a test merchant
    /// registers them at onboarding (NetPay's BgRetUrl must lie under a registered prefix).
    /// </summary>
    public static IReadOnlyList<string> LivePrefixes => [.. Live.Keys];

    public ConcurrentQueue<ReceivedNotification> Received { get; } = new();

    public X509Certificate2? Certificate { get; }

    public string Url { get; private set; } = "";

    public bool AlwaysFail { get; set; }

    public bool Hang { get; set; }

    public void FailNext(int count) => Interlocked.Exchange(ref _failNext, count);

    public static async Task<MerchantServer> StartAsync(bool https = false)
    {
        X509Certificate2? certificate = null;
        if (https)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        var server = new MerchantServer(app, certificate);
        app.MapPost("/notify", (Delegate)server.ReceiveAsync);
        app.MapPost("/notify/{**rest}", (Delegate)server.ReceiveAsync);
        await app.StartAsync();
        server.Url = $"{(https ? "https" : "http")}://127.0.0.1:{new Uri(app.Urls.First()).Port}/notify";
        Live[server.Url] = 0;
        return server;
    }

    private async Task<IResult> ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        if (Hang)
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return Results.Ok();
        }
        var status = AlwaysFail || Interlocked.Decrement(ref _failNext) >= 0 ? 500 : 200;
        Received.Enqueue(new ReceivedNotification(context.Request.ContentType ?? "",
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray(), status,
            context.Request.Path.Value ?? ""));
        return Results.StatusCode(status);
    }

    /// <summary>Waits until a notification answered 2xx matches; null when none came in time.</summary>
    public async Task<ReceivedNotification?> WaitForAsync(Func<ReceivedNotification, bool> match, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (DateTime.UtcNow < deadline)
        {
            if (Received.FirstOrDefault(r => r.AnsweredStatus == 200 && match(r)) is { } found)
            {
                return found;
            }
            await Task.Delay(100);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        Live.TryRemove(Url, out _);
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate?.Dispose();
    }
}
