using System.Diagnostics;

namespace Mesh.Load;

/// <summary>Closed loop (N payers, each starting again when done) and open loop (a fixed arrival rate, whatever the answers), with a live progress line.</summary>
public static class LoadRun
{
    /// <summary>Most purchases in flight in the open loop; arrivals beyond it are counted as dropped, not queued without bound.</summary>
    public const int InFlightMax = 4_096;

    public static async Task<(Recorder Recorder, TimeSpan Elapsed)> ClosedAsync(Purchases work, int concurrency, int seconds, string label)
    {
        var recorder = new Recorder();
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        using var progress = Progress(recorder, clock, label);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (clock.Elapsed < until)
            {
                await work.RunOneAsync(recorder, Stopwatch.GetTimestamp());
            }
        }));
        return (recorder, clock.Elapsed);
    }

    public static async Task<(Recorder Recorder, TimeSpan Elapsed)> OpenAsync(Purchases work, double ratePerSecond, int seconds, string label)
    {
        var recorder = new Recorder();
        var clock = Stopwatch.StartNew();
        var total = (long)(ratePerSecond * seconds);
        var inFlight = new List<Task>();
        using var gate = new SemaphoreSlim(InFlightMax);
        using var progress = Progress(recorder, clock, label);
        var origin = Stopwatch.GetTimestamp();
        for (long i = 0; i < total; i++)
        {
            var due = origin + (long)(i / ratePerSecond * Stopwatch.Frequency);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
            }
            if (!gate.Wait(0))
            {
                recorder.Fail("dropped: too many in flight");
                continue;
            }
            inFlight.Add(RunAsync(due));
            if (inFlight.Count > 2 * InFlightMax)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }
        await Task.WhenAll(inFlight);
        return (recorder, clock.Elapsed);

        async Task RunAsync(long due)
        {
            try
            {
                await Task.Yield();
                await work.RunOneAsync(recorder, due);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private static Timer Progress(Recorder recorder, Stopwatch clock, string label)
    {
        long last = 0;
        return new Timer(_ =>
        {
            var done = recorder.Completed;
            Console.Error.Write($"\r  {label}: {clock.Elapsed.TotalSeconds,5:F0} s  {done,8} purchases  {done - last,6}/s  errors {recorder.Failed}      ");
            last = done;
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }
}
