using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Load;

/// <summary>
/// The per-hop breakdown, from the services' own metrics (<c>GET /metrics</c> on each service,
/// Prometheus text): per purchase, the requests each service served by route with their
/// server-side time, and the Hsm commands by caller and command.
/// </summary>
public static partial class ServiceCounters
{
    private const int RoutesShown = 16;

    /// <summary>Every counter and histogram sum/count of every service, keyed "service series{labels}".</summary>
    public static async Task<Dictionary<string, double>> SnapshotAsync(BenchmarkPlatform platform)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var project in platform.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            string text;
            try
            {
                text = await http.GetStringAsync(new Uri(platform.App.GetEndpoint(project.Name, "http"), "/metrics"));
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or ArgumentException or TaskCanceledException)
            {
                continue;
            }
            foreach (Match sample in Sample().Matches(text))
            {
                values[$"{project.Name} {sample.Groups["series"].Value}"] = double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return values;
    }

    /// <summary>What each service did per purchase between the two snapshots.</summary>
    public static string PerPurchase(Dictionary<string, double> before, Dictionary<string, double> after, long purchases)
    {
        var per = Math.Max(1, purchases);
        double Delta(string key) => after.GetValueOrDefault(key) - before.GetValueOrDefault(key);
        var text = new StringBuilder();

        // Server side: http.server.request.duration by service and route (gRPC methods included).
        var routes = after.Keys
            .Where(k => k.Contains(" http_server_request_duration_seconds_count{", StringComparison.Ordinal))
            .Select(k => (Key: k, Service: k[..k.IndexOf(' ', StringComparison.Ordinal)], Route: Label(k, "http_route"), Calls: Delta(k),
                Seconds: Delta(k.Replace("_count{", "_sum{", StringComparison.Ordinal))))
            .Where(r => r.Calls > 0 && r.Route.Length > 0 && r.Route != "/health")
            .GroupBy(r => (r.Service, r.Route))
            .Select(g => (g.Key.Service, g.Key.Route, Calls: g.Sum(r => r.Calls), Seconds: g.Sum(r => r.Seconds)))
            .OrderByDescending(r => r.Calls)
            .ToList();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"requests served per purchase: {routes.Sum(r => r.Calls) / per:F1} (top {RoutesShown} by calls; server time per call)");
        foreach (var r in routes.Take(RoutesShown))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {r.Service,-12} {r.Calls / per,6:F2} calls  {r.Seconds * 1e6 / r.Calls,8:F0} µs  {r.Route}");
        }

        // The Hsm: commands by caller and command.
        var commands = after.Keys
            .Where(k => k.StartsWith("hsm mesh_hsm_commands_total{", StringComparison.Ordinal))
            .Select(k => (Caller: Label(k, "caller"), Command: Label(k, "command"), Count: Delta(k)))
            .Where(c => c.Count > 0)
            .GroupBy(c => (c.Caller, c.Command))
            .Select(g => (g.Key.Caller, g.Key.Command, Count: g.Sum(c => c.Count)))
            .OrderBy(c => c.Caller, StringComparer.Ordinal).ThenByDescending(c => c.Count)
            .ToList();
        // The Hsm's own time per command (inside the Hsm, unary or on a session), from its duration histogram.
        var commandSeconds = after.Keys
            .Where(k => k.StartsWith("hsm mesh_hsm_command_duration_seconds_count{", StringComparison.Ordinal))
            .GroupBy(k => Label(k, "command"))
            .ToDictionary(g => g.Key, g =>
            {
                var calls = g.Sum(Delta);
                return calls > 0 ? g.Sum(k => Delta(k.Replace("_count{", "_sum{", StringComparison.Ordinal))) / calls : 0;
            });
        text.AppendLine(CultureInfo.InvariantCulture, $"Hsm commands per purchase: {commands.Sum(c => c.Count) / per:F1} (count, and µs inside the Hsm)");
        foreach (var caller in commands.GroupBy(c => c.Caller))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {caller.Key,-12} {caller.Sum(c => c.Count) / per,5:F1}: {string.Join(", ", caller.Select(c => $"{c.Command} {c.Count / per:F2} × {commandSeconds.GetValueOrDefault(c.Command) * 1e6:F0}"))}");
        }
        return text.ToString();
    }

    private static string Label(string series, string name) =>
        Regex.Match(series, $"[{{,]{name}=\"(?<v>[^\"]*)\"") is { Success: true } m ? m.Groups["v"].Value : "";

    /// <summary>One sample line of the Prometheus text format: the series (name and labels, whose quoted values may hold braces: routes do) and its value; comments skipped.</summary>
    [GeneratedRegex(@"^(?<series>[a-zA-Z_:][a-zA-Z0-9_:]*(\{([^""}]|""([^""\\]|\\.)*"")*\})?) (?<value>[-+0-9.eE]+|NaN)( \d+)?$", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
