using Mesh.ServiceDefaults.Background;

namespace Mesh.Gateway.Payments;

/// <summary>
/// The resolver's doorbell (<see cref="UnresolvedPayments"/>): rung once a payment's outcome is written as unknown, so it
/// is looked up at the switch at once rather than at the resolver's fallback poll.
/// </summary>
public sealed class PaymentsInDoubt
{
    public WorkSignal Signal { get; } = new();

    public void Wake() => Signal.Wake();
}
