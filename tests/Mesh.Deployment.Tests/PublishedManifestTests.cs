using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mesh.Deployment.Tests;

/// <summary>Publishing describes a deployment: no development files, secrets the operator supplies, the simulators only on request.</summary>
[Collection(PublishedCollection.Name)]
public sealed class PublishedManifestTests(PublishedManifests published)
{
    private static readonly string[] PlatformServices = ["hsm", "switch", "settlement", "gateway"];
    private static readonly string[] Simulators = ["issuer-icbc", "issuer-ccb", "issuer-boc", "shop"];

    /// <summary>The calls the platform makes: every one over gRPC.</summary>
    private static readonly Edge[] PlatformCalls =
    [
        new("gateway", "hsm", "grpc"), new("gateway", "switch", "grpc"), new("gateway", "settlement", "grpc"),
        new("switch", "hsm", "grpc"), new("settlement", "switch", "grpc"),
    ];

    /// <summary>The simulators' calls: each bank to the Hsm, the switch to each bank's ISO 8583 listener, settlement to each bank's postings, the shop to the gateway.</summary>
    private static readonly Edge[] SimulatorCalls =
    [
        .. Simulators[..3].SelectMany(bank => new Edge[] { new(bank, "hsm", "grpc"), new("switch", bank, "iso8583"), new("settlement", bank, "http") }),
        new("shop", "gateway", "http"),
    ];

    [Fact]
    public void Publish_WritesTheManifestsAndNothingElse()
    {
        Assert.Equal(["container", Path.Combine("container", "aspire-manifest.json"), "platform", Path.Combine("platform", "aspire-manifest.json"),
            "simulators", Path.Combine("simulators", "aspire-manifest.json")], published.PublishFolderFiles);
        Assert.False(Directory.Exists(published.DataFolder), "publishing created the data folder");
        Assert.Empty(published.RepositoryFilesWritten);
    }

    [Fact]
    public void Publish_PlatformAlone_HasEveryServiceAndNoSimulator()
    {
        Assert.Equal(PlatformServices.Order(), published.Platform.Projects.Order());
        Assert.Equal(PlatformServices.Concat(Simulators).Order(), published.WithSimulators.Projects.Order());
    }

    [Fact]
    public void Publish_References_AreExactlyTheCallsTheMeshMakes()
    {
        Assert.Equal(PlatformCalls.ToHashSet(), published.Platform.Edges());
        Assert.Equal(PlatformCalls.Concat(SimulatorCalls).ToHashSet(), published.WithSimulators.Edges());
    }

    [Fact]
    public void Publish_Secrets_AreParametersWithoutValues()
    {
        foreach (var manifest in new[] { published.Platform, published.WithSimulators })
        {
            foreach (var parameter in manifest.Parameters)
            {
                var resource = manifest.Resources[parameter]!.AsObject();
                // The operator supplies every value: none is written, none generated at publish.
                Assert.Equal($"{{{parameter}.inputs.value}}", resource["value"]!.GetValue<string>());
                Assert.Null(resource["inputs"]!["value"]!["default"]);
            }
            foreach (var project in manifest.Projects)
            {
                foreach (var (name, value) in manifest.Env(project))
                {
                    if (name.EndsWith("Secret", StringComparison.Ordinal) || name.EndsWith("AdminKey", StringComparison.Ordinal) || name == "Hsm__LmkHex")
                    {
                        var parameter = Assert.Single(PublishedManifest.References(value!.GetValue<string>()));
                        Assert.True(manifest.IsSecret(parameter.Split('.')[0]), $"{project} {name} is not a secret parameter");
                    }
                }
            }
            // PostgreSQL is the operator's: one secret connection string, each service's database on it.
            Assert.True(manifest.IsSecret("postgres"));
            Assert.All(manifest.Projects, p => Assert.NotNull(manifest.Database(p)));
        }
    }

    [Fact]
    public void WithAContainerEngine_PostgresIsAspiresOwnPostgreSql15Container_AndEveryServicesDatabaseIsOnIt()
    {
        var manifest = published.WithPostgresContainer;
        var postgres = manifest.Resources["postgres"]!;

        Assert.StartsWith("container.v", postgres["type"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("docker.io/library/postgres:15", postgres["image"]!.GetValue<string>());
        Assert.True(manifest.IsSecret("postgres-password"));
        Assert.All(manifest.Projects, p => Assert.Matches(@"^Host=\{postgres\.bindings\.tcp\.host\};.*;Database=[a-z]+db;",
            manifest.Resources[manifest.Database(p)!]!["connectionString"]!.GetValue<string>()));
        // The default is unchanged: the operator's own server, a secret connection string.
        Assert.True(published.Platform.IsSecret("postgres"));
    }

    [Fact]
    public void Publish_NamesNoLocalPath()
    {
        foreach (var manifest in new[] { published.Platform, published.WithSimulators })
        {
            var text = File.ReadAllText(manifest.Path);
            foreach (var (name, resource) in manifest.Resources)
            {
                foreach (var value in Strings(resource!).Where(v => v.Key != "path").Select(v => v.Value))
                {
                    Assert.False(value.StartsWith('/') || value.Contains(Repository.Root, StringComparison.Ordinal) || value.Contains(".data", StringComparison.Ordinal),
                        $"{name} names a local path: {value}");
                }
            }
            // A project's path is where its source is, relative to the manifest: what builds its image.
            foreach (var project in manifest.Projects)
            {
                var path = manifest.Resources[project]!["path"]!.GetValue<string>();
                Assert.False(Path.IsPathRooted(path));
                Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(manifest.Path)!, path)), $"{project}: {path}");
            }
            Assert.DoesNotContain(".data", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Publish_ServicesRunInProduction_UnlessTheSimulatorsAreIn()
    {
        Assert.All(published.Platform.Projects, p => Assert.Equal("Production", published.Platform.Env(p)["ASPNETCORE_ENVIRONMENT"]!.GetValue<string>()));
        // The simulated banks issue their test cards through the Hsm's development-only card-issuing role.
        Assert.All(published.WithSimulators.Projects, p => Assert.Equal("Development", published.WithSimulators.Env(p)["ASPNETCORE_ENVIRONMENT"]!.GetValue<string>()));
    }

    private static IEnumerable<KeyValuePair<string, string>> Strings(JsonNode node, string key = "") => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value!, p.Key)),
        JsonArray a => a.SelectMany(item => Strings(item!, key)),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [new(key, v.GetValue<string>())],
        _ => [],
    };
}
