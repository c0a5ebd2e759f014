using System.Net.Http.Json;
using System.Security.Cryptography;
using Mesh.AppHost.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.AppHost;

/// <summary>
/// The demo shop (<c>NetPayClient/Shop</c>), a merchant that uses only the SDK. Its key pair is
/// made once in the data folder; once the gateway is up, the AppHost, playing the platform's
/// operator, onboards it as merchant <see cref="MerchantId"/> with the public half (the same
/// request again changes nothing). The shop gets only its private key's path, never an operator
/// credential. Published (with the simulators), its key is a file the deployment mounts
/// (<c>shop-merchant-key-path</c>) and the operator onboards it (docs/operations.md).
/// </summary>
public static class DemoShop
{
    public const string MerchantId = "808080000000001";
    public const string MerchantName = "Mesh Tea House";

    /// <summary>The shop's address: <c>http://localhost:5090</c>.</summary>
    public const int Port = 5090;

    public static IResourceBuilder<ProjectResource> AddDemoShop(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<MeshDatabaseResource> shopDb, IResourceBuilder<ParameterResource> adminKey, MeshDataFolder data)
    {
        if (builder.IsPublishing())
        {
            return builder.AddShopProject(gateway, shopDb)
                .WithEnvironment("Shop__KeyPath", builder.AddParameter("shop-merchant-key-path"))
                .WithEnvironment("Shop__PublicUrl", builder.AddParameter(MeshPublishing.ShopPublicUrl));
        }
        var keyPath = Path.Combine(data.Root, "shop", "merchant.key.pem");
        using var key = RSA.Create();
        if (File.Exists(keyPath))
        {
            key.ImportFromPem(File.ReadAllText(keyPath));
        }
        else
        {
            key.KeySize = 2048;
            OwnerOnlyFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem(), FileMode.CreateNew);
        }
        var publicKeyPem = key.ExportSubjectPublicKeyInfoPem();

        var shop = builder.AddShopProject(gateway, shopDb)
            .WithEnvironment("Shop__KeyPath", keyPath);
        shop.WithEnvironment("Shop__PublicUrl", shop.GetEndpoint("http"));

        builder.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, async (ready, ct) =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(gateway.GetEndpoint("http").Url), "/admin/merchants"))
            {
                Content = JsonContent.Create(new
                {
                    merchantId = MerchantId,
                    name = MerchantName,
                    publicKeyPem,
                    notificationMode = "realtime",
                    notificationProtocol = "plain",
                    feeRatePpm = 6_000,
                    feeMinimumMinor = 100,
                    settlementAccount = "1202020209000012345",
                }),
            };
            request.Headers.Add("X-Mesh-Admin-Key", await adminKey.Resource.GetValueAsync(ct));
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // A data folder from an earlier version onboarded the shop with other details (its key is the same file): it is kept.
                ready.Services.GetRequiredService<ResourceLoggerService>().GetLogger(shop.Resource)
                    .LogWarning("Merchant {MerchantId} is onboarded with other details than this version's; they are kept", MerchantId);
                return;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"onboarding the demo shop: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        });
        return shop;
    }

    private static IResourceBuilder<ProjectResource> AddShopProject(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<MeshDatabaseResource> shopDb) =>
        builder.AddProject<Projects.Mesh_Shop>("shop")
            .WithReference(shopDb).WaitFor(shopDb)
            .WaitFor(gateway)
            .WithEnvironment("Shop__MerchantId", MerchantId)
            .WithEnvironment("Shop__GatewayUrl", gateway.GetEndpoint("http"))
            .WithHttpEndpoint(port: Port, targetPort: builder.IsPublishing() ? Port : null, name: "http")
            .WithExternalHttpEndpoints()
            .WithShopLink()
            .WithHttpHealthCheck("/health", endpointName: "http");
}
