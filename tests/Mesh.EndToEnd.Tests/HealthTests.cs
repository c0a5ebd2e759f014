using Aspire.Hosting.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Mesh.EndToEnd.Tests;

[Collection(MeshPlatformCollection.Name)]
public sealed class HealthTests(MeshPlatformFixture platform)
{
    [Theory]
    [InlineData("hsm")]
    [InlineData("switch")]
    [InlineData("settlement")]
    public async Task GrpcService_AnswersServingOnTheGrpcHealthProtocol(string resource)
    {
        var address = platform.App.GetEndpoint(resource, "grpc");
        using var channel = GrpcChannel.ForAddress(address);
        var health = new Health.HealthClient(channel);

        var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Theory]
    [InlineData("hsm")]
    [InlineData("switch")]
    [InlineData("issuer-icbc")]
    [InlineData("issuer-ccb")]
    [InlineData("issuer-boc")]
    [InlineData("settlement")]
    [InlineData("gateway")]
    public async Task Service_AnswersHealthyOnHealthAndAlive(string resource)
    {
        using var http = platform.App.CreateHttpClient(resource, "http");
        foreach (var path in new[] { "/health", "/alive" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{resource}{path} answered {(int)response.StatusCode}");
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        }
    }
}
