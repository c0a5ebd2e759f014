using System.Diagnostics;

namespace Mesh.Testing;

/// <summary>
/// Waits for a condition, never for a time: reads again every <see cref="Every"/> until the
/// condition holds or the deadline (<see cref="Within"/> unless given) passes, and then fails
/// with what was awaited and the last value read.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);

    /// <summary>The first value read for which <paramref name="done"/> holds.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = within ?? Within;
        var waited = Stopwatch.StartNew();
        var value = await read();
        while (!done(value))
        {
            if (waited.Elapsed >= deadline)
            {
                throw new TimeoutException($"{what}: not so after {deadline.TotalSeconds:0.#} s (last read: {value})");
            }
            await Task.Delay(Every);
            value = await read();
        }
        return value;
    }

    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null) =>
        UntilAsync(condition, holds => holds, what, within);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? within = null) =>
        UntilAsync(() => Task.FromResult(condition()), holds => holds, what, within);
}
