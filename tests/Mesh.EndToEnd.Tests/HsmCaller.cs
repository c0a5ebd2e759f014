using Aspire.Hosting.Testing;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Mesh.EndToEnd.Tests;

/// <summary>A client of the platform's Hsm as one of its callers: the caller's name and its secret (or another one, to attack with).</summary>
internal static class HsmCaller
{
    /// <summary>The operator's and the key custodians' secrets are files in the data folder (development); a service's is a parameter.</summary>
    public static async Task<string> SecretOfAsync(MeshPlatformFixture platform, string caller) => caller == "operator" || caller.StartsWith("custodian-", StringComparison.Ordinal)
        ? (await File.ReadAllTextAsync(Path.Combine(platform.DataDir, "hsm", $"{caller}.secret"))).Trim()
        : await platform.ParameterAsync($"{caller}-hsm-secret");

    public static async Task<(Contracts.Hsm.Hsm.HsmClient Client, GrpcChannel Channel)> ConnectAsync(MeshPlatformFixture platform, string caller, string? secret = null)
    {
        secret ??= await SecretOfAsync(platform, caller);
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("x-mesh-caller", caller);
            metadata.Add("authorization", $"Bearer {secret}");
            return Task.CompletedTask;
        });
        var channel = GrpcChannel.ForAddress(platform.App.GetEndpoint("hsm", "grpc"), new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        return (new Contracts.Hsm.Hsm.HsmClient(channel), channel);
    }

    /// <summary>The payShield code a refusal carries (google.rpc.ErrorInfo of domain hsm.mesh).</summary>
    public static string? ErrorCode(RpcException ex) =>
        ex.GetRpcStatus()?.Details.Select(d => d.TryUnpack<ErrorInfo>(out var info) ? info : null).FirstOrDefault(i => i?.Domain == "hsm.mesh")?.Reason;
}
