using System.Globalization;
using BenchmarkDotNet.Running;

// The component benchmarks (BenchmarkDotNet): with no arguments, every one of them in a short job;
// otherwise BenchmarkDotNet's own arguments (--filter '*Ledger*', --job default, ...).
// fuzz [cases] [seed]: the long ISO 8583 fuzz campaign instead.
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
BenchmarkSwitcher.FromAssembly(typeof(Mesh.Benchmarks.Iso8583.PackagerBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*", "--job", "short"] : args);
return 0;
