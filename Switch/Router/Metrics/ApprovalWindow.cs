namespace Mesh.Switch.Metrics;

/// <summary>
/// Approved and answered counts over a sliding minute, in one-second buckets: the approval rate an
/// operator watches. Bounded: sixty buckets, whatever the load.
/// </summary>
public sealed class ApprovalWindow(TimeProvider time)
{
    public const int Seconds = 60;

    private readonly Lock _lock = new();
    private readonly long[] _second = new long[Seconds];
    private readonly long[] _approved = new long[Seconds];
    private readonly long[] _answered = new long[Seconds];

    public void Add(bool approved)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            var slot = (int)(now % Seconds);
            if (_second[slot] != now)
            {
                (_second[slot], _approved[slot], _answered[slot]) = (now, 0, 0);
            }
            _answered[slot]++;
            _approved[slot] += approved ? 1 : 0;
        }
    }

    /// <summary>Approved ÷ answered in the last minute; 0 when nothing was answered.</summary>
    public double Rate()
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        long approved = 0, answered = 0;
        lock (_lock)
        {
            for (var slot = 0; slot < Seconds; slot++)
            {
                if (now - _second[slot] < Seconds)
                {
                    approved += _approved[slot];
                    answered += _answered[slot];
                }
            }
        }
        return answered == 0 ? 0 : (double)approved / answered;
    }
}
