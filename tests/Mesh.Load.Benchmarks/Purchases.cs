using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Mesh.NetPay.Api;

namespace Mesh.Load;

/// <summary>An order by its merchant, as every store of the platform names it.</summary>
public readonly record struct OrderKey(string MerchantId, string OrderId)
{
    public override string ToString() => $"{MerchantId}/{OrderId}";
}

/// <summary>A refund by its merchant and the merchant's id for it.</summary>
public readonly record struct RefundKey(string MerchantId, string RefundId)
{
    public override string ToString() => $"{MerchantId}/{RefundId}";
}

/// <summary>
/// The work: a purchase as merchants and consumers make it (a signed /v1 order, the payment page,
/// the PIN sealed as the page does, the result, the merchant's notification), and in the mix a
/// signed query of a paid order or a refund of one fen of it. Every purchase is a new consumer: a
/// new TLS connection and new cookies, as a new person's browser has. Merchants keep their pooled
/// connections. What the generator saw paid and refunded is kept, order by order, for the
/// durability check. A few purchases in a hundred (<see cref="CreditCards.Percent"/>) pay with a credit
/// card (expiry and CVV2), one in three of those with the one-time code its bank asks for; a few others
/// (<paramref name="holdPercent"/>) are pre-authorizations the merchant captures in full once the page says authorized; and
/// a few sales (<paramref name="voidPercent"/>) the merchant voids (撤销) once paid.
/// </summary>
public sealed class Purchases(IReadOnlyList<NetPayClient> merchants, Uri notifyUrl, Uri paymentPage, IReadOnlyList<string> cards, int queryPercent, int refundPercent,
    CreditCards credit, int holdPercent, int voidPercent)
{
    public const long AmountMinor = 1_00;
    private const long RefundAmountMinor = 1;
    private const int RefundableKeptMax = 10_000;

    // Every order seen paid (the run's length bounds it): queries pick any of them, the durability check compares them all.
    private readonly List<(NetPayClient Merchant, string OrderId)> _seenPaid = [];
    private readonly ConcurrentQueue<(NetPayClient Merchant, string OrderId)> _refundable = new();
    private readonly ConcurrentDictionary<RefundKey, long> _seenRefundedMinor = new();
    private readonly SemaphoreSlim _codeTurn = new(1, 1);
    private long _sequence;
    private long _heldNotCaptured;
    private readonly ConcurrentDictionary<OrderKey, bool> _seenVoided = new();

    public IReadOnlyList<OrderKey> SeenPaid
    {
        get
        {
            lock (_seenPaid)
            {
                return [.. _seenPaid.Select(p => new OrderKey(p.Merchant.MerchantId, p.OrderId))];
            }
        }
    }

    /// <summary>The paid orders the generator saw voided: paid at the gateway, switch and bank, and given back whole.</summary>
    public IReadOnlyCollection<OrderKey> SeenVoided => [.. _seenVoided.Keys];

    /// <summary>Holds the generator saw authorized whose capture did not come back paid: the bank still holds each.</summary>
    public long HeldNotCaptured => Interlocked.Read(ref _heldNotCaptured);

    /// <summary>The refunds the generator saw succeed, with their amounts in minor units.</summary>
    public IReadOnlyDictionary<RefundKey, long> SeenRefundedMinor => _seenRefundedMinor;

    /// <summary>One unit of the mix; <paramref name="dueTimestamp"/> is when it should have started (open loop), so queueing counts in its latency.</summary>
    public async Task RunOneAsync(Recorder recorder, long dueTimestamp)
    {
        var n = Interlocked.Increment(ref _sequence);
        var roll = (int)(n * 7919 % 100);
        try
        {
            if (roll < queryPercent && TryPickPaid(out var queried))
            {
                await queried.Merchant.GetOrderAsync(queried.OrderId);
                recorder.RecordQuery(Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds);
                return;
            }
            if (roll < queryPercent + refundPercent && _refundable.TryDequeue(out var refunded))
            {
                await RefundAsync(recorder, refunded.Merchant, refunded.OrderId, "r" + n.ToString(CultureInfo.InvariantCulture), dueTimestamp);
                return;
            }
            await PurchaseAsync(recorder, n, dueTimestamp);
        }
        catch (LoadException ex)
        {
            recorder.Fail(ex.Kind, ex.Message);
        }
        catch (NetPayException ex)
        {
            // Status 0: the SDK got no answer through its retries (an inner exception), or refused the answer it got.
            recorder.Fail(ex.Status != 0 ? $"refused {ex.Status}" : ex.InnerException is not null ? "no answer after the SDK's retries" : "untrusted answer", ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            recorder.Fail(ex.GetType().Name, ex.Message);
        }
    }

    private async Task RefundAsync(Recorder recorder, NetPayClient merchant, string orderId, string refundId, long dueTimestamp)
    {
        var refund = await merchant.RefundAsync(orderId, refundId, RefundAmountMinor);
        if (refund.Status != "succeeded")
        {
            throw new LoadException($"refund {refund.Status}", $"{merchant.MerchantId}/{orderId} refund {refundId}: {refund.Status} {refund.ResponseCode}");
        }
        _seenRefundedMinor[new RefundKey(merchant.MerchantId, refundId)] = refund.AmountMinor;
        recorder.RecordRefund(Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds);
    }

    private async Task PurchaseAsync(Recorder recorder, long n, long dueTimestamp)
    {
        var merchant = merchants[(int)(n % merchants.Count)];
        var orderId = $"L{n:D9}{Environment.ProcessId % 1000:D3}";
        var started = Stopwatch.GetTimestamp();
        var byCredit = (int)(n * 7877 % 100) < credit.Percent;
        var hold = !byCredit && Percentile(n) < holdPercent;
        var order = await merchant.CreateOrderAsync(new CreateOrder(orderId, AmountMinor, BackUrl: notifyUrl.ToString(), GateId: "0102", Hold: hold));
        var created = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using var consumer = new Consumer(paymentPage);
        var (paid, open, submit, result) = byCredit ? await PayCreditAsync(consumer, order.PayUrl!, n)
            : hold ? await consumer.PayAsync(order.PayUrl!, cards[(int)(n % cards.Count)], "123456", success: "Payment authorized")
            : await consumer.PayAsync(order.PayUrl!, cards[(int)(n % cards.Count)], "123456");
        if (!paid)
        {
            throw new LoadException(hold ? "not authorized" : "not paid", orderId);
        }
        if (hold)
        {
            var capturing = Stopwatch.GetTimestamp();
            var captured = await CaptureAsync(merchant, orderId);
            if (captured.Status != "paid")
            {
                Interlocked.Increment(ref _heldNotCaptured);
                throw new LoadException($"capture {captured.Status}", $"{merchant.MerchantId}/{orderId}: {captured.Status} {captured.ResponseCode}");
            }
            recorder.RecordCapture(Stopwatch.GetElapsedTime(capturing).TotalMilliseconds);
        }
        lock (_seenPaid)
        {
            _seenPaid.Add((merchant, orderId));
        }
        recorder.Record(new Sample(Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds, created, open, submit, result));
        if (!hold && !byCredit && Percentile(~n) < voidPercent)
        {
            var voiding = Stopwatch.GetTimestamp();
            var voided = await merchant.VoidOrderAsync(orderId);
            if (voided.Status != "voided")
            {
                throw new LoadException($"void {voided.Status}", $"{merchant.MerchantId}/{orderId}: {voided.Status} {voided.ResponseCode}");
            }
            _seenVoided[new OrderKey(merchant.MerchantId, orderId)] = true;
            recorder.RecordVoid(Stopwatch.GetElapsedTime(voiding).TotalMilliseconds);
            return;
        }
        if (_refundable.Count < RefundableKeptMax)
        {
            _refundable.Enqueue((merchant, orderId));
        }
    }

    /// <summary>A held order's capture in full; one refused or unanswered leaves the hold standing.</summary>
    private async Task<Order> CaptureAsync(NetPayClient merchant, string orderId)
    {
        try
        {
            return await merchant.CaptureOrderAsync(orderId, AmountMinor);
        }
        catch (Exception ex) when (ex is NetPayException or HttpRequestException or TaskCanceledException or IOException)
        {
            Interlocked.Increment(ref _heldNotCaptured);
            throw;
        }
    }

    /// <summary>
    /// A credit card's purchase. Those with a one-time code go one at a time: every order is of the same amount, so the
    /// cardholder tells the codes apart only by which came last (the bank sends the code before it answers 1A).
    /// </summary>
    private async Task<(bool Paid, double OpenMs, double SubmitMs, double ResultMs)> PayCreditAsync(Consumer consumer, Uri payUrl, long n)
    {
        if (n % 3 != 0)
        {
            return await consumer.PayCreditAsync(payUrl, credit.WithoutCode.Pan, credit.WithoutCode.Cvv2, () => throw new LoadException("code asked", "a card without one"));
        }
        await _codeTurn.WaitAsync();
        try
        {
            return await consumer.PayCreditAsync(payUrl, credit.WithCode.Pan, credit.WithCode.Cvv2, () => credit.CodeAsync(credit.WithCode.Pan, AmountMinor));
        }
        finally
        {
            _codeTurn.Release();
        }
    }

    /// <summary>
    /// Where <paramref name="n"/> falls in a hundred, by a mixing hash (SplitMix64's finalizer): unlike the mix's linear rolls
    /// (n × a prime, mod 100), it picks numbers that those do not already give to queries, refunds or credit cards.
    /// </summary>
    private static int Percentile(long n)
    {
        var z = (ulong)n + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) % 100);
    }

    /// <summary>Any order seen paid, not always the same one: a query of one hot row would flatter.</summary>
    private bool TryPickPaid(out (NetPayClient Merchant, string OrderId) paid)
    {
        lock (_seenPaid)
        {
            paid = _seenPaid.Count > 0 ? _seenPaid[Random.Shared.Next(_seenPaid.Count)] : default;
            return _seenPaid.Count > 0;
        }
    }
}

/// <summary>
/// The credit share of the mix: a bank's published credit cards (one that needs no code, one whose bank asks for it),
/// and how the cardholder reads the code (the bank's development inbox, newest first).
/// </summary>
public sealed record CreditCards(int Percent, (string Pan, string Cvv2) WithoutCode, (string Pan, string Cvv2) WithCode,
    Func<string, long, Task<string>> CodeAsync);
