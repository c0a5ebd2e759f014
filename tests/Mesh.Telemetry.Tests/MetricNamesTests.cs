using System.Globalization;
using System.Text.Json;

namespace Mesh.Telemetry.Tests;

/// <summary>
/// The alert rules and the Grafana dashboard read metrics that exist: the services' own as they
/// export them, the rules' recordings, and the few postgres_exporter series the replication alerts
/// read. Durations are in seconds, each with buckets that fit it.
/// </summary>
public sealed class MetricNamesTests(ServiceMetrics services) : IClassFixture<ServiceMetrics>
{
    /// <summary>postgres_exporter's, on the primary: its pg_stat_replication and replication collectors.</summary>
    public static readonly IReadOnlySet<string> PostgresExporterNames =
        new HashSet<string>(["pg_stat_replication_pg_wal_lsn_diff", "pg_replication_is_replica"], StringComparer.Ordinal);

    /// <summary>Prometheus's own series of the rules' alerts.</summary>
    public const string AlertsSeries = "ALERTS";

    [Theory]
    [InlineData("mesh_hsm_command_duration_seconds", 0.00001, 0.05)]
    [InlineData("mesh_gateway_payment_duration_seconds", 0.005, 10)]
    [InlineData("mesh_switch_issuer_duration_seconds", 0.001, 120)]
    public void Durations_AreSecondsWithBucketsThatFit(string histogram, double first, double last)
    {
        var bounds = services.Text.Split('\n')
            .Where(l => l.StartsWith(histogram + "_bucket{", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..])
            .Select(l => l[..l.IndexOf('"', StringComparison.Ordinal)])
            .Where(le => le != "+Inf")
            .Select(le => double.Parse(le, CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(bounds.Count > 0, services.Text);
        Assert.Equal(first, bounds.Min(), 9);
        Assert.Equal(last, bounds.Max(), 9);
        Assert.DoesNotContain(services.Names, n => n.Contains("milliseconds", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryRule_ReadsMetricsTheServicesExport_OrPostgresExporters()
    {
        var rules = RuleFile.Load();
        Assert.NotEmpty(rules.Expressions);
        var read = rules.Expressions.SelectMany(PromQl.MetricNames).ToHashSet(StringComparer.Ordinal);
        var unknown = read.Except(services.Names).Except(rules.Records).Except(PostgresExporterNames).ToList();
        Assert.True(unknown.Count == 0, $"not exported: {string.Join(", ", unknown)}\n{services.Text}");
        Assert.Contains("mesh_switch_issuer_link_up", read);
        Assert.Contains("mesh_settlement_ledger_problems", read);
    }

    [Fact]
    public void TheDashboard_IsJson_AndEveryExpressionReadsKnownMetrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("deploy", "grafana", "mesh.json")));
        var expressions = Targets(dashboard.RootElement).ToList();
        Assert.NotEmpty(expressions);
        var rules = RuleFile.Load();
        var known = services.Names.Concat(rules.Records).Concat(PostgresExporterNames).Append(AlertsSeries).ToHashSet(StringComparer.Ordinal);
        var unknown = expressions.SelectMany(PromQl.MetricNames).Where(n => !known.Contains(n)).Distinct().ToList();
        Assert.True(unknown.Count == 0, $"unknown: {string.Join(", ", unknown)}");
        Assert.Contains(expressions, e => e.Contains("mesh_gateway_payment_duration_seconds_bucket", StringComparison.Ordinal));
    }

    private static IEnumerable<string> Targets(JsonElement element) =>
        element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
                p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : Targets(p.Value)),
            JsonValueKind.Array => element.EnumerateArray().SelectMany(Targets),
            _ => [],
        };
}
