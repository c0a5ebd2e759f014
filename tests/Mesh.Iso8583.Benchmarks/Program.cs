using System.Globalization;
using BenchmarkDotNet.Running;
using Mesh.Iso8583.Fuzzing;

// BenchmarkDotNet's switcher, or the fuzz campaign: fuzz [cases] [seed].
if (args.ElementAtOrDefault(0) == "fuzz")
{
    var cases = long.Parse(args.ElementAtOrDefault(1) ?? "1000000", CultureInfo.InvariantCulture);
    var seed = int.Parse(args.ElementAtOrDefault(2) ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    Console.WriteLine($"ISO 8583 fuzz campaign: {cases:N0} cases, seed {seed}");
    var report = new IsoFuzzCampaign(seed).Run(cases, done => Console.Error.Write($"\r  {done:N0} cases"));
    Console.Error.WriteLine();
    Console.WriteLine(report);
    foreach (var failure in report.Failures)
    {
        Console.WriteLine("  " + failure);
    }
    return report.Failures.Count == 0 ? 0 : 1;
}
BenchmarkSwitcher.FromAssembly(typeof(Mesh.Iso8583.Benchmarks.PackagerBenchmarks).Assembly).Run(args);
return 0;
