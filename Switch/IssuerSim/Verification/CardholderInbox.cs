using System.Collections.Concurrent;

namespace Mesh.IssuerSim.Verification;

/// <summary>A one-time code as the cardholder's phone would receive it.</summary>
public sealed record InboxMessage(string PanMasked, long AmountMinor, string Code, string Text, DateTimeOffset SentAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Where the simulated bank "sends" one-time codes: the cardholders' phones, for developers and the
/// tests to read at <c>GET /admin/inbox</c>. It exists in Development only (elsewhere a bank hands the
/// code to its SMS gateway, which Mesh does not simulate), is held in memory only, and keeps the last
/// <see cref="MessagesMax"/> messages.
/// </summary>
public sealed class CardholderInbox(IHostEnvironment environment)
{
    public const int MessagesMax = 1_000;

    private readonly ConcurrentQueue<InboxMessage> _messages = new();

    public bool Enabled => environment.IsDevelopment();

    public void Deliver(InboxMessage message)
    {
        if (!Enabled)
        {
            return;
        }
        _messages.Enqueue(message);
        while (_messages.Count > MessagesMax && _messages.TryDequeue(out _))
        {
        }
    }

    /// <summary>The messages to the card shown as <paramref name="panMasked"/>, the newest first.</summary>
    public IReadOnlyList<InboxMessage> For(string panMasked) =>
        [.. _messages.Where(m => m.PanMasked == panMasked).Reverse()];
}
