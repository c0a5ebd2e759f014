using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aspire.Hosting.Testing;
using Npgsql;

namespace Mesh.Load;

/// <summary>What a run prints: per phase, throughput, latency percentiles (the whole purchase, each step, the queries and refunds), errors by kind and CPU per purchase by process; then pgbench on the same server.</summary>
public sealed class Report
{
    public sealed record SweepPoint(double OfferedPerSecond, double AchievedPerSecond, double P50Ms, double P90Ms, double P99Ms, long Errors);

    public SweepPoint Phase(string title, Recorder recorder, TimeSpan elapsed, ProcessCpu.Snapshot cpuBefore, ProcessCpu.Snapshot cpuAfter)
    {
        var samples = recorder.Samples;
        var rate = samples.Count / elapsed.TotalSeconds;
        double[] Sorted(Func<Sample, double> pick) => [.. samples.Select(pick).Order()];
        var total = Sorted(s => s.TotalMs);
        Console.WriteLine();
        Console.WriteLine($"== {title}");
        Console.WriteLine($"purchases        {samples.Count} paid in {elapsed.TotalSeconds:F1} s = {rate:F0}/s");
        Console.WriteLine($"latency          p50 {P(total, 50)}  p90 {P(total, 90)}  p99 {P(total, 99)}  max {(total.Length == 0 ? 0 : total[^1]):F1} ms");
        foreach (var (step, pick) in new (string, Func<Sample, double>)[]
        {
            ("create order", s => s.CreateMs), ("open page", s => s.OpenMs), ("submit (authorize)", s => s.SubmitMs), ("result page", s => s.ResultMs),
        })
        {
            var sorted = Sorted(pick);
            Console.WriteLine($"  {step,-18} p50 {P(sorted, 50)}  p99 {P(sorted, 99)} ms");
        }
        foreach (var (operation, latencies) in new[] { ("queries", recorder.QueryMs), ("refunds", recorder.RefundMs), ("captures", recorder.CaptureMs), ("voids", recorder.VoidMs) })
        {
            double[] sorted = [.. latencies.Order()];
            Console.WriteLine($"{operation,-16} {sorted.Length} in {elapsed.TotalSeconds:F1} s = {sorted.Length / elapsed.TotalSeconds:F1}/s; "
                + $"p50 {P(sorted, 50)}  p90 {P(sorted, 90)}  p99 {P(sorted, 99)}  max {(sorted.Length == 0 ? 0 : sorted[^1]):F1} ms");
        }
        Console.WriteLine($"errors           {(recorder.Errors.Count == 0 ? "none" : string.Join(", ", recorder.Errors.Select(e => $"{e.Key}: {e.Value}")))}");
        foreach (var (kind, example) in recorder.Examples)
        {
            Console.WriteLine($"  e.g. {kind}: {System.Text.RegularExpressions.Regex.Replace(example, "<[^>]+>", " ")}");
        }
        Cpu(ProcessCpu.Between(cpuBefore, cpuAfter), cpuAfter.StolenSeconds - cpuBefore.StolenSeconds, samples.Count, elapsed);
        return new SweepPoint(0, rate, Recorder.Percentile(total, 50), Recorder.Percentile(total, 90), Recorder.Percentile(total, 99), recorder.Failed);
    }

    /// <summary>CPU per purchase: each process of the platform, the platform's total, the generator's own, what ran outside the run, and all of it.</summary>
    private static void Cpu(IReadOnlyList<ProcessCpu.Use> uses, double stolenSeconds, long purchases, TimeSpan elapsed)
    {
        double PerPurchaseUs(double seconds) => seconds * 1e6 / Math.Max(1, purchases);
        static string Processes(ProcessCpu.Use use) => use.Processes > 1 ? $"  ({use.Processes} processes)" : "";
        var platform = uses.Where(u => u.Owner is not (ProcessCpu.Generator or ProcessCpu.Outside)).ToList();
        Console.WriteLine("CPU per purchase, by process:");
        foreach (var use in platform)
        {
            Console.WriteLine($"  {use.Owner,-16} {PerPurchaseUs(use.CpuSeconds),8:F0} µs{Processes(use)}");
        }
        Console.WriteLine($"  {"platform",-16} {PerPurchaseUs(platform.Sum(u => u.CpuSeconds)),8:F0} µs  (every process of the run but the load generator)");
        foreach (var owner in new[] { ProcessCpu.Generator, ProcessCpu.Outside })
        {
            var use = uses.FirstOrDefault(u => u.Owner == owner) ?? new ProcessCpu.Use(owner, 0, 0);
            Console.WriteLine($"  {owner,-16} {PerPurchaseUs(use.CpuSeconds),8:F0} µs{(owner == ProcessCpu.Generator ? $"  (this process, pid {Environment.ProcessId})" : "  (other work on the machine)")}");
        }
        var cpuTotal = uses.Sum(u => u.CpuSeconds);
        Console.WriteLine($"                 all processes {cpuTotal * 1000 / Math.Max(1, purchases):F2} ms CPU per purchase ({cpuTotal / elapsed.TotalSeconds / Environment.ProcessorCount:P0} of the machine; "
            + $"{stolenSeconds / elapsed.TotalSeconds / Environment.ProcessorCount:P0} stolen by the hypervisor)");
    }

