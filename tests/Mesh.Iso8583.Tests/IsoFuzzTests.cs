using System.Globalization;

namespace Mesh.Iso8583.Tests;

/// <summary>
/// The bounded run of the fuzz campaign (the long one: <c>dotnet run -c Release --project
/// tests/Mesh.Benchmarks -- fuzz 1000000 [seed]</c>). CI runs the same cases each time, from a fixed
/// seed; <c>MESH_FUZZ_SEED</c> runs another (a failure names its seed) and <c>MESH_FUZZ_CASES</c> widens it.
/// </summary>
public sealed class IsoFuzzTests
{
    private const int FixedSeed = 20261205;
    private static readonly long Cases = long.TryParse(Environment.GetEnvironmentVariable("MESH_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture,
        out var cases) ? cases : 100_000;

    [Fact]
    public void MutatedAndRandomInput_NeverThrowsOrHangs_InUnpackingTheFormatErrorAnswerOrFraming()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("MESH_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var given)
            ? given
            : FixedSeed;

        var report = new IsoFuzzCampaign(seed).Run(Cases);

        Assert.True(report.Failures.Count == 0, $"seed {seed}: {report}\n{string.Join('\n', report.Failures)}");
        Assert.Equal(Cases, report.Cases);
        // The mutations reach both sides: some inputs still read as messages, most are refused with a format error, and framing both reads and refuses.
        Assert.True(report.Unpacked > 0 && report.FormatErrors > Cases / 2, report.ToString());
        Assert.True(report.Frames > 0 && report.FramingRefusals > 0, report.ToString());
        Assert.True(report.ManagedBytesGrowth < 64L * 1024 * 1024, report.ToString());
    }

    [Fact]
    public void ACase_IsTheSameInputForTheSameSeed_SoAFailureReplays() =>
        Assert.Equal(new IsoFuzzCampaign(42).Case(12_345), new IsoFuzzCampaign(42).Case(12_345));
}
