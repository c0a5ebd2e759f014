using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mesh.Contracts.Hsm;

namespace Mesh.Hsm.Benchmarks;

/// <summary>
/// PIN translations over gRPC against the real Hsm (started with the whole platform through the
/// AppHost, PostgreSQL included), from one process on the same machine, as the switch sends them.
/// </summary>
public static class GrpcLoad
{
    private const string Pan = "6222021234567890128";
    private const int WarmUpSeconds = 5;

    public static async Task<int> RunAsync(int seconds, int concurrency)
    {
        await using var platform = await BenchmarkPlatform.StartAsync<Projects.Mesh_AppHost>();
        var app = platform.App;
        var address = app.GetEndpoint("hsm", "grpc");
        var switchSecret = await platform.ParameterAsync("switch-hsm-secret");
        var operatorSecret = (await File.ReadAllTextAsync(Path.Combine(platform.DataDir, "hsm", "operator.secret"))).Trim();
        using var operatorChannel = Channel(address, "operator", operatorSecret);
        var op = new Contracts.Hsm.Hsm.HsmClient(operatorChannel);
        // The acquirer's ZPK is loaded from known components, as a bank loads one (two custodians, one
        // component each): the load generator then holds it in clear and makes PIN blocks the way an acquirer does.
        string[] components = ["10101010101010101010101010101010", "1032547698BADCFEEFCDAB8967452301"];
        for (var i = 0; i < components.Length; i++)
        {
            var custodian = $"custodian-{i + 1}";
            var secret = (await File.ReadAllTextAsync(Path.Combine(platform.DataDir, "hsm", $"{custodian}.secret"))).Trim();
            using var custodianChannel = Channel(address, custodian, secret);
            await new Contracts.Hsm.Hsm.HsmClient(custodianChannel).SubmitKeyComponentAsync(new SubmitKeyComponentRequest
            {
                KeyId = "bench-zpk-acq",
                KeyType = KeyType.Zpk,
                Algorithm = KeyAlgorithm.Tdes2Key,
                ComponentsRequired = components.Length,
                Component = ByteString.CopyFrom(Convert.FromHexString(components[i])),
                // The switch translates out of it; the issuer's ZPK is the switch's to translate into.
                Owners = { new KeyOwner { Caller = "switch", Uses = { KeyUse.PinDecrypt } } },
            });
        }
        await op.GenerateKeyAsync(new GenerateKeyRequest
        {
            KeyId = "bench-zpk-iss",
            KeyType = KeyType.Zpk,
            Algorithm = KeyAlgorithm.Tdes2Key,
            Owners = { new KeyOwner { Caller = "switch", Uses = { KeyUse.PinEncrypt } } },
        });
        var zpk = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"); // the two components XORed, odd parity
        using var des = System.Security.Cryptography.TripleDES.Create();
        des.Key = [.. zpk, .. zpk[..8]];
        var block = ByteString.CopyFrom(des.EncryptEcb(Convert.FromHexString(ClearFormat0("135790", Pan)), System.Security.Cryptography.PaddingMode.None));

        using var channel = Channel(address, "switch", switchSecret);
        var hsm = new Contracts.Hsm.Hsm.HsmClient(channel);
        var request = new TranslatePinRequest
        {
            SourceZpkId = "bench-zpk-acq",
            DestinationZpkId = "bench-zpk-iss",
            PinBlock = block,
            SourceFormat = PinBlockFormat.Iso0,
            DestinationFormat = PinBlockFormat.Iso3,
            Pan = Pan,
        };

        Console.WriteLine($"warm-up {WarmUpSeconds} s, then {seconds} s at {concurrency} calls in flight");
        await RunPhaseAsync(hsm, request, WarmUpSeconds, concurrency, report: false);
        await RunPhaseAsync(hsm, request, seconds, concurrency, report: true);
        return 0;
    }

    /// <summary>ISO 9564 format 0 in clear: 0‖len‖PIN‖F… XOR 0000‖12 PAN digits before the check digit.</summary>
    private static string ClearFormat0(string pin, string pan)
    {
        var pinField = Convert.FromHexString($"0{pin.Length:X}{pin}".PadRight(16, 'F'));
        var panField = Convert.FromHexString("0000" + pan[^13..^1]);
        return Convert.ToHexString([.. pinField.Zip(panField, (a, b) => (byte)(a ^ b))]);
    }

    private static async Task RunPhaseAsync(Contracts.Hsm.Hsm.HsmClient hsm, TranslatePinRequest request, int seconds, int concurrency, bool report)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var stopwatch = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var hsmBefore = HsmCpu();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(capacity: 100_000);
            while (stopwatch.Elapsed < until)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await hsm.TranslatePinAsync(request);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }).ToList();
        if (report)
        {
            _ = Task.Run(async () =>
            {
                while (stopwatch.Elapsed < until)
                {
                    await Task.Delay(1000);
                    var done = latencies.Sum(l => l?.Count ?? 0);
                    Console.Write($"\r{stopwatch.Elapsed.TotalSeconds,5:F0} s  {done / stopwatch.Elapsed.TotalSeconds,9:F0} translations/s  errors {errors}   ");
                }
            });
        }
        await Task.WhenAll(workers);
        if (!report)
        {
            return;
        }
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        var hsmCpu = (HsmCpu() - hsmBefore).TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"TranslatePin over gRPC: {all.Length} in {elapsed:F1} s = {all.Length / elapsed:F0}/s, errors {errors}");
        Console.WriteLine($"latency ms: p50 {Percentile(all, 0.50):F2}  p90 {Percentile(all, 0.90):F2}  p99 {Percentile(all, 0.99):F2}  max {all[^1]:F2}");
        Console.WriteLine($"CPU: Hsm process {hsmCpu:F1} s ({hsmCpu / elapsed * 100:F0}% of one core, {hsmCpu / all.Length * 1e6:F0} µs a call), "
            + $"load generator {clientCpu:F1} s ({clientCpu / elapsed * 100:F0}% of one core, {clientCpu / all.Length * 1e6:F0} µs a call)");
    }

    private static TimeSpan HsmCpu() =>
        Process.GetProcessesByName("Mesh.Hsm").Aggregate(TimeSpan.Zero, (total, p) => total + p.TotalProcessorTime);

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];

    private static GrpcChannel Channel(Uri address, string caller, string secret) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("x-mesh-caller", caller);
                metadata.Add("authorization", $"Bearer {secret}");
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
}
