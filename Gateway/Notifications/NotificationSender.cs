using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text.Json;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Payments;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Notifications;

/// <summary>
/// One delivery attempt of one notification: build the message, POST it to the merchant's
/// BgRetUrl (a NetPay refund's result: to the refund's ReturnURL) within the timeout (any 2xx is success; redirects are not followed), and record it: a
/// delivery on the notification's row (its attempts and delivery time), a failed attempt in full
/// besides (time, status code, latency, error). A failure schedules the next attempt, or, after the
/// last, gives up and flags the notification for operators.
/// </summary>
public sealed class NotificationSender(
    NpgsqlDataSource db,
    NotificationMessages messages,
    GatewayMetrics metrics,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationSender> logger) : IDisposable
{
    public const int ErrorCharsMax = 500;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, HttpMessageInvoker> _clients = new(StringComparer.Ordinal);

    /// <summary>
    /// What a pending notification's message is built from, for a query over <c>outbox x</c> joined to
    /// its order <c>o</c> and merchant <c>m</c>; <see cref="ReadPending"/> reads it back.
    /// </summary>
    public const string PendingColumns =
        """
        x.outbox_id, x.attempts, x.payload::text, o.protocol, o.trans_date, o.trans_type, o.gate_id, o.priv1, o.bg_ret_url, m.notification_protocol,
        m.public_key_spki, m.certificate_pem, m.notify_allow_list, m.tls_pinned_sha256
        """;

    /// <summary>How many columns <see cref="PendingColumns"/> has.</summary>
    public const int PendingColumnCount = 14;

    public async Task<bool> SendAsync(long notificationId, CancellationToken ct) =>
        await LoadAsync(notificationId, ct) is { } notification && await SendAsync(notification, ct);

    /// <summary>One attempt of a notification already read (with <see cref="PendingColumns"/>), as the page's path has it.</summary>
    public async Task<bool> SendAsync(PendingNotification notification, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var notificationId = notification.NotificationId;
        // On the page's path the payment's span is current; from the dispatcher, the attempt joins the payment's trace kept with the event.
        using var activity = Activity.Current is null && ActivityContext.TryParse(notification.Event.Traceparent, null, out var payment)
            ? CardPayments.Telemetry.StartActivity("notify merchant", ActivityKind.Producer, payment)
            : CardPayments.Telemetry.StartActivity("notify merchant");
        activity?.SetTag("mesh.merchant_id", notification.Event.MerchantId).SetTag("mesh.order_id", notification.Event.OrderId)
            .SetTag("mesh.notification_id", notificationId).SetTag("mesh.attempt", notification.Attempts + 1);
        var started = time.GetTimestamp();
        int? statusCode = null;
        string? error = null;
        var url = notification.Url ?? "";
        if (!OutboundAddressPolicy.IsAllowedUrl(url))
        {
            error = notification.IsNetPayRefundResult ? "no ReturnURL, or not an http(s) address" : "no BgRetUrl, or not an http(s) address";
        }
        else if (notification.MerchantProtocol == "https" && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            error = "an http address, and the merchant's notification protocol is https: nothing is sent in clear";
        }
        else
        {
            try
            {
                using var request = await messages.BuildAsync(notification, ct);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(options.Value.TimeoutMs);
                using var response = await Client(notification).SendAsync(request, timeout.Token);
                statusCode = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode)
                {
                    error = $"the merchant answered {statusCode}";
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                error = $"no answer within {options.Value.TimeoutMs} ms";
            }
            catch (HttpRequestException ex)
            {
                error = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
            }
        }
        var latencyMs = time.GetElapsedTime(started).TotalMilliseconds;
        await RecordAsync(notification, url, statusCode, latencyMs, error, ct);
        activity?.SetTag("http.response.status_code", statusCode).SetStatus(error is null ? ActivityStatusCode.Ok : ActivityStatusCode.Error, error);
        return error is null;
    }

    private async Task<PendingNotification?> LoadAsync(long notificationId, CancellationToken ct)
    {
        await using var load = db.CreateCommand(
            $"""
            SELECT {PendingColumns}
            FROM outbox x JOIN orders o ON o.merchant_id = x.merchant_id AND o.order_id = x.order_id JOIN merchants m ON m.merchant_id = x.merchant_id
            WHERE x.outbox_id = $1 AND x.topic = 'notification' AND x.delivered_at IS NULL AND x.superseded_at IS NULL
            """);
        BatchSql.Bind(load, notificationId);
        await using var row = await load.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? ReadPending(row, 0) : null;
    }

    /// <summary>A notification from <see cref="PendingColumns"/>, starting at column <paramref name="first"/> of the row.</summary>
    public static PendingNotification ReadPending(NpgsqlDataReader row, int first)
    {
        ArgumentNullException.ThrowIfNull(row);
        string? Text(int i) => row.IsDBNull(first + i) ? null : row.GetString(first + i);
        return new PendingNotification(row.GetInt64(first), row.GetInt32(first + 1), JsonSerializer.Deserialize<OutboxEvent>(row.GetString(first + 2), Json)!,
            row.GetString(first + 3), row.GetString(first + 4), row.GetString(first + 5), Text(6), Text(7), Text(8), row.GetString(first + 9),
            row.IsDBNull(first + 10) ? null : row.GetFieldValue<byte[]>(first + 10), Text(11), row.GetFieldValue<string[]>(first + 12), Text(13));
    }

    private async Task RecordAsync(PendingNotification notification, string url, int? statusCode, double latencyMs, string? error, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var attempt = notification.Attempts + 1;
        var next = error is null ? null : NotificationSchedule.NextAttemptAt(options.Value.Schedule, attempt, now);
        if (error is not null && error.Length > ErrorCharsMax)
        {
            error = error[..ErrorCharsMax];
        }
        await using var record = db.CreateBatch();
        // A delivery is recorded on the notification's own row (attempts, delivered_at); an attempt that failed is kept in full too.
        if (error is not null)
        {
            record.BatchCommands.Add(ServiceDefaults.Database.BatchSql.Command(
                "INSERT INTO notification_attempts (outbox_id, attempt, attempted_at, url, status_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                notification.NotificationId, attempt, now, url, statusCode, latencyMs, error));
        }
        record.BatchCommands.Add(ServiceDefaults.Database.BatchSql.Command(
            """
            UPDATE outbox SET attempts = $2, last_error = $3,
                delivered_at = CASE WHEN $3::text IS NULL THEN $4 END,
                next_attempt_at = $5,
                given_up_at = CASE WHEN $3::text IS NOT NULL AND $5::timestamptz IS NULL THEN $4 END
            WHERE outbox_id = $1
            """, notification.NotificationId, attempt, error, now, next));
        await record.ExecuteNonQueryAsync(ct);
        metrics.NotificationAttempt(error is null ? "delivered" : next is null ? "given_up" : "retry");
        if (error is null)
        {
            logger.LogInformation("Notification {NotificationId} of order {OrderId} delivered on attempt {Attempt}", notification.NotificationId,
                notification.Event.OrderId, attempt);
        }
        else if (next is null)
        {
            logger.LogError("Notification {NotificationId} of order {OrderId} given up after {Attempt} attempts: {Error}; flagged for operators",
                notification.NotificationId, notification.Event.OrderId, attempt, error);
        }
        else
        {
            logger.LogWarning("Notification {NotificationId} of order {OrderId}, attempt {Attempt}: {Error}; next at {Next}", notification.NotificationId,
                notification.Event.OrderId, attempt, error, next);
        }
    }

    /// <summary>One client per address policy and pinned certificate: connections are reused, the checks are never skipped.</summary>
    private HttpMessageInvoker Client(PendingNotification n) =>
        _clients.GetOrAdd($"{string.Join(',', n.AllowList)}|{n.PinnedSha256}", _ =>
        {
            var allowList = n.AllowList.Select(IPNetwork.Parse).ToArray();
            var allowLoopback = options.Value.AllowLoopback;
            var pinned = n.PinnedSha256;
            return new HttpMessageInvoker(new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromMilliseconds(options.Value.TimeoutMs),
                ConnectCallback = (context, ct) => OutboundAddressPolicy.ConnectAsync(context.DnsEndPoint, allowList, allowLoopback, ct),
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => pinned is null
                        ? errors == SslPolicyErrors.None
                        : certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == pinned,
                },
            });
        });

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
