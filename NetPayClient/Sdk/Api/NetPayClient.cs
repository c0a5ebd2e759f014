using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mesh.NetPay.Envelopes;
using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Api;

/// <summary>
/// The platform's merchant API (<c>/v1</c>), one call per task: create an order, get it, list
/// orders by time, refund, get a refund, download a reconciliation file. Every request is signed
/// with the merchant's key; every answer is checked against the platform's certificate before it
/// is returned. Creates and refunds carry an Idempotency-Key (the order id, the refund id), so a
/// request whose outcome is unknown (no answer, 5xx, 429) is sent again, up to
/// <see cref="NetPayClientOptions.RetriesMax"/> times: the platform does it once.
/// </summary>
public sealed class NetPayClient : IDisposable
{
    /// <summary>The page size <see cref="ListOrdersAsync"/> asks for.</summary>
    public const int ListPageSize = 100;

    /// <summary>Largest answer read, in bytes (a reconciliation file streams and has no limit).</summary>
    public const int AnswerBytesMax = 4 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NetPayClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _certificateLock = new(1, 1);
    private X509Certificate2? _platform;
    private X509Certificate2? _issuing;
    private X509Certificate2? _files;
    private X509Certificate2? _envelope;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, X509Certificate2> _byCertId = new(StringComparer.Ordinal);

    /// <summary>A client; pass an <paramref name="http"/> from IHttpClientFactory in ASP.NET Core, or none to own one.</summary>
    public NetPayClient(NetPayClientOptions options, HttpClient? http = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ownsHttp = http is null;
        // Each attempt has its own timeout (AttemptTimeoutMs); a given client's own timeout still applies.
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _time = time ?? TimeProvider.System;
        if (options.PlatformCertificatePem is { } pem)
        {
            _platform = X509Certificate2.CreateFromPem(pem);
        }
    }

    /// <summary>The merchant this client signs for.</summary>
    public string MerchantId => _options.MerchantId;