    /// <summary>pgbench TPC-B on the platform's own PostgreSQL, with as many clients as the load had payers: the machine's limit for durable transactions.</summary>
    public async Task PgBenchAsync(BenchmarkPlatform platform, int clients, double purchasesPerSecond)
    {
        var builder = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("gatewaydb"));
        await using (var admin = new NpgsqlConnection(builder.ConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE pgbench", admin);
            await create.ExecuteNonQueryAsync();
        }
        var pgbench = File.Exists("/usr/lib/postgresql/15/bin/pgbench") ? "/usr/lib/postgresql/15/bin/pgbench" : "pgbench";
        string[] connection = ["-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, "pgbench"];
        await RunAsync(pgbench, builder.Password!, ["-i", "-s", "10", "-q", .. connection]);
        var output = await RunAsync(pgbench, builder.Password!, ["-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", "30", "-M", "prepared", "-n", .. connection]);
        var tpsLine = output.Split('\n').FirstOrDefault(l => l.StartsWith("tps = ", StringComparison.Ordinal)) ?? "tps = 0";
        var tps = double.Parse(tpsLine.Split(' ')[2], CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"== pgbench TPC-B, {clients} clients, 30 s, same PostgreSQL: {tps:F0} tps");
        Console.WriteLine($"e2e purchases/s ÷ pgbench tps = {purchasesPerSecond:F0} ÷ {tps:F0} = {purchasesPerSecond / tps:F3}");
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Environment.CurrentDirectory;
    }

    /// <summary>Latency percentiles against offered load, as an SVG line chart (log-scaled latency axis).</summary>
    public static string Chart(IReadOnlyList<SweepPoint> points)
    {
        const int Width = 720, Height = 420, Left = 70, Right = 20, Top = 40, Bottom = 60;
        var maxRate = points.Max(p => p.OfferedPerSecond);
        var maxMs = Math.Max(10, points.Max(p => p.P99Ms));
        double X(double rate) => Left + rate / maxRate * (Width - Left - Right);
        double Y(double ms) => Top + (1 - Math.Log10(Math.Max(1, ms)) / Math.Log10(maxMs * 1.5)) * (Height - Top - Bottom);
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">")
            .Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/><text x=\"{Left}\" y=\"24\" font-size=\"15\">End-to-end purchase latency against offered load</text>")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#333\"/>");
        foreach (var ms in new[] { 1, 10, 100, 1_000, 10_000 }.Where(v => v <= maxMs * 1.5))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Y(ms):F1}\" x2=\"{Width - Right}\" y2=\"{Y(ms):F1}\" stroke=\"#eee\"/><text x=\"{Left - 8}\" y=\"{Y(ms) + 4:F1}\" text-anchor=\"end\">{ms} ms</text>");
        }
        foreach (var p in points)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(p.OfferedPerSecond):F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{p.OfferedPerSecond:F0}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 16}\" text-anchor=\"middle\">offered purchases per second (open loop)</text>");
        foreach (var (name, pick, color) in new (string, Func<SweepPoint, double>, string)[] { ("p50", p => p.P50Ms, "#2b7a3d"), ("p90", p => p.P90Ms, "#c98a00"), ("p99", p => p.P99Ms, "#b3261e") })
        {
            svg.Append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").Append(color).Append("\" points=\"")
                .AppendJoin(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.OfferedPerSecond):F1},{Y(pick(p)):F1}")))
                .Append("\"/>");
            var last = points[^1];
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(last.OfferedPerSecond) - 4:F1}\" y=\"{Y(pick(last)) - 6:F1}\" text-anchor=\"end\" fill=\"{color}\">{name}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string P(double[] sorted, double p) => Recorder.Percentile(sorted, p).ToString("F1", CultureInfo.InvariantCulture);

    private static async Task<string> RunAsync(string file, string password, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PGPASSWORD"] = password;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await stdout + await stderr;
    }
}
