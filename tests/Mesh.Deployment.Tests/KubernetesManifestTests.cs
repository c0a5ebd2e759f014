using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using static Mesh.Deployment.Tests.RenderedKustomization;

namespace Mesh.Deployment.Tests;

/// <summary>
/// deploy/k8s as <c>kubectl kustomize</c> renders it, against the manifest the AppHost publishes: the
/// platform (deploy/k8s) against the platform alone, the simulators overlay against the platform with
/// the simulators. Every service, endpoint, setting, secret and call in one is in the other, so the two
/// cannot drift apart.
/// </summary>
[Collection(PublishedCollection.Name)]
public sealed partial class KubernetesManifestTests(PublishedManifests published)
{
    private const string Collector = "otel-collector";
    private const int CollectorPort = 4317;
    private const string PostgresCluster = "mesh-postgres";
    private const string PostgresService = "mesh-postgres-rw";
    private const string NameLabel = "app.kubernetes.io/name";
    private const string Parameters = "mesh-parameters";

    /// <summary>What a Deployment adds to the published environment: the database password its connection string takes, and telemetry's settings.</summary>
    private static readonly string[] DeploymentOnlyEnv =
        ["MESH_DB_PASSWORD", "POD_NAME", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"];

    public static TheoryData<string> Variants => new() { "platform", "simulators" };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task EveryService_HasItsImageDeploymentServiceAndProbes(string variant)
    {
        var (manifest, k8s) = await LoadAsync(variant);
        var tag = XDocument.Load(Path.Combine(Repository.Root, "Directory.Build.props")).Descendants("ContainerImageTag").Single().Value;
        foreach (var project in manifest.Projects)
        {
            var container = Container(k8s, project);
            var csproj = XDocument.Load(Path.Combine(Path.GetDirectoryName(manifest.Path)!, manifest.Resources[project]!["path"]!.GetValue<string>()));
            Assert.Equal($"{csproj.Descendants("ContainerRepository").Single().Value}:{tag}", Text(container["image"]));

            var bindings = manifest.Bindings(project).Select(b => (b.Key, manifest.TargetPort(project, b.Key))).ToHashSet();
            Assert.Equal(bindings, Items(container["ports"]).Select(p => (Text(p["name"])!, int.Parse(Text(p["containerPort"])!))).ToHashSet());
            Assert.Equal(bindings.Select(b => b.Item2).ToHashSet(), csproj.Descendants("ContainerPort").Select(p => int.Parse(p.Attribute("Include")!.Value)).ToHashSet());

            var service = k8s.Get("Service", project);
            Assert.Equal(project, Text(service["spec"]!["selector"]![NameLabel]));
            foreach (var port in Items(service["spec"]!["ports"]))
            {
                var name = Text(port["name"])!;
                Assert.Equal(manifest.TargetPort(project, name), int.Parse(Text(port["port"])!));
                Assert.Equal(name, Text(port["targetPort"]));
                // gRPC endpoints speak HTTP/2 without TLS: a mesh or an ingress in front must know.
                if (manifest.Bindings(project)[name]!["transport"]!.GetValue<string>() == "http2")
                {
                    Assert.Equal("kubernetes.io/h2c", Text(port["appProtocol"]));
                }
            }
            Assert.Equal(bindings.Select(b => b.Key).ToHashSet(), Items(service["spec"]!["ports"]).Select(p => Text(p["name"])!).ToHashSet());

            // /health and /alive answer on the plain-HTTP endpoint every service has.
            Assert.Equal("http", manifest.Bindings(project)["http"]!["scheme"]!.GetValue<string>());
            AssertProbe(container["readinessProbe"], "/health");
            AssertProbe(container["livenessProbe"], "/alive");
            AssertProbe(container["startupProbe"], "/alive");

            Assert.Equal(project, Text(k8s.Get("PodDisruptionBudget", project)["spec"]!["selector"]!["matchLabels"]![NameLabel]));
        }
        // The gateway and the switch share their queues by row locks: they scale out; the others are one replica each.
        Assert.Equal(["gateway", "switch"], k8s.OfKind("HorizontalPodAutoscaler").Select(h => Text(h["spec"]!["scaleTargetRef"]!["name"])!).Order());
        Assert.All(["gateway", "switch"], name => Assert.Null(k8s.Get("Deployment", name)["spec"]!["replicas"]));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task EveryService_HasThePublishedEnvironment(string variant)
    {
        var (manifest, k8s) = await LoadAsync(variant);
        var parameters = k8s.Get("ConfigMap", Parameters)["data"]!.AsObject();
        var collectorPort = Items(k8s.Get("Service", Collector)["spec"]!["ports"]).Single(p => Text(p["name"]) == "otlp-grpc");
        Assert.Equal(CollectorPort, int.Parse(Text(collectorPort["port"])!));
        foreach (var project in manifest.Projects)
        {
            var container = Container(k8s, project);
            var env = Items(container["env"]).ToList();
            var names = env.Select(e => Text(e["name"])!).ToList();
            Assert.Equal(names.Distinct(), names);
            var byName = env.ToDictionary(e => Text(e["name"])!);
            var mounts = Items(container["volumeMounts"]).Select(m => Text(m["mountPath"])!).ToList();
            foreach (var (name, published) in manifest.Env(project))
            {
                Assert.True(byName.TryGetValue(name, out var actual), $"{project}: {name} is published but not deployed");
                var value = published!.GetValue<string>();
                switch (PublishedManifest.References(value).ToList())
                {
                    case [var reference] when value == $"{{{reference}}}" && reference.EndsWith(".value", StringComparison.Ordinal):
                        var parameter = reference[..^".value".Length];
                        if (manifest.IsSecret(parameter))
                        {
                            AssertSecretKeyRef(actual, parameter, "value", $"{project} {name}");
                        }
                        else if (parameter.EndsWith("-path", StringComparison.Ordinal))
                        {
                            // A file the operator supplies: mounted from a Secret.
                            var path = Text(actual["value"])!;
                            Assert.True(mounts.Any(m => path.StartsWith(m + "/", StringComparison.Ordinal) && m.StartsWith("/etc/mesh/", StringComparison.Ordinal)),
                                $"{project} {name}: {path} is on no mounted volume");
                        }
                        else
                        {
                            Assert.Equal(Parameters, Text(actual["valueFrom"]!["configMapKeyRef"]!["name"]));
                            Assert.Equal(parameter, Text(actual["valueFrom"]!["configMapKeyRef"]!["key"]));
                            Assert.True(parameters.ContainsKey(parameter), $"{Parameters} has no {parameter}");
                        }
                        break;
                    case [var reference] when value == $"{{{reference}}}" && reference.EndsWith(".connectionString", StringComparison.Ordinal):
                        var database = reference[..^".connectionString".Length];
                        var role = RoleOf(database);
                        Assert.Equal($"Host={PostgresService};Port=5432;Username={role};Password=$(MESH_DB_PASSWORD);Database={database};No Reset On Close=true",
                            Text(actual["value"]));
                        Assert.True(names.IndexOf("MESH_DB_PASSWORD") < names.IndexOf(name), $"{project}: MESH_DB_PASSWORD comes after {name}, which expands it");
                        AssertSecretKeyRef(byName["MESH_DB_PASSWORD"], $"mesh-db-{role}", "password", $"{project} MESH_DB_PASSWORD");
                        break;
                    default:
                        Assert.Equal(Resolve(manifest, value), Text(actual["value"]));
                        break;
                }
            }
            Assert.Empty(names.Except(manifest.Env(project).Select(e => e.Key)).Except(DeploymentOnlyEnv));
            Assert.Equal(project, Text(byName["OTEL_SERVICE_NAME"]["value"]));
            Assert.Equal($"http://{Collector}:{CollectorPort}", Text(byName["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"]));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Secrets_AreTheParameters_ReferencedNeverInlined(string variant)
    {
        var (manifest, k8s) = await LoadAsync(variant);
        Assert.Empty(k8s.OfKind("Secret"));
        var referenced = manifest.Projects
            .SelectMany(p => Items(Container(k8s, p)["env"]))
            .Select(e => Text(e["valueFrom"]?["secretKeyRef"]?["name"]))
            .OfType<string>()
            .ToHashSet();
        var roles = manifest.Projects.Select(p => RoleOf(manifest.Database(p)!)).ToHashSet();
        var secretParameters = manifest.Parameters.Where(manifest.IsSecret).Where(p => p != "postgres");
        Assert.Equal(secretParameters.Concat(roles.Select(r => $"mesh-db-{r}")).ToHashSet(), referenced);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Postgres_IsACloudNativePgClusterWithASynchronousStandby_AndEveryDatabase(string variant)
    {
        var (manifest, k8s) = await LoadAsync(variant);
        var cluster = k8s.Get("Cluster", PostgresCluster);
        Assert.Equal("postgresql.cnpg.io/v1", Text(cluster["apiVersion"]));
        Assert.InRange(int.Parse(Text(cluster["spec"]!["instances"])!), 2, 3);
        Assert.Equal("1", Text(cluster["spec"]!["minSyncReplicas"]));
        Assert.Equal("1", Text(cluster["spec"]!["maxSyncReplicas"]));

        var databases = manifest.Projects.Select(p => manifest.Database(p)!).ToHashSet();
        var declared = k8s.OfKind("Database").ToList();
        Assert.Equal(databases, declared.Select(d => Text(d["spec"]!["name"])!).ToHashSet());
        Assert.All(declared, d =>
        {
            Assert.Equal(PostgresCluster, Text(d["spec"]!["cluster"]!["name"]));
            Assert.Equal(RoleOf(Text(d["spec"]!["name"])!), Text(d["spec"]!["owner"]));
        });
        var roles = Items(cluster["spec"]!["managed"]!["roles"]).ToList();
        Assert.Equal(databases.Select(RoleOf).ToHashSet(), roles.Select(r => Text(r["name"])!).ToHashSet());
        Assert.All(roles, r => Assert.Equal($"mesh-db-{Text(r["name"])}", Text(r["passwordSecret"]!["name"])));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task NetworkPolicies_AllowExactlyTheCallsTheMeshMakes(string variant)
    {
        var (manifest, k8s) = await LoadAsync(variant);
        var deny = k8s.Get("NetworkPolicy", "default-deny")["spec"]!;
        Assert.Empty(deny["podSelector"]!.AsObject());
        Assert.Equal(["Egress", "Ingress"], deny["policyTypes"]!.AsArray().Select(t => Text(t)!).Order());
        Assert.Null(deny["ingress"]);
        Assert.Null(deny["egress"]);

        var edges = manifest.Edges();
        foreach (var project in manifest.Projects)
        {
            var policy = k8s.Get("NetworkPolicy", project)["spec"]!;
            Assert.Equal(project, Text(policy["podSelector"]!["matchLabels"]![NameLabel]));

            var calls = edges.Where(e => e.Caller == project).Select(e => (e.Server, manifest.TargetPort(e.Server, e.Endpoint)))
                .Append((Collector, CollectorPort))
                .Append((PostgresCluster, 5432));
            Assert.Equal(calls.ToHashSet(), Peers(Items(policy["egress"]), "to"));

            var external = manifest.Bindings(project).Where(b => b.Value!["external"]?.GetValue<bool>() == true)
                .Select(b => manifest.TargetPort(project, b.Key)).ToHashSet();
            var open = Items(policy["ingress"]).Where(rule => rule["from"] is null).SelectMany(rule => Items(rule["ports"])).Select(p => int.Parse(Text(p["port"])!));
            Assert.Equal(external, open.ToHashSet());
            var callers = edges.Where(e => e.Server == project && !external.Contains(manifest.TargetPort(project, e.Endpoint)))
                .Select(e => (e.Caller, manifest.TargetPort(project, e.Endpoint)));
            Assert.Equal(callers.ToHashSet(), Peers(Items(policy["ingress"]), "from"));
        }

        // PostgreSQL takes connections from the services that own a database, its own instances and the operator.
        var postgres = k8s.Get("NetworkPolicy", "postgres")["spec"]!;
        Assert.Equal(PostgresCluster, Text(postgres["podSelector"]!["matchLabels"]!["cnpg.io/cluster"]));
        Assert.Equal(manifest.Projects.Select(p => (p, 5432)).ToHashSet(),
            Peers(Items(postgres["ingress"]).Where(r => Items(r["ports"]).Any(p => Text(p["port"]) == "5432")), "from"));
        var known = manifest.Projects.Concat(["default-deny", "dns", "postgres", Collector]).ToHashSet();
        Assert.Equal(known, k8s.OfKind("NetworkPolicy").Select(p => Text(p["metadata"]!["name"])!).ToHashSet());
    }

    [Fact]
    public async Task Collector_ReceivesOtlpFromEveryService()
    {
        var k8s = await RenderedKustomization.RenderAsync(Folder("platform"));
        Assert.NotNull(k8s.Get("Deployment", Collector));
        var config = Text(k8s.Get("ConfigMap", Collector)["data"]!["config.yaml"])!;
        Assert.Contains($"endpoint: 0.0.0.0:{CollectorPort}", config, StringComparison.Ordinal);
        var ingress = Items(k8s.Get("NetworkPolicy", Collector)["spec"]!["ingress"]).Single();
        Assert.Equal("mesh", Text(Items(ingress["from"]).Single()["podSelector"]!["matchLabels"]!["app.kubernetes.io/part-of"]));
        Assert.All(published.Platform.Projects, p => Assert.Equal("mesh", Text(k8s.Get("Deployment", p)["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/part-of"])));
    }

    private async Task<(PublishedManifest Manifest, RenderedKustomization K8s)> LoadAsync(string variant) =>
        (variant == "platform" ? published.Platform : published.WithSimulators, await RenderedKustomization.RenderAsync(Folder(variant)));

    private static string Folder(string variant) => variant == "platform" ? "deploy/k8s" : "deploy/k8s/simulators";

    /// <summary>A service's role in PostgreSQL: its database's name without <c>db</c> (the banks share <c>issuer</c>).</summary>
    private static string RoleOf(string database) => database[..^"db".Length];

    private static JsonObject Container(RenderedKustomization k8s, string project)
    {
        var deployment = k8s.Get("Deployment", project);
        Assert.Equal(project, Text(deployment["spec"]!["template"]!["metadata"]!["labels"]![NameLabel]));
        Assert.Equal(project, Text(deployment["spec"]!["selector"]!["matchLabels"]![NameLabel]));
        var container = Items(deployment["spec"]!["template"]!["spec"]!["containers"]).Single();
        Assert.Equal(project, Text(container["name"]));
        return container;
    }

    private static void AssertProbe(JsonNode? probe, string path)
    {
        Assert.NotNull(probe);
        Assert.Equal(path, Text(probe["httpGet"]!["path"]));
        Assert.Equal("http", Text(probe["httpGet"]!["port"]));
        Assert.Null(probe["httpGet"]!["scheme"]);
    }

    private static void AssertSecretKeyRef(JsonObject env, string secret, string key, string what)
    {
        var reference = env["valueFrom"]?["secretKeyRef"];
        Assert.True(reference is not null, $"{what} is not from a Secret");
        Assert.Equal(secret, Text(reference["name"]));
        Assert.Equal(key, Text(reference["key"]));
        Assert.Null(env["value"]);
    }

    /// <summary>The published value with each endpoint reference as the cluster's Service names it.</summary>
    private static string Resolve(PublishedManifest manifest, string value) => EndpointReference().Replace(value, m =>
    {
        var (server, endpoint, property) = (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
        var port = manifest.TargetPort(server, endpoint);
        return property switch
        {
            "url" => $"{manifest.Bindings(server)[endpoint]!["scheme"]!.GetValue<string>()}://{server}:{port}",
            "targetPort" => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new Xunit.Sdk.XunitException($"no rule for {m.Value}"),
        };
    });

    /// <summary>(peer, port) for each rule's pods and ports: a service by its name label, PostgreSQL by its cluster's.</summary>
    private static HashSet<(string, int)> Peers(IEnumerable<JsonObject> rules, string direction) =>
        rules
            .Where(rule => rule[direction] is not null)
            .SelectMany(rule => Items(rule[direction]).SelectMany(peer => Items(rule["ports"]).Select(port =>
                (Text(peer["podSelector"]!["matchLabels"]![NameLabel]) ?? Text(peer["podSelector"]!["matchLabels"]!["cnpg.io/cluster"])!,
                 int.Parse(Text(port["port"])!)))))
            .ToHashSet();

    [GeneratedRegex(@"\{([a-z0-9-]+)\.bindings\.([a-z0-9]+)\.([a-zA-Z]+)\}")]
    private static partial Regex EndpointReference();
}
