using Mesh.NetPay.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.NetPay.Notifications;

/// <summary>
/// ASP.NET Core: an endpoint at the merchant's BgRetUrl that reads each notification, checks it
/// is the platform's, drops duplicates (by notification id, through the registered
/// <see cref="INotificationInbox"/>, a <see cref="MemoryNotificationInbox"/> when none is) and
/// hands the merchant's handler a typed <see cref="PaymentNotification"/>. It answers 200 when
/// handled or a duplicate, 400 when the notification is not the platform's, and 500 when the
/// handler failed, so that the platform delivers it again.
/// </summary>
public static class NotificationEndpoints
{
    /// <summary>Maps a POST endpoint at <paramref name="pattern"/>; <paramref name="handle"/> gets each new notification once.</summary>
    public static RouteHandlerBuilder MapNetPayNotifications(this IEndpointRouteBuilder endpoints, string pattern,
        Func<PaymentNotification, IServiceProvider, CancellationToken, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var readers = new ReaderCache();
        return endpoints.MapPost(pattern, async (HttpContext http) =>
        {
            var services = http.RequestServices;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NotificationEndpoints));
            var inbox = services.GetService<INotificationInbox>() ?? readers.FallbackInbox;
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
            if (body.Length > NotificationReader.BodyBytesMax)
            {
                return Results.Problem("too large", statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            PaymentNotification notification;
            try
            {
                var reader = await readers.GetAsync(services, http.RequestAborted);
                notification = await reader.ReadAsync(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                    http.Request.ContentType, body.ToArray(), http.RequestAborted);
            }
            catch (NotificationRejectedException ex)
            {
                logger.LogWarning("Refused a notification: {Reason}", ex.Message);
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Not a notification from the platform");
            }
            if (!await inbox.TryClaimAsync(notification.NotificationId, http.RequestAborted))
            {
                return Results.Ok(new { notification.NotificationId, duplicate = true });
            }
            try
            {
                await handle(notification, services, http.RequestAborted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await inbox.ReleaseAsync(notification.NotificationId, CancellationToken.None);
                logger.LogError(ex, "Handling notification {NotificationId} of order {OrderId} failed; the platform will deliver it again",
                    notification.NotificationId, notification.OrderId);
                return Results.Problem("the merchant's handler failed", statusCode: StatusCodes.Status500InternalServerError);
            }
            return Results.Ok(new { notification.NotificationId, duplicate = false });
        });
    }

    /// <summary>The reader, made once from the registered <see cref="NetPayClient"/>'s view of the platform's keys.</summary>
    private sealed class ReaderCache
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private NotificationReader? _reader;

        public MemoryNotificationInbox FallbackInbox { get; } = new();

        public async Task<NotificationReader> GetAsync(IServiceProvider services, CancellationToken ct)
        {
            if (_reader is { } ready)
            {
                return ready;
            }
            await _lock.WaitAsync(ct);
            try
            {
                if (_reader is null)
                {
                    var client = services.GetRequiredService<NetPayClient>();
                    var options = services.GetRequiredService<NetPayClientOptions>();
                    _reader = new NotificationReader(await client.PlatformCertificateAsync(ct), await client.PlatformNetPayKeyAsync(ct),
                        options.Key.Algorithm as System.Security.Cryptography.RSA, options.MerchantCertificatePem is { } pem
                            ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem)
                            : null, client.PlatformCertificateAsync);
                }
                return _reader;
            }
            finally
            {
                _lock.Release();
            }
        }
    }
}

/// <summary>Registration of the SDK in an ASP.NET Core application.</summary>
public static class NetPayServiceCollectionExtensions
{
    /// <summary>Registers <see cref="NetPayClient"/> (one per application, with its own HttpClient) and its options.</summary>
    public static IServiceCollection AddNetPayClient(this IServiceCollection services, NetPayClientOptions options) =>
        services.AddNetPayClient(_ => options);

    /// <summary>Registers <see cref="NetPayClient"/> with options made from the application's services (its configuration, say) when first needed.</summary>
    public static IServiceCollection AddNetPayClient(this IServiceCollection services, Func<IServiceProvider, NetPayClientOptions> options)
    {
        services.AddSingleton(options);
        services.AddSingleton(sp => new NetPayClient(sp.GetRequiredService<NetPayClientOptions>(), time: sp.GetService<TimeProvider>()));
        return services;
    }
}
