using System.Diagnostics.Metrics;

namespace Mesh.Hsm.Grpc;

/// <summary>
/// The Hsm's meter (<c>Mesh.Hsm</c>): commands run, by command, caller and outcome (done, refused:
/// not allowed for the caller, failed: an error code), and how long each took, whether it came as
/// a unary call or on a session stream.
/// </summary>
public sealed class HsmMetrics
{
    public const string MeterName = "Mesh.Hsm";

    private readonly Counter<long> _commands;
    private readonly Histogram<double> _commandMs;
    private readonly Counter<long> _pinFailures;

    public HsmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _commands = meter.CreateCounter<long>("mesh.hsm.commands", "{command}", "Commands run, by command, caller and outcome (done, refused, failed)");
        _commandMs = meter.CreateHistogram<double>("mesh.hsm.command.duration", "ms", "How long a command took inside the Hsm, by command");
        _pinFailures = meter.CreateCounter<long>("mesh.hsm.pin.failures", "{failure}", "Failed PIN commands, by caller, command and payShield error code");
    }

    public void Ran(string command, string caller, string outcome, double elapsedMs)
    {
        _commands.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("caller", caller),
            new KeyValuePair<string, object?>("outcome", outcome));
        _commandMs.Record(elapsedMs, new KeyValuePair<string, object?>("command", command));
    }

    public void PinFailed(string caller, string command, string errorCode) =>
        _pinFailures.Add(1, new KeyValuePair<string, object?>("caller", caller), new KeyValuePair<string, object?>("command", command),
            new KeyValuePair<string, object?>("error_code", errorCode));
}
