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
    /// <summary>A command is microseconds of cryptography; a key-management command writes to the database.</summary>
    public static readonly IReadOnlyList<double> CommandDurationBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05];

    private readonly Histogram<double> _commandSeconds;
    private readonly Counter<long> _pinFailures;

    public HsmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _commands = meter.CreateCounter<long>("mesh.hsm.commands", "{command}", "Commands run, by command, caller and outcome (done, refused, failed)");
        _commandSeconds = meter.CreateHistogram("mesh.hsm.command.duration", "s", "How long a command took inside the Hsm, by command",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommandDurationBuckets });
        _pinFailures = meter.CreateCounter<long>("mesh.hsm.pin.failures", "{failure}", "Failed PIN commands, by caller, command and payShield error code");
    }

    public void Ran(string command, string caller, string outcome, TimeSpan elapsed)
    {
        _commands.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("caller", caller),
            new KeyValuePair<string, object?>("outcome", outcome));
        _commandSeconds.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("command", command));
    }

    public void PinFailed(string caller, string command, string errorCode) =>
        _pinFailures.Add(1, new KeyValuePair<string, object?>("caller", caller), new KeyValuePair<string, object?>("command", command),
            new KeyValuePair<string, object?>("error_code", errorCode));
}
