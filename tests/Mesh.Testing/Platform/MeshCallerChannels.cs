using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace Mesh.Testing;

/// <summary>gRPC channels that present a caller's credential (<c>x-mesh-caller</c>, <c>authorization: Bearer</c>) on every call.</summary>
public static class MeshCallerChannels
{
    /// <summary>A channel to <paramref name="address"/>; a null <paramref name="caller"/> or <paramref name="secret"/> is left out.</summary>
    public static GrpcChannel Open(Uri address, string? caller, string? secret) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                if (caller is not null)
                {
                    metadata.Add(MeshCallers.CallerHeader, caller);
                }
                if (secret is not null)
                {
                    metadata.Add("authorization", $"Bearer {secret}");
                }
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });

    /// <summary>
    /// A channel that presents, for each method (<c>Record</c>), the credential <paramref name="credentialOf"/>
    /// chooses: a test that plays two callers (the gateway recording, an operator closing the day) on one client.
    /// </summary>
    public static GrpcChannel Open(Uri address, Func<string, (string Caller, string Secret)> credentialOf) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((context, metadata) =>
            {
                var (caller, secret) = credentialOf(context.MethodName);
                metadata.Add(MeshCallers.CallerHeader, caller);
                metadata.Add("authorization", $"Bearer {secret}");
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });

    /// <summary>A channel to <paramref name="server"/>'s grpc endpoint with <paramref name="caller"/>'s credential there.</summary>
    public static async Task<GrpcChannel> OpenCallerChannelAsync(this DistributedApplication app, string server, string caller) =>
        Open(app.GetEndpoint(server, "grpc"), caller, await app.SecretAsync(caller, server));
}
