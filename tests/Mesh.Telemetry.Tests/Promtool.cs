using System.Diagnostics;

namespace Mesh.Telemetry.Tests;

/// <summary>Debian's promtool (package <c>prometheus</c>, installed by scripts/prerequisites.sh tests).</summary>
public static class Promtool
{
    public static readonly TimeSpan RunMax = TimeSpan.FromMinutes(2);

    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        using var timeout = new CancellationTokenSource(RunMax);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output + await errors);
    }
}
