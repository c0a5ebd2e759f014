using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Mesh.Iso8583.Benchmarks.PackagerBenchmarks).Assembly).Run(args);
