using System.Globalization;

namespace Mesh.Switch.Links;

/// <summary>System trace audit numbers 000001–999999, wrapping around.</summary>
public sealed class StanSequence
{
    private const int StanMax = 999_999;
    private int _last = Random.Shared.Next(0, StanMax);

    public string Next()
    {
        int current, next;
        do
        {
            current = _last;
            next = current >= StanMax ? 1 : current + 1;
        }
        while (Interlocked.CompareExchange(ref _last, next, current) != current);
        return next.ToString("D6", CultureInfo.InvariantCulture);
    }
}
