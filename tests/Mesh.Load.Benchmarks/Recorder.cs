using System.Collections.Concurrent;

namespace Mesh.Load;

/// <summary>One purchase's timings, in milliseconds: the whole (from when it was due) and each step.</summary>
public readonly record struct Sample(double TotalMs, double CreateMs, double OpenMs, double SubmitMs, double ResultMs);

/// <summary>
/// What a phase of the run measured: samples of completed purchases, the latencies of the mix's
/// queries, refunds, captures and voids (each counted in the phase it finished in, not the whole run), errors by
/// kind, and the live counters the progress line reads.
/// </summary>
public sealed class Recorder
{
    private readonly ConcurrentQueue<Sample> _samples = new();
    private readonly ConcurrentQueue<double> _queryMs = new();
    private readonly ConcurrentQueue<double> _refundMs = new();
    private readonly ConcurrentQueue<double> _captureMs = new();
    private readonly ConcurrentQueue<double> _voidMs = new();
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private long _completed;
    private long _failed;

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyDictionary<string, int> Errors => _errors;

    public void Record(Sample sample)
    {
        _samples.Enqueue(sample);
        Interlocked.Increment(ref _completed);
    }

    public void RecordQuery(double latencyMs) => _queryMs.Enqueue(latencyMs);

    public void RecordRefund(double latencyMs) => _refundMs.Enqueue(latencyMs);

    /// <summary>A held order's capture, from the merchant's call to the platform's answer.</summary>
    public void RecordCapture(double latencyMs) => _captureMs.Enqueue(latencyMs);

    /// <summary>A paid order's void, from the merchant's call to the platform's answer.</summary>
    public void RecordVoid(double latencyMs) => _voidMs.Enqueue(latencyMs);

    private readonly ConcurrentDictionary<string, string> _examples = new(StringComparer.Ordinal);

    /// <summary>The first detail seen of each kind of error, to tell what it was.</summary>
    public IReadOnlyDictionary<string, string> Examples => _examples;

    public void Fail(string kind, string? detail = null)
    {
        _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (detail is not null)
        {
            _examples.TryAdd(kind, detail.Length > 400 ? detail[..400] : detail);
        }
        Interlocked.Increment(ref _failed);
    }

    public IReadOnlyList<Sample> Samples => [.. _samples];

    public IReadOnlyList<double> QueryMs => [.. _queryMs];

    public IReadOnlyList<double> RefundMs => [.. _refundMs];

    public IReadOnlyList<double> CaptureMs => [.. _captureMs];

    public IReadOnlyList<double> VoidMs => [.. _voidMs];

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
