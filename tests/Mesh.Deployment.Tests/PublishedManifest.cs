using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mesh.Deployment.Tests;

/// <summary>A call one service makes to another's endpoint, as the AppHost's references say.</summary>
public sealed record Edge(string Caller, string Server, string Endpoint);

/// <summary>
/// The AppHost's published manifest (<c>--publisher manifest</c>), read as a deployment reads it:
/// the projects with their environment and endpoints, the parameters, and the calls between them.
/// </summary>
public sealed partial class PublishedManifest(string path, JsonObject resources)
{
    public string Path { get; } = path;

    public JsonObject Resources { get; } = resources;

    public static PublishedManifest Load(string path) =>
        new(path, JsonNode.Parse(File.ReadAllText(path))!["resources"]!.AsObject());

    public IEnumerable<string> Projects => Names("project.v0");

    public IEnumerable<string> Parameters => Names("parameter.v0");

    public bool IsSecret(string parameter) => Resources[parameter]!["inputs"]!["value"]!["secret"]?.GetValue<bool>() == true;

    public JsonObject Env(string project) => Resources[project]!["env"]!.AsObject();

    public JsonObject Bindings(string project) => Resources[project]!["bindings"]!.AsObject();

    public int TargetPort(string project, string endpoint) => Bindings(project)[endpoint]!["targetPort"]!.GetValue<int>();

    /// <summary>Every endpoint a project's environment names (<c>{server.bindings.endpoint.url}</c>): the calls it makes.</summary>
    public ISet<Edge> Edges() => Projects
        .SelectMany(caller => Env(caller).Select(e => e.Value!.GetValue<string>())
            .SelectMany(value => References(value))
            .Select(reference => reference.Split('.'))
            .Where(parts => parts is [var server, "bindings", _, "url"] && server != caller)
            .Select(parts => new Edge(caller, parts[0], parts[2])))
        .ToHashSet();

    /// <summary>The database a project's connection string names, if it has one.</summary>
    public string? Database(string project) => Env(project)
        .Select(e => ConnectionStringReference().Match(e.Value!.GetValue<string>()))
        .Where(m => m.Success)
        .Select(m => m.Groups[1].Value)
        .SingleOrDefault();

    public static IEnumerable<string> References(string value) => Reference().Matches(value).Select(m => m.Groups[1].Value);

    private IEnumerable<string> Names(string type) =>
        Resources.Where(r => r.Value!["type"]!.GetValue<string>() == type).Select(r => r.Key);

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^\{([a-z]+db)\.connectionString\}$")]
    private static partial Regex ConnectionStringReference();
}
