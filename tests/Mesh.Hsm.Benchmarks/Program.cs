using System.Globalization;
using Mesh.Hsm.Benchmarks;

// [seconds] [concurrency]: the whole platform started through the AppHost, then PIN translations
// over gRPC as the switch would send them, with throughput and latency percentiles. (The Hsm's
// commands in process are in tests/Mesh.Benchmarks, with the other component benchmarks.)
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
return await GrpcLoad.RunAsync(seconds, concurrency);
