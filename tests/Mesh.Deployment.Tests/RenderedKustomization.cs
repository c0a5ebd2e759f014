using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Mesh.Deployment.Tests;

/// <summary>What <c>kubectl kustomize</c> renders from a folder of deploy/k8s: the objects, as JSON.</summary>
public sealed class RenderedKustomization(IReadOnlyList<JsonObject> objects)
{
    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    public static async Task<RenderedKustomization> RenderAsync(string folder)
    {
        var yaml = await Repository.RunAsync("kubectl", "kustomize", folder);
        var parser = new Parser(new StringReader(yaml));
        var deserializer = new DeserializerBuilder().Build();
        parser.Consume<StreamStart>();
        var objects = new List<JsonObject>();
        while (parser.Accept<DocumentStart>(out _))
        {
            objects.Add(ToJson(deserializer.Deserialize<object>(parser))!.AsObject());
        }
        return new RenderedKustomization(objects);
    }

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => Text(o["kind"]) == kind);

    public JsonObject? Find(string kind, string name) => OfKind(kind).SingleOrDefault(o => Text(o["metadata"]!["name"]) == name);

    public JsonObject Get(string kind, string name) => Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"no {kind} {name}");

    /// <summary>A scalar as the YAML had it (kustomize's output is untyped here: numbers and booleans are text too).</summary>
    public static string? Text(JsonNode? node) => node?.GetValue<string>();

    public static IEnumerable<JsonObject> Items(JsonNode? array) => array?.AsArray().Select(item => item!.AsObject()) ?? [];

    private static JsonNode? ToJson(object? yaml) => yaml switch
    {
        null => null,
        IDictionary<object, object?> map => new JsonObject(map.Select(p => KeyValuePair.Create((string)p.Key, ToJson(p.Value)))),
        IList<object?> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonValue.Create(Convert.ToString(yaml, System.Globalization.CultureInfo.InvariantCulture)),
    };
}
