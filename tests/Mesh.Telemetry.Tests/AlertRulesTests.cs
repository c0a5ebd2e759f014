namespace Mesh.Telemetry.Tests;

/// <summary>deploy/prometheus: the rules load in Prometheus, and each alert fires on its test series and on nothing else.</summary>
public sealed class AlertRulesTests
{
    [Fact]
    public async Task Rules_PassPromtoolCheck()
    {
        var result = await Promtool.RunAsync("check", "rules", RuleFile.RelativePath);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_PassTheirUnitTests()
    {
        var tests = Directory.GetFiles(Repository.PathOf("deploy", "prometheus", "tests"), "*.yml").Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(tests);
        var result = await Promtool.RunAsync(["test", "rules", .. tests]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.DoesNotContain("FAILED", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryAlertOfTheRules_HasATest()
    {
        var rules = File.ReadAllLines(Repository.PathOf(RuleFile.RelativePath))
            .Select(l => l.Trim()).Where(l => l.StartsWith("- alert:", StringComparison.Ordinal)).Select(l => l["- alert:".Length..].Trim()).ToList();
        var tested = Directory.GetFiles(Repository.PathOf("deploy", "prometheus", "tests"), "*.yml")
            .SelectMany(File.ReadAllLines).Select(l => l.Trim())
            .Where(l => l.StartsWith("alertname:", StringComparison.Ordinal)).Select(l => l["alertname:".Length..].Trim()).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(rules);
        Assert.All(rules, alert => Assert.Contains(alert, tested));
    }
}
