namespace Mesh.IssuerSim.Faults;

/// <summary>
/// Faults a test can switch on in a running bank: added latency, answers dropped, connections
/// closed on a request, `96` answers, or a key change answered with a check value that is not the
/// key's (as a bank whose import made another key). Bounded, and off by default.
/// </summary>
public sealed class FaultKnobs
{
    public const int LatencyMsMax = 60_000;

    private int _heldNow;

    public int LatencyMs { get; private set; }

    public bool DropAnswers { get; private set; }

    public bool CloseConnections { get; private set; }

    public bool SystemMalfunction { get; private set; }

    public bool WrongKeyCheckValue { get; private set; }

    public void Set(FaultSettings settings)
    {
        LatencyMs = Math.Clamp(settings.LatencyMs, 0, LatencyMsMax);
        DropAnswers = settings.DropAnswers;
        CloseConnections = settings.CloseConnections;
        SystemMalfunction = settings.SystemMalfunction;
        WrongKeyCheckValue = settings.WrongKeyCheckValue;
    }

    public FaultSettings Get() => new(LatencyMs, DropAnswers, CloseConnections, SystemMalfunction, WrongKeyCheckValue);

    /// <summary>The knobs as set, and how many requests the added latency holds at this moment.</summary>
    public FaultStatus Status() => new(LatencyMs, DropAnswers, CloseConnections, SystemMalfunction, WrongKeyCheckValue, Volatile.Read(ref _heldNow));

    /// <summary>Holds a request for <paramref name="latencyMs"/>, counted in <see cref="FaultStatus.HeldNow"/> meanwhile (a test waits for its request to be at the bank).</summary>
    public async Task HoldAsync(int latencyMs, TimeProvider time, CancellationToken ct)
    {
        Interlocked.Increment(ref _heldNow);
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(latencyMs), time, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _heldNow);
        }
    }
}

public sealed record FaultSettings(int LatencyMs, bool DropAnswers, bool CloseConnections, bool SystemMalfunction, bool WrongKeyCheckValue = false);

/// <summary>What <c>GET /admin/faults</c> answers: the knobs, and the requests the latency knob is holding now.</summary>
public sealed record FaultStatus(int LatencyMs, bool DropAnswers, bool CloseConnections, bool SystemMalfunction, bool WrongKeyCheckValue, int HeldNow);
