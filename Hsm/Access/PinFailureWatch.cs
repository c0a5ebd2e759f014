using System.Collections.Concurrent;
using Mesh.Hsm.Grpc;
using Npgsql;

namespace Mesh.Hsm.Access;

/// <summary>
/// Failures of PIN commands, per caller: each is counted (<c>mesh.hsm.pin.failures</c>, by caller,
/// command and error code) and audited, since a run of them is how a PIN is searched for; a burst
/// (<see cref="BurstFailures"/> within <see cref="BurstWindow"/>) is logged as a warning and written
/// to the audit log once per window, so an operator sees the attack, not only its pieces.
/// </summary>
public sealed class PinFailureWatch(AuditLog audit, HsmMetrics metrics, TimeProvider time, ILogger<PinFailureWatch> logger)
{
    public const int BurstFailures = 20;

    /// <summary>Failure rows one caller writes per window; past it the failures are counted, and the burst row says how many.</summary>
    public const int AuditedFailuresPerWindowMax = 200;
    public static readonly TimeSpan BurstWindow = TimeSpan.FromMinutes(1);

    /// <summary>Callers watched at once; a caller is one of the Hsm's configured few, so this bounds only a misuse.</summary>
    private const int CallersMax = 256;

    private static readonly HashSet<string> PinCommands =
        ["TranslatePin", "TranslatePinFromBrowser", "VerifyPin", "GeneratePinVerificationValue", "EncryptClearPin"];

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public static bool IsPinCommand(string command) => PinCommands.Contains(command);

    /// <summary>A PIN command failed with <paramref name="errorCode"/>; other commands are ignored.</summary>
    public async Task FailedAsync(string caller, string command, string errorCode, CancellationToken ct)
    {
        if (!IsPinCommand(command))
        {
            return;
        }
        metrics.PinFailed(caller, command, errorCode);
        var (failures, burst) = Count(caller);
        try
        {
            if (failures <= AuditedFailuresPerWindowMax)
            {
                await audit.RecordAsync(caller, command, null, $"failed: {errorCode}", ct);
            }
            if (burst)
            {
                logger.LogWarning("PIN failure burst: {Caller} had {Failures} failed PIN commands within {WindowSeconds} s", caller, failures, BurstWindow.TotalSeconds);
                await audit.RecordAsync(caller, "PinFailureBurst", null, $"{failures} failures within {BurstWindow.TotalSeconds:0} s", ct);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogError(ex, "A failed {Command} of {Caller} could not be audited", command, caller);
        }
    }

    /// <summary>The caller's failures in its window so far, and whether this one makes the window a burst (once per window).</summary>
    private (int Failures, bool Burst) Count(string caller)
    {
        if (_windows.Count >= CallersMax && !_windows.ContainsKey(caller))
        {
            _windows.Clear();
        }
        var window = _windows.GetOrAdd(caller, _ => new Window());
        var now = time.GetUtcNow();
        lock (window)
        {
            if (now - window.Started > BurstWindow)
            {
                window.Started = now;
                window.Failures = 0;
                window.Reported = false;
            }
            window.Failures++;
            var burst = window.Failures >= BurstFailures && !window.Reported;
            window.Reported |= burst;
            return (window.Failures, burst);
        }
    }

    private sealed class Window
    {
        public DateTimeOffset Started { get; set; } = DateTimeOffset.MinValue;

        public int Failures { get; set; }

        public bool Reported { get; set; }
    }
}
