using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Mesh.NetPay.Api;

namespace Mesh.Load;

/// <summary>
/// The work: a purchase as merchants and consumers make it (a signed /v1 order, the payment page,
/// the PIN sealed as the page does, the result, the merchant's notification), and in the mix a signed query of a paid order or
/// a refund of one fen of it. Consumers (each with its own cookies and connections) and paid
/// orders are pooled.
/// </summary>
public sealed class Purchases(IReadOnlyList<NetPayClient> merchants, Uri notifyUrl, Uri paymentPage, IReadOnlyList<string> cards, int queryPercent, int refundPercent)
{
    public const long AmountMinor = 1_00;
    private const int PaidKeptMax = 10_000;
    private readonly ConcurrentBag<Consumer> _consumers = [];
    private readonly ConcurrentQueue<(NetPayClient Merchant, string OrderId)> _paid = new();
    private long _sequence;

    public long Queries;
    public long Refunds;

    /// <summary>Latencies of the mix's queries and refunds, in milliseconds.</summary>
    public ConcurrentQueue<double> QueryMs { get; } = new();

    public ConcurrentQueue<double> RefundMs { get; } = new();

    /// <summary>One unit of the mix; <paramref name="dueTimestamp"/> is when it should have started (open loop), so queueing counts in its latency.</summary>
    public async Task RunOneAsync(Recorder recorder, long dueTimestamp)
    {
        var n = Interlocked.Increment(ref _sequence);
        var roll = (int)(n * 7919 % 100);
        try
        {
            if (roll < queryPercent && _paid.TryPeek(out var queried))
            {
                var asked = Stopwatch.GetTimestamp();
                await queried.Merchant.GetOrderAsync(queried.OrderId);
                QueryMs.Enqueue(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
                Interlocked.Increment(ref Queries);
                return;
            }
            if (roll < queryPercent + refundPercent && _paid.TryDequeue(out var refunded))
            {
                var asked = Stopwatch.GetTimestamp();
                await refunded.Merchant.RefundAsync(refunded.OrderId, "r" + n.ToString(CultureInfo.InvariantCulture), 1);
                RefundMs.Enqueue(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
                Interlocked.Increment(ref Refunds);
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

    private async Task PurchaseAsync(Recorder recorder, long n, long dueTimestamp)
    {
        var merchant = merchants[(int)(n % merchants.Count)];
        var orderId = $"L{n:D9}{Environment.ProcessId % 1000:D3}";
        var started = Stopwatch.GetTimestamp();
        var order = await merchant.CreateOrderAsync(new CreateOrder(orderId, AmountMinor, BackUrl: notifyUrl.ToString(), GateId: "0102"));
        var created = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!_consumers.TryTake(out var consumer))
        {
            consumer = new Consumer(paymentPage);
        }
        try
        {
            var (paid, open, submit, result) = await consumer.PayAsync(order.PayUrl!, cards[(int)(n % cards.Count)], "123456");
            if (!paid)
            {
                throw new LoadException("not paid", orderId);
            }
            recorder.Record(new Sample(Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds, created, open, submit, result));
            if (_paid.Count < PaidKeptMax)
            {
                _paid.Enqueue((merchant, orderId));
            }
        }
        finally
        {
            _consumers.Add(consumer);
        }
    }
}
