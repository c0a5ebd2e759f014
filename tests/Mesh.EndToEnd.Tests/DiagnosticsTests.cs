using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

[Collection(MeshPlatformCollection.Name)]
public sealed class DiagnosticsTests(MeshPlatformFixture platform)
{
    private sealed record Hop(string Name, bool Ok, double LatencyMs, string Detail);

    private sealed record Report(bool Ok, string TraceId, List<Hop> Hops);

    private async Task<Report> GetDiagnosticsAsync()
    {
        // The full view (each hop's detail, the trace id) is the operator's: GatewayAttackTests checks what anyone else sees.
        using var http = platform.App.CreateHttpClient("gateway", "http");
        http.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        using var response = await http.GetAsync(new Uri("/v1/diagnostics", UriKind.Relative));
        var report = await response.Content.ReadFromJsonAsync<Report>();
        Assert.NotNull(report);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"diagnostics answered {(int)response.StatusCode}: {string.Join("; ", report.Hops.Select(h => $"{h.Name} {h.Ok} {h.Detail}"))}");
        return report;
    }

    [Fact]
    public async Task Diagnostics_EveryHopAnswers()
    {
        var report = await GetDiagnosticsAsync();

        Assert.True(report.Ok);
        Assert.Equal(["hsm", "switch", "issuer-icbc", "issuer-ccb", "issuer-boc", "settlement", "gatewaydb"], report.Hops.Select(h => h.Name));
        Assert.All(report.Hops, hop =>
        {
            Assert.True(hop.Ok, $"{hop.Name}: {hop.Detail}");
            Assert.True(hop.LatencyMs > 0, $"{hop.Name} reports no latency");
        });
        Assert.Matches("^LMK AES-256 check value [0-9A-F]{10}, ", report.Hops.Single(h => h.Name == "hsm").Detail);
        Assert.Contains("0810 with response code 00", report.Hops.Single(h => h.Name == "issuer-icbc").Detail, StringComparison.Ordinal);
        Assert.Contains("bank 01050000", report.Hops.Single(h => h.Name == "issuer-ccb").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diagnostics_IsOneTraceWithSpansFromEveryPlatformService()
    {
        var report = await GetDiagnosticsAsync();
        Assert.Matches("^[0-9a-f]{32}$", report.TraceId);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        HashSet<string> services;
        do
        {
            await Task.Delay(250);
            services = platform.Traces.Spans.Where(s => s.TraceId == report.TraceId).Select(s => s.Service).ToHashSet();
        }
        while (!MeshPlatformFixture.PlatformServices.All(services.Contains) && DateTime.UtcNow < deadline);

        Assert.True(MeshPlatformFixture.PlatformServices.All(services.Contains),
            $"trace {report.TraceId} has spans from [{string.Join(", ", services.Order())}]");
        var spans = platform.Traces.Spans.Where(s => s.TraceId == report.TraceId).ToList();
        Assert.Contains(spans, s => s.Service == "switch" && s.Name == "iso8583 0800 → issuer-icbc");
        Assert.Contains(spans, s => s.Service == "issuer-icbc" && s.Name == "iso8583 0800 ← switch");
        Assert.Contains(spans, s => s.Service == "issuer-ccb" && s.Name == "iso8583 0800 ← switch");
    }
}
