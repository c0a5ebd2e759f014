using System.Collections.Concurrent;

namespace Mesh.NetPay.Notifications;

/// <summary>
/// Where the merchant remembers which notifications it has handled, so that each is handled once
/// however often it is delivered. Claim before handling; release when handling failed, so that
/// the platform's next attempt is handled. Back it with the shop's database to survive restarts.
/// </summary>
public interface INotificationInbox
{
    /// <summary>True when no one has claimed <paramref name="notificationId"/> before; false for a duplicate.</summary>
    ValueTask<bool> TryClaimAsync(string notificationId, CancellationToken ct);

    /// <summary>Forgets a claim whose handling failed.</summary>
    ValueTask ReleaseAsync(string notificationId, CancellationToken ct);
}

/// <summary>An inbox in memory, remembering the last <see cref="Capacity"/> notification ids: for one process that may forget at restart.</summary>
public sealed class MemoryNotificationInbox(int capacity = 100_000) : INotificationInbox
{
    private readonly ConcurrentDictionary<string, byte> _claimed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>How many ids are remembered; the oldest are forgotten first.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <inheritdoc />
    public ValueTask<bool> TryClaimAsync(string notificationId, CancellationToken ct)
    {
        if (!_claimed.TryAdd(notificationId, 0))
        {
            return ValueTask.FromResult(false);
        }
        _order.Enqueue(notificationId);
        while (_claimed.Count > Capacity && _order.TryDequeue(out var oldest))
        {
            _claimed.TryRemove(oldest, out _);
        }
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask ReleaseAsync(string notificationId, CancellationToken ct)
    {
        _claimed.TryRemove(notificationId, out _);
        return ValueTask.CompletedTask;
    }
}
