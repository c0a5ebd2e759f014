using BenchmarkDotNet.Running;
using Mesh.Hsm.Benchmarks;

// inprocess: BenchmarkDotNet over the Hsm's commands (no network, no database).
// grpc [seconds] [concurrency]: the whole platform started through the AppHost, then PIN
// translations over gRPC as the switch would send them, with throughput and latency percentiles.
return args.FirstOrDefault() switch
{
    "inprocess" => RunInProcess(args[1..]),
    "grpc" => await GrpcLoad.RunAsync(
        seconds: args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30,
        concurrency: args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 64),
    _ => Usage(),
};

static int RunInProcess(string[] rest)
{
    BenchmarkRunner.Run<HsmCommandBenchmarks>(args: rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Mesh.Hsm.Benchmarks inprocess [BenchmarkDotNet args] | grpc [seconds] [concurrency]");
    return 2;
}
