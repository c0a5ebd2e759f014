namespace Mesh.IssuerSim.Faults;

/// <summary>
/// Faults a test can switch on in a running bank: added latency, answers dropped, connections
/// closed on a request, `96` answers, or a key change answered with a check value that is not the
/// key's (as a bank whose import made another key). Bounded, and off by default.
/// </summary>
public sealed class FaultKnobs
{
    public const int LatencyMsMax = 60_000;

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
}

public sealed record FaultSettings(int LatencyMs, bool DropAnswers, bool CloseConnections, bool SystemMalfunction, bool WrongKeyCheckValue = false);
