using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Signatures;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Apis;

/// <summary>
/// <c>Idempotency-Key</c> with the semantics Stripe documents: a key is the merchant's and lasts
/// 24 hours; the first request with it runs, and its answer is kept; the same key with the same
/// parameters gets that answer again (marked <c>Idempotent-Replayed: true</c>); with other
/// parameters it is refused (422); while the first is still running, a repeat is a conflict (409).
/// Requests refused before they ran (malformed, unauthenticated) keep nothing, so they may be fixed
/// and sent again with the same key. The merchant's signature is checked before the key is looked
/// at: a request that is not the merchant's gets the signature's refusal, never the stored answer.
/// </summary>
public sealed class IdempotencyKeys(NpgsqlDataSource db, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const int KeyCharsMax = 255;
    public static readonly TimeSpan KeptFor = TimeSpan.FromHours(24);

    public abstract record Claim;

    public sealed record Fresh : Claim;

    public sealed record Replay(int StatusCode, string Body) : Claim;

    public sealed record OtherParameters : Claim;

    public sealed record InProgress : Claim;

    public async Task<Claim> ClaimAsync(string merchantId, string key, byte[] requestHash, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        // A new key, or one kept past KeptFor (taken over as new), is the caller's in one statement.
        await using var claim = db.CreateCommand(
            """
            INSERT INTO idempotency_keys AS k (merchant_id, idempotency_key, request_hash, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (merchant_id, idempotency_key) DO UPDATE
                SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at, response_status = NULL, response_body = NULL
                WHERE k.created_at < $5
            """);
        BatchSql.Bind(claim, merchantId, key, requestHash, now, now - KeptFor);
        if (await claim.ExecuteNonQueryAsync(ct) == 1)
        {
            return new Fresh();
        }
        await using var stored = db.CreateCommand(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2");
        BatchSql.Bind(stored, merchantId, key);
        await using var row = await stored.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return new InProgress(); // released between the two statements: the caller may try again
        }
        if (!CryptographicOperations.FixedTimeEquals(row.GetFieldValue<byte[]>(0), requestHash))
        {
            return new OtherParameters();
        }
        return row.IsDBNull(1) ? new InProgress() : new Replay(row.GetInt32(1), row.GetString(2));
    }

    public async Task CompleteAsync(string merchantId, string key, V1Answer answer)
    {
        await using var complete = db.CreateCommand(
            "UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE merchant_id = $1 AND idempotency_key = $2");
        BatchSql.Bind(complete, merchantId, key, answer.StatusCode, answer.Body);
        await complete.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public async Task ReleaseAsync(string merchantId, string key)
    {
        await using var release = db.CreateCommand(
            "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND idempotency_key = $2 AND response_status IS NULL");
        BatchSql.Bind(release, merchantId, key);
        await release.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>What "the same parameters" means: the endpoint and the request's fields, without the signature (ECDSA signs differently each time).</summary>
    public static byte[] RequestHash(string endpoint, IEnumerable<KeyValuePair<string, string?>> fields) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(endpoint + "\n" + CanonicalSignature.CanonicalString(fields)));

    /// <summary>
    /// Whether a create's <c>Idempotency-Key</c> is the order's own: its order id, or <c>order-</c> and its order id (as the SDK
    /// sends). Then the order's row is the key's record (an order id is unique per merchant and never reused), so nothing
    /// else is written: a repeat with the same parameters is answered with the order as it now is, marked replayed; with
    /// other parameters it is refused (422), as any key is.
    /// </summary>
    public static bool IsOrdersOwnKey(HttpRequest request, string? orderId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = request.Headers[Header].ToString();
        return !string.IsNullOrEmpty(orderId) && (key == orderId || key == OrderKeyPrefix + orderId);
    }

    /// <summary>What the SDK puts before an order id to make its create's Idempotency-Key.</summary>
    public const string OrderKeyPrefix = "order-";

    /// <summary>The create's filter: <see cref="FilterAsync"/>, unless the key is the order's own (<see cref="IsOrdersOwnKey"/>).</summary>
    public static async ValueTask<object?> OrderCreateFilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var body = context.Arguments.OfType<V1Body>().FirstOrDefault();
        return IsOrdersOwnKey(context.HttpContext.Request, body?.Fields.GetValueOrDefault("orderId"))
            ? await next(context)
            : await FilterAsync(context, next);
    }

    /// <summary>An endpoint filter for a POST whose <see cref="V1Body"/> argument is the request (a malformed one goes on to be refused).</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.Request.Headers[Header].ToString();
        var fields = context.Arguments.OfType<V1Body>().FirstOrDefault() is { Malformed: null } body ? body.Fields : null;
        if (key.Length == 0 || fields is null || !fields.TryGetValue("merId", out var merchantId) || string.IsNullOrEmpty(merchantId))
        {
            return await next(context);
        }
        if (key.Length > KeyCharsMax || key.Any(char.IsControl))
        {
            return V1Problems.Result(V1Problems.IdempotencyKeyInvalid, StatusCodes.Status400BadRequest, $"Bad {Header}",
                $"{Header} is 1 to {KeyCharsMax} printable characters");
        }
        // Only the merchant's own request may see what its key stored: the signature is checked before anything is claimed or replayed.
        var signed = new Dictionary<string, string?>(fields, StringComparer.Ordinal);
        foreach (var (name, value) in http.Request.RouteValues)
        {
            if (value is string text)
            {
                signed[name] = text;
            }
        }
        if (await http.RequestServices.GetRequiredService<MerchantRequests>().RefuseOnceAsync(http, signed, http.RequestAborted) is { } refusal)
        {
            return refusal;
        }
        var keys = http.RequestServices.GetRequiredService<IdempotencyKeys>();
        var routeValues = string.Join('/', http.Request.RouteValues.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));
        var claim = await keys.ClaimAsync(merchantId, key, RequestHash($"{http.Request.Method} {routeValues}", fields), http.RequestAborted);
        switch (claim)
        {
            case Replay replay:
                return new V1Answer(replay.StatusCode, replay.Body, replay.StatusCode >= 400 ? "application/problem+json" : "application/json")
                {
                    Replayed = true,
                };
            case OtherParameters:
                return V1Problems.Result(V1Problems.IdempotencyKeyReused, StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                    $"{Header} {key} was used with other parameters; a key is for one request");
            case InProgress:
                return V1Problems.Result(V1Problems.IdempotencyKeyInProgress, StatusCodes.Status409Conflict, "Idempotent request in progress",
                    $"A request with {Header} {key} is still running; try again shortly");
        }
        try
        {
            var result = await next(context);
            if (result is V1Answer answer && answer.StatusCode < 500)
            {
                await keys.CompleteAsync(merchantId, key, answer);
            }
            else
            {
                await keys.ReleaseAsync(merchantId, key);
            }
            return result;
        }
        catch
        {
            await keys.ReleaseAsync(merchantId, key);
            throw;
        }
    }
}
