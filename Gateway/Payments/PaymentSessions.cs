using System.Collections.Concurrent;
using System.Security.Cryptography;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Payments;

/// <summary>A consumer's visit to the payment page for one order attempt.</summary>
public sealed record PaymentSession(string SessionId, string MerchantId, string OrderId, int OrderAttempt, string CsrfToken, string PinNonce,
    string Status, DateTimeOffset ExpiresAt);

/// <summary>
/// Payment sessions: an unguessable id in the page's address, a CSRF token, the nonce the PIN is
/// encrypted with (new after every wrong PIN) and an expiry (<see cref="GatewayOptions.PaymentSessionMinutes"/>).
/// Wrong PINs are counted on the order, not here: a new session does not start the count again.
/// </summary>
public sealed class PaymentSessions(NpgsqlDataSource db, IOptions<GatewayOptions> options, TimeProvider time)
{
    public const string Open = "open";
    public const string Paying = "paying";
    public const string Done = "done";

    public async Task<PaymentSession> StartAsync(string merchantId, string orderId, int orderAttempt, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var session = new PaymentSession(Token(), merchantId, orderId, orderAttempt, Token(), Token(), Open,
            now.AddMinutes(options.Value.PaymentSessionMinutes));
        await using var insert = db.CreateCommand(
            """
            INSERT INTO payment_sessions (session_id, merchant_id, order_id, order_attempt, csrf_token, pin_nonce, status, expires_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)
            """);
        BatchSql.Bind(insert, session.SessionId, merchantId, orderId, orderAttempt, session.CsrfToken, session.PinNonce, session.ExpiresAt, now);
        await insert.ExecuteNonQueryAsync(ct);
        return session;
    }

    /// <summary>
    /// A /v1 order and, when it can be paid (created, before its pay-by time), a new session for it, in one statement: null
    /// when there is no such order; no session when the order is already pending or final, or past its pay-by time.
    /// </summary>
    public async Task<(Order Order, PaymentSession? Session)?> StartForOrderAsync(string merchantId, string orderId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (sessionId, csrfToken, pinNonce, expiresAt) = (Token(), Token(), Token(), now.AddMinutes(options.Value.PaymentSessionMinutes));
        await using var start = db.CreateCommand(
            $"""
            WITH started AS (
                INSERT INTO payment_sessions (session_id, merchant_id, order_id, order_attempt, csrf_token, pin_nonce, status, expires_at, created_at)
                SELECT $3, o.merchant_id, o.order_id, o.attempts, $4, $5, 'open', $6, $7 FROM orders o
                WHERE o.merchant_id = $1 AND o.order_id = $2 AND o.status = 'created' AND o.pay_by > $7
                RETURNING order_attempt)
            SELECT (SELECT order_attempt FROM started), {OrderBook.SelectList} FROM orders o {OrderBook.LatestPayment}
            WHERE o.merchant_id = $1 AND o.order_id = $2
            """);
        BatchSql.Bind(start, merchantId, orderId, sessionId, csrfToken, pinNonce, expiresAt, now);
        await using var row = await start.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return null;
        }
        var order = OrderBook.Read(row, 1);
        return (order, row.IsDBNull(0) ? null : new PaymentSession(sessionId, merchantId, orderId, row.GetInt32(0), csrfToken, pinNonce, Open, expiresAt));
    }

    /// <summary>A session and its order, read together (each page of a payment needs both): null when there is no such session.</summary>
    public async Task<(PaymentSession Session, Order Order)?> FindWithOrderAsync(string sessionId, CancellationToken ct)
    {
        if (sessionId.Length is 0 or > 64)
        {
            return null;
        }
        await using var find = db.CreateCommand(
            $"""
            SELECT s.session_id, s.merchant_id, s.order_id, s.order_attempt, s.csrf_token, s.pin_nonce, s.status, s.expires_at,
                   {OrderBook.SelectList}
            FROM payment_sessions s JOIN orders o ON o.merchant_id = s.merchant_id AND o.order_id = s.order_id {OrderBook.LatestPayment}
            WHERE s.session_id = $1
            """);
        BatchSql.Bind(find, sessionId);
        await using var row = await find.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? (new PaymentSession(row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt32(3), row.GetString(4), row.GetString(5),
                row.GetString(6), row.GetFieldValue<DateTimeOffset>(7)), OrderBook.Read(row, SessionColumnCount))
            : null;
    }

    private const int SessionColumnCount = 8;

    public bool IsExpired(PaymentSession session) => session.ExpiresAt <= time.GetUtcNow();

    /// <summary>STANs drawn from the sequence at a time: a purchase takes one from memory instead of a round trip of its own.</summary>
    public const int StanBlockSize = 100;

    private readonly ConcurrentQueue<long> _stans = new();
    private readonly SemaphoreSlim _stanRefill = new(1, 1);

    /// <summary>
    /// The STAN of a new request, before it is signed. STANs are drawn from the sequence
    /// <see cref="StanBlockSize"/> at a time; a request never recorded, or a block left unused when
    /// the process stops, leaves a gap, as a switch expects. The sequence cycles through 1–999999.
    /// </summary>
    public async Task<long> NextStanAsync(CancellationToken ct)
    {
        for (var refills = 0; refills < 3; refills++)
        {
            if (_stans.TryDequeue(out var stan))
            {
                return stan;
            }
            await _stanRefill.WaitAsync(ct);
            try
            {
                if (_stans.IsEmpty)
                {
                    await using var next = db.CreateCommand("SELECT nextval('acquirer_stan') FROM generate_series(1, $1)");
                    BatchSql.Bind(next, StanBlockSize);
                    await using var row = await next.ExecuteReaderAsync(ct);
                    while (await row.ReadAsync(ct))
                    {
                        _stans.Enqueue(row.GetInt64(0));
                    }
                }
            }
            finally
            {
                _stanRefill.Release();
            }
        }
        throw new InvalidOperationException($"no STAN after drawing {StanBlockSize} three times: every one was taken by others");
    }

    /// <summary>
    /// The start of a statement that takes an open, unexpired session and its order (created, same
    /// attempt) for one payment: its rows are <c>claimed (merchant_id, order_id)</c>, none when the
    /// session or the order is no longer payable (a double submit, an expired page, an order paid
    /// elsewhere, closed, or past its pay-by time: the order's row decides between a payment and a close). Parameters $1 (the session) and $2 (now). The payment is recorded in the same
    /// transaction, after the request is signed, so a crash, a lost database or a failed Hsm call can
    /// never leave an order pending without the payment that would settle it (the crash campaign
    /// found three such orders after killing the Hsm and PostgreSQL under load).
    /// </summary>
    public const string ClaimSql =
        """
        WITH s AS (
            UPDATE payment_sessions SET status = 'paying' WHERE session_id = $1 AND status = 'open' AND expires_at > $2
            RETURNING merchant_id, order_id, order_attempt),
        claimed AS (
            UPDATE orders o SET status = 'pending', updated_at = $2 FROM s
            WHERE o.merchant_id = s.merchant_id AND o.order_id = s.order_id AND o.status = 'created' AND o.attempts = s.order_attempt AND o.pay_by > $2
            RETURNING o.merchant_id, o.order_id)
        """;

    private static string Token() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
}
