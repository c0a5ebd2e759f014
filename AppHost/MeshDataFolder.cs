using System.Security.Cryptography;
using System.Text;

namespace Mesh.AppHost;

/// <summary>
/// Where the running platform keeps its state between starts: by default the git-ignored
/// <c>.data/</c> folder at the repository root (<c>Mesh:DataDir</c> overrides it). Publishing
/// creates nothing in it: a deployment's state is its own (<see cref="MeshPublishing"/>).
/// <see cref="PostgresRoot"/> holds what the <c>postgres</c> OS user runs from: the server's data,
/// and PgBouncer's and Patroni's folders when those run.
/// </summary>
public sealed record MeshDataFolder(string Root, string PostgresRoot, string PostgresData, string PostgresPasswordFile, string HsmLmkPath, string HsmOperatorSecretPath)
{
    public static MeshDataFolder Resolve(IDistributedApplicationBuilder builder)
    {
        var root = builder.Configuration["Mesh:DataDir"] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data"));
        if (!builder.IsPublishing())
        {
            Directory.CreateDirectory(root);
        }
        var postgresRoot = ReachableByPostgresUser(root)
            ? root
            : Path.Combine("/var/tmp", $"mesh-{ShortHash(root)}");
        return new MeshDataFolder(
            root,
            postgresRoot,
            Path.Combine(postgresRoot, "postgres"),
            Path.Combine(postgresRoot, "postgres-superuser.password"),
            Path.Combine(root, "hsm", "lmk.key"),
            Path.Combine(root, "hsm", "operator.secret"));
    }

    /// <summary>
    /// PostgreSQL refuses to run as root, so when the AppHost is root the server runs as the
    /// <c>postgres</c> user, which must be able to walk to its data folder. A checkout inside a
    /// private folder (root's home, a mktemp -d) cannot be reached; the data then lives under /var/tmp.
    /// </summary>
    private static bool ReachableByPostgresUser(string path)
    {
        if (OperatingSystem.IsWindows() || Environment.UserName != "root")
        {
            return true;
        }
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }
        return true;
    }

    private static string ShortHash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
