using Mesh.NetPay.Api;
using Mesh.NetPay.Notifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Load;

/// <summary>
/// The merchants' back end: the SDK's notification endpoint on a loopback port, so every purchase
/// ends as it does for a real merchant, told the result by a signed notification the SDK verifies.
/// </summary>
public sealed class MerchantBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _told;

    private MerchantBackend(WebApplication app) => _app = app;

    public Uri NotifyUrl { get; private set; } = null!;

    /// <summary>Verified notifications handed over once each (duplicates are dropped by the SDK's inbox).</summary>
    public long Told => Interlocked.Read(ref _told);

    public static async Task<MerchantBackend> StartAsync(NetPayClientOptions anyMerchant)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddNetPayClient(anyMerchant);
        var app = builder.Build();
        var backend = new MerchantBackend(app);
        app.MapNetPayNotifications("/notify", (_, _, _) =>
        {
            Interlocked.Increment(ref backend._told);
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        backend.NotifyUrl = new Uri(new Uri(address), "/notify");
        return backend;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