    /// <summary>Creates an order (201), or gives back the same order created before (200).</summary>
    public async Task<Order> CreateOrderAsync(CreateOrder order, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["merId"] = MerchantId,
            ["orderId"] = order.OrderId,
            ["txnAmt"] = order.AmountMinor.ToString(CultureInfo.InvariantCulture),
            ["currencyCode"] = order.Currency,
            ["txnDate"] = order.TxnDate ?? _time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture),
            ["backUrl"] = order.BackUrl,
            ["frontUrl"] = order.FrontUrl,
            ["gateId"] = order.GateId,
            ["reqReserved"] = order.ReqReserved,
            ["notifyMode"] = order.NotifyMode,
            ["payTimeout"] = order.PayTimeout is { } payBy ? Timestamp(payBy) : null,
            ["captureMode"] = order.Hold ? "hold" : null,
        };
        foreach (var empty in fields.Where(f => string.IsNullOrEmpty(f.Value)).Select(f => f.Key).ToList())
        {
            fields.Remove(empty);
        }
        V1Signature.SignInPlace(fields, _options.Key);
        return OrderFrom(await SendAsync(HttpMethod.Post, "/v1/orders", fields, idempotencyKey: "order-" + order.OrderId, ct));
    }

    /// <summary>An order by its number.</summary>
    public async Task<Order> GetOrderAsync(string orderId, CancellationToken ct = default) =>
        OrderFrom(await SendAsync(HttpMethod.Get, $"/v1/orders/{Uri.EscapeDataString(orderId)}?{SignedQuery([], ("orderId", orderId))}", null, null, ct));

    /// <summary>Every order created in [<paramref name="from"/>, <paramref name="to"/>), oldest first, page by page; each page's digest and signature are checked.</summary>
    public async IAsyncEnumerable<Order> ListOrdersAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? cursor = null;
        do
        {
            var parameters = new List<(string, string)>
            {
                ("from", Timestamp(from)), ("to", Timestamp(to)), ("limit", ListPageSize.ToString(CultureInfo.InvariantCulture)),
            };
            if (cursor is not null)
            {
                parameters.Add(("cursor", cursor));
            }
            var page = await SendAsync(HttpMethod.Get, "/v1/orders?" + SignedQuery(parameters), null, null, ct);
            var entries = page.Orders ?? [];
            var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', entries.Select(e => V1Signature.CanonicalString(e!))))));
            if (page.Fields.GetValueOrDefault("ordersDigest") != digest)
            {
                throw new NetPayException("the orders on the page are not the ones the platform signed");
            }
            foreach (var entry in entries)
            {
                yield return OrderFrom(new Answer(entry, null));
            }
            cursor = page.Fields.GetValueOrDefault("nextCursor");
        }
        while (cursor is not null);
    }

    /// <summary>
    /// Closes an order that is not paid, so that it can no longer be paid; closing a closed order gives it back as it is. A paid
    /// order, or one whose payment is waiting for the bank, is refused (<see cref="NetPayException"/>, status 409).
    /// </summary>
    public async Task<Order> CloseOrderAsync(string orderId, CancellationToken ct = default)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal) { ["merId"] = MerchantId };
        V1Signature.SignInPlace(fields, _options.Key, ("orderId", orderId));
        return OrderFrom(await SendAsync(HttpMethod.Post, $"/v1/orders/{Uri.EscapeDataString(orderId)}/close", fields, "close-" + orderId, ct));
    }

    /// <summary>
    /// Voids (撤销) a paid order with nothing refunded, before the cut-off of the business day it was paid on: the whole amount goes back
    /// to the card and the order ends voided; voiding a voided order gives it back as it is. Otherwise refused (<see cref="NetPayException"/>,
    /// status 409): an order not paid or with refunds, or paid on a business day that has ended (refund it instead).
    /// </summary>
    public async Task<Order> VoidOrderAsync(string orderId, CancellationToken ct = default)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal) { ["merId"] = MerchantId };
        V1Signature.SignInPlace(fields, _options.Key, ("orderId", orderId));
        return OrderFrom(await SendAsync(HttpMethod.Post, $"/v1/orders/{Uri.EscapeDataString(orderId)}/void", fields, "void-" + orderId, ct));
    }

    /// <summary>
    /// Captures a held order (created with <see cref="CreateOrder.Hold"/>) once, for <paramref name="amountMinor"/> up to the amount held: that is
    /// the sale, and the rest of the hold goes back to the card. The same capture sent again (the same amount) gives back its first answer.
    /// Refused (<see cref="NetPayException"/>, status 409) when the hold is not standing (captured, released, expired, or a capture in flight),
    /// when the amount exceeds it, or when the bank declines the capture (the hold stands).
    /// </summary>
    public async Task<Order> CaptureOrderAsync(string orderId, long amountMinor, CancellationToken ct = default)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["merId"] = MerchantId,
            ["captureAmt"] = amountMinor.ToString(CultureInfo.InvariantCulture),
        };
        V1Signature.SignInPlace(fields, _options.Key, ("orderId", orderId));
        return OrderFrom(await SendAsync(HttpMethod.Post, $"/v1/orders/{Uri.EscapeDataString(orderId)}/capture", fields, $"capture-{orderId}-{amountMinor.ToString(CultureInfo.InvariantCulture)}", ct));
    }

    /// <summary>
    /// Releases a held order: nothing is charged and the whole hold goes back to the card; releasing it again gives it back as it is. Refused
    /// (<see cref="NetPayException"/>, status 409) once it is captured or expired, or while a capture is in flight.
    /// </summary>
    public async Task<Order> ReleaseOrderAsync(string orderId, CancellationToken ct = default)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal) { ["merId"] = MerchantId };
        V1Signature.SignInPlace(fields, _options.Key, ("orderId", orderId));
        return OrderFrom(await SendAsync(HttpMethod.Post, $"/v1/orders/{Uri.EscapeDataString(orderId)}/release", fields, "release-" + orderId, ct));
    }

    /// <summary>Refunds <paramref name="amountMinor"/> of a paid order; <paramref name="refundId"/> is the merchant's, and the same refund id is the same refund.</summary>
    public async Task<Refund> RefundAsync(string orderId, string refundId, long amountMinor, CancellationToken ct = default)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["merId"] = MerchantId,
            ["refundId"] = refundId,
            ["refundAmt"] = amountMinor.ToString(CultureInfo.InvariantCulture),
        };
        V1Signature.SignInPlace(fields, _options.Key, ("orderId", orderId));
        return RefundFrom(await SendAsync(HttpMethod.Post, $"/v1/orders/{Uri.EscapeDataString(orderId)}/refunds", fields, "refund-" + refundId, ct));
    }

    /// <summary>A refund by its id.</summary>
    public async Task<Refund> GetRefundAsync(string orderId, string refundId, CancellationToken ct = default) =>
        RefundFrom(await SendAsync(HttpMethod.Get,
            $"/v1/orders/{Uri.EscapeDataString(orderId)}/refunds/{Uri.EscapeDataString(refundId)}?{SignedQuery([], ("orderId", orderId), ("refundId", refundId))}",
            null, null, ct));

    /// <summary>
    /// Downloads a closed settlement date's reconciliation file into <paramref name="destination"/>,
    /// reporting bytes received to <paramref name="progress"/> (with the total when known), and
    /// checks the platform's signature over every byte with its files certificate; a file whose
    /// signature does not verify throws. Returns the file's name and size.
    /// </summary>
    public async Task<(string FileName, long Bytes)> DownloadReconciliationAsync(DateOnly settlementDate, ReconciliationKind kind, Stream destination,
        IProgress<(long Received, long? Total)>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var date = settlementDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var kindName = kind == ReconciliationKind.Detail ? "detail" : "totals";
        var files = await PlatformFilesCertificateAsync(ct);
        using var response = await SendWithRetriesAsync(() => new HttpRequestMessage(HttpMethod.Get,
            new Uri(_options.GatewayUrl, $"/v1/reconciliation/{date}/{kindName}?{SignedQuery([], ("settlementDate", date), ("kind", kindName))}")), null,
            HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
        var signature = response.Headers.TryGetValues("Mesh-File-Signature", out var values) ? values.FirstOrDefault() : null;
        var total = response.Content.Headers.ContentLength;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[81920];
        long received = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            received += read;
            progress?.Report((received, total));
        }
        if (signature is null || !Base64.TryDecode(signature, out var signatureBytes)
            || !PlatformSignature.VerifyHash(files, hash.GetHashAndReset(), signatureBytes))
        {
            throw new NetPayException($"the reconciliation file's signature does not verify with the platform's files certificate {V1Signature.CertIdOf(files)}");
        }
        return (response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"')
            ?? $"{MerchantId}-{settlementDate:yyyyMMdd}-{kindName}.csv", received);
    }

    /// <summary>The certificate of the platform's answers and notifications: the pinned one, or the gateway's, fetched once.</summary>
    public async Task<X509Certificate2> PlatformCertificateAsync(CancellationToken ct = default)
    {
        if (_platform is { } known)
        {
            return known;
        }
        await _certificateLock.WaitAsync(ct);
        try
        {
            return _platform ??= await PlatformKeys.FetchCertificateAsync(_http, _options.GatewayUrl, ct);
        }
        finally
        {
            _certificateLock.Release();
        }
    }

    /// <summary>
    /// The certificate of the platform's answers and notifications that <paramref name="certId"/> names: the pinned
    /// (or first fetched) one, or, when the platform rotated its key, the one fetched by that certId and believed
    /// only if the platform's issuing key issued it for answers (kept, up to <see cref="PlatformKeys.CertificatesByIdMax"/>).
    /// A retired or unknown certId throws: its signatures are refused.
    /// </summary>
    public async Task<X509Certificate2> PlatformCertificateAsync(string certId, CancellationToken ct = default)
    {
        var platform = await PlatformCertificateAsync(ct);
        if (V1Signature.CertIdOf(platform) == certId)
        {
            return platform;
        }
        if (_byCertId.TryGetValue(certId, out var known))
        {
            return known;
        }
        var fetched = await PlatformKeys.FetchCertificateByIdAsync(_http, _options.GatewayUrl, PlatformKeys.CertificatePath, certId,
            await PlatformIssuingCertificateAsync(ct), c => PlatformKeys.HasPurpose(c, PlatformKeys.AnswersPurposeOid), ct);
        if (_byCertId.Count >= PlatformKeys.CertificatesByIdMax)
        {
            _byCertId.Clear();
        }
        return _byCertId.GetOrAdd(certId, fetched);
    }

    /// <summary>
    /// The certificate of the platform's issuing key, which signs certificates and nothing else:
    /// fetched once, and believed only if it is self-signed and issued the platform certificate
    /// (<see cref="PlatformCertificateAsync(CancellationToken)"/>, pinned or fetched).
    /// </summary>
    public async Task<X509Certificate2> PlatformIssuingCertificateAsync(CancellationToken ct = default)
    {
        if (_issuing is { } known)
        {
            return known;
        }
        var platform = await PlatformCertificateAsync(ct);
        var issuing = await FetchCertificateAsync(PlatformKeys.IssuingCertificatePath, ct);
        return PlatformKeys.IsIssuedBy(issuing, issuing) && PlatformKeys.IsIssuedBy(platform, issuing)
            ? _issuing = issuing
            : throw new NetPayException($"the issuing certificate did not issue the platform certificate {V1Signature.CertIdOf(platform)}");
    }

    /// <summary>
    /// The certificate reconciliation files are signed with: fetched once, and used only if the
    /// platform's issuing key issued it for that purpose (<see cref="PlatformKeys.FilesPurposeOid"/>).
    /// </summary>
    public async Task<X509Certificate2> PlatformFilesCertificateAsync(CancellationToken ct = default) =>
        _files ??= await IssuedCertificateAsync(PlatformKeys.FilesCertificatePath, "files",
            certificate => PlatformKeys.HasPurpose(certificate, PlatformKeys.FilesPurposeOid), ct);

    /// <summary>The certificate requests are sealed to: fetched once, and used only if the platform's issuing key issued it for key encipherment.</summary>
    public async Task<X509Certificate2> PlatformEnvelopeCertificateAsync(CancellationToken ct = default) =>
        _envelope ??= await IssuedCertificateAsync(PlatformKeys.EnvelopeCertificatePath, "envelope",
            certificate => PlatformKeys.HasKeyUsage(certificate, X509KeyUsageFlags.KeyEncipherment), ct);

    /// <summary>The public key NetPay form-protocol answers are signed with (PGID key, RSA-1024).</summary>
    public Task<RSA> PlatformNetPayKeyAsync(CancellationToken ct = default) => PlatformKeys.FetchNetPayKeyAsync(_http, _options.GatewayUrl, ct);

    /// <inheritdoc />
    public void Dispose()
    {
        _certificateLock.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<X509Certificate2> IssuedCertificateAsync(string path, string purpose, Func<X509Certificate2, bool> isForPurpose, CancellationToken ct)
    {
        var issuing = await PlatformIssuingCertificateAsync(ct);
        var certificate = await FetchCertificateAsync(path, ct);
        if (!PlatformKeys.IsIssuedBy(certificate, issuing))
        {
            throw new NetPayException($"the {purpose} certificate was not issued by the platform's issuing key");
        }
        return isForPurpose(certificate) ? certificate : throw new NetPayException($"the {purpose} certificate was issued for another purpose");
    }

    private async Task<X509Certificate2> FetchCertificateAsync(string path, CancellationToken ct) =>
        X509Certificate2.CreateFromPem(await _http.GetStringAsync(new Uri(_options.GatewayUrl, path), ct));

    /// <summary>A signed query string: merId, timestamp, the parameters, signature; path values are signed but not sent.</summary>
    private string SignedQuery(IEnumerable<(string Name, string Value)> parameters, params (string Name, string Value)[] pathValues)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["merId"] = MerchantId,
            ["timestamp"] = Timestamp(_time.GetUtcNow()),
        };
        foreach (var (name, value) in parameters)
        {
            fields[name] = value;
        }
        V1Signature.SignInPlace(fields, _options.Key, pathValues);
        return string.Join('&', fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value!)}"));
    }

    private sealed record Answer(Dictionary<string, string?> Fields, List<Dictionary<string, string?>>? Orders);

    private async Task<Answer> SendAsync(HttpMethod method, string pathAndQuery, Dictionary<string, string?>? body, string? idempotencyKey, CancellationToken ct)
    {
        byte[]? content = null;
        string? contentType = null;
        if (body is not null)
        {
            content = JsonSerializer.SerializeToUtf8Bytes(body, Json);
            contentType = "application/json";
            if (_options.SealRequests)
            {
                var certificate = await PlatformEnvelopeCertificateAsync(ct);
                using var recipient = certificate.GetRSAPublicKey()!;
                content = Encoding.ASCII.GetBytes(DigitalEnvelope.Seal(content, recipient, V1Signature.CertIdOf(certificate)));
                contentType = DigitalEnvelope.JoseContentType;
            }
        }
        using var response = await SendWithRetriesAsync(() =>
        {
            var request = new HttpRequestMessage(method, new Uri(_options.GatewayUrl, pathAndQuery));
            if (content is not null)
            {
                request.Content = new ByteArrayContent(content);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType!);
            }
            return request;
        }, idempotencyKey, HttpCompletionOption.ResponseContentRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, ct);
        }
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        if (bytes.Length > AnswerBytesMax)
        {
            throw new NetPayException($"an answer of more than {AnswerBytesMax} bytes");
        }
        var answer = ParseAnswer(bytes);
        var certId = answer.Fields.GetValueOrDefault(V1Signature.CertIdField) ?? "";
        var platform = await PlatformCertificateAsync(certId, ct);
        if (!V1Signature.IsPlatformSigned(answer.Fields, answer.Fields.GetValueOrDefault(V1Signature.SignatureField), platform))
        {
            throw new NetPayException($"the answer is not signed by the platform certificate {certId}");
        }
        return answer;
    }

    /// <summary>
    /// Sends until an answer that is not transient comes back: a lost connection, a timeout of
    /// one attempt, 5xx, 429, or a 409 saying the first attempt under the same key is still running
    /// is tried again after a growing, jittered wait; a POST only when it carries an Idempotency-Key.
    /// </summary>
    private async Task<HttpResponseMessage> SendWithRetriesAsync(Func<HttpRequestMessage> build, string? idempotencyKey, HttpCompletionOption completion,
        CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = build();
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }
            var repeatable = request.Method == HttpMethod.Get || idempotencyKey is not null;
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attemptTimeout.CancelAfter(_options.AttemptTimeoutMs);
            HttpResponseMessage? response = null;
            Exception? failure = null;
            try
            {
                response = await _http.SendAsync(request, completion, attemptTimeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                failure = ex;
            }
            var transient = failure is not null || response!.StatusCode is HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500
                || (response.StatusCode == HttpStatusCode.Conflict && idempotencyKey is not null && await IsStillRunningAsync(response, ct));
            if (!transient || !repeatable || attempt >= _options.RetriesMax)
            {
                return response ?? throw new NetPayException($"no answer after {attempt + 1} attempts", failure!);
            }
            response?.Dispose();
            var delayMs = Math.Min(_options.RetryDelayMaxMs, _options.RetryDelayFirstMs * (1 << Math.Min(attempt, 16)));
            await Task.Delay(TimeSpan.FromMilliseconds(delayMs / 2 + Random.Shared.Next(delayMs / 2 + 1)), _time, ct);
        }
    }

    /// <summary>A 409 that says the first attempt under this Idempotency-Key is still running: its outcome is unknown yet, so asking again later is right.</summary>
    private static async Task<bool> IsStillRunningAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await response.Content.LoadIntoBufferAsync(ct);
        return (await response.Content.ReadAsStringAsync(ct)).Contains("\"idempotency_key.in_progress\"", StringComparison.Ordinal);
    }

    private static async Task<NetPayException> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var root = problem.RootElement;
            var errors = root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object
                ? e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Array
                    ? p.Value.EnumerateArray().Select(v => v.ToString()).ToArray()
                    : [p.Value.ToString()])
                : null;
            return new NetPayException(status, root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : response.ReasonPhrase ?? "",
                root.TryGetProperty("detail", out var d) ? d.GetString() : null, errors,
                root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null,
                root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && Uri.TryCreate(type.GetString(), UriKind.Absolute, out var uri)
                    ? uri
                    : null);
        }
        catch (JsonException)
        {
            return new NetPayException(status, response.ReasonPhrase ?? "HTTP error", null);
        }
    }

    private static Answer ParseAnswer(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
            List<Dictionary<string, string?>>? orders = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    fields[property.Name] = property.Value.GetString();
                }
                else if (property.Name == "orders" && property.Value.ValueKind == JsonValueKind.Array)
                {
                    orders = [.. property.Value.EnumerateArray().Select(o => o.EnumerateObject()
                        .Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal))];
                }
            }
            return new Answer(fields, orders);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new NetPayException("the answer is not a JSON object", ex);
        }
    }

    private static Order OrderFrom(Answer answer)
    {
        var f = answer.Fields;
        return new Order(Required(f, "merId"), Required(f, "orderId"), Minor(f, "txnAmt"), Required(f, "currencyCode"), Required(f, "txnDate"),
            Required(f, "status"), Minor(f, "version"), f.GetValueOrDefault("respCode"), f.GetValueOrDefault("respMsg"), Minor(f, "paidAmt"), Minor(f, "refundedAmt"),
            f.GetValueOrDefault("maskedPan"), f.GetValueOrDefault("authCode"), f.GetValueOrDefault("rrn"), f.GetValueOrDefault("reqReserved"),
            Time(f, "createdAt")!.Value, Time(f, "paidAt"), f.GetValueOrDefault("payUrl") is { } url ? new Uri(url) : null, Time(f, "payTimeout"),
            f.GetValueOrDefault("captureMode") ?? "sale", Minor(f, "heldAmt"), Minor(f, "capturedAmt"), Time(f, "holdExpiresAt"));
    }

    private static Refund RefundFrom(Answer answer)
    {
        var f = answer.Fields;
        return new Refund(Required(f, "merId"), Required(f, "orderId"), Required(f, "refundId"), Minor(f, "refundAmt"), Required(f, "currencyCode"),
            Required(f, "status"), f.GetValueOrDefault("respCode"), Time(f, "createdAt")!.Value, Time(f, "answeredAt"));
    }

    private static string Required(Dictionary<string, string?> fields, string name) =>
        fields.GetValueOrDefault(name) ?? throw new NetPayException($"the answer has no {name}");

    private static long Minor(Dictionary<string, string?> fields, string name) =>
        fields.GetValueOrDefault(name) is { } text ? long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    private static DateTimeOffset? Time(Dictionary<string, string?> fields, string name) =>
        fields.GetValueOrDefault(name) is { } text
            ? new DateTimeOffset(DateTime.ParseExact(text, "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                TimeSpan.Zero)
            : null;

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}
