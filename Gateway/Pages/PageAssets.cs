using System.Reflection;
using System.Security.Cryptography;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The payment page's own scripts and style, embedded in the gateway and served from it; each
/// page names them with a Subresource Integrity hash, and the Content-Security-Policy allows
/// nothing else.
/// </summary>
public static class PageAssets
{
    public static readonly IReadOnlyDictionary<string, (byte[] Bytes, string ContentType, string Integrity)> Files = Load();

    public static string Integrity(string name) => Files[name].Integrity;

    private static Dictionary<string, (byte[], string, string)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var name in new[] { "pay.js", "return.js", "pay.css", "console.css" })
        {
            using var stream = assembly.GetManifestResourceStream($"Mesh.Gateway.Pages.Assets.{name}")
                ?? throw new InvalidOperationException($"the page asset {name} is not embedded");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            files[name] = (bytes, type, "sha384-" + Convert.ToBase64String(SHA384.HashData(bytes)));
        }
        return files;
    }
}
