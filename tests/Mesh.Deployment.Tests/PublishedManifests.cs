namespace Mesh.Deployment.Tests;

/// <summary>
/// The AppHost published twice, as docs/operations.md says, each into its own temporary folder: the
/// platform alone, and with the simulated banks and the demo shop. Records what the publishing
/// wrote, so the tests can say it wrote nothing but the manifests.
/// </summary>
public sealed class PublishedManifests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mesh-publish-").FullName;

    public PublishedManifest Platform { get; private set; } = null!;

    public PublishedManifest WithSimulators { get; private set; } = null!;

    /// <summary>The platform with <c>Mesh:Postgres=container</c>: Aspire's own PostgreSQL resource.</summary>
    public PublishedManifest WithPostgresContainer { get; private set; } = null!;

    /// <summary>The data folder the AppHost is pointed at: publishing must leave it uncreated.</summary>
    public string DataFolder => Path.Combine(_folder, "data");

    /// <summary>Files under the repository (outside build output) written while publishing.</summary>
    public IReadOnlyList<string> RepositoryFilesWritten { get; private set; } = [];

    /// <summary>Files in the temporary folder after publishing.</summary>
    public IReadOnlyList<string> PublishFolderFiles { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var started = DateTime.UtcNow.AddSeconds(-1);
        Platform = await PublishAsync("platform");
        WithSimulators = await PublishAsync("simulators", "--Mesh:Publish:IncludeSimulators=true");
        WithPostgresContainer = await PublishAsync("container", "--Mesh:Postgres=container");
        RepositoryFilesWritten = WrittenSince(Repository.Root, started);
        PublishFolderFiles = [.. Directory.EnumerateFileSystemEntries(_folder, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_folder, p)).Order(StringComparer.Ordinal)];
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<PublishedManifest> PublishAsync(string name, params string[] settings)
    {
        var path = Path.Combine(_folder, name, "aspire-manifest.json");
        await Repository.RunAsync("dotnet", ["run", "--no-build", "--configuration", Repository.BuildConfiguration, "--project", "AppHost", "--",
            "--publisher", "manifest", "--output-path", path, $"--Mesh:DataDir={DataFolder}", .. settings]);
        return PublishedManifest.Load(path);
    }

    /// <summary>Build output, test results, git and the development data folder (other test projects run the platform meanwhile) aside.</summary>
    private static List<string> WrittenSince(string root, DateTime sinceUtc)
    {
        string[] skipped = ["bin", "obj", "TestResults", ".git", ".data"];
        var written = new List<string>();
        var folders = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (folders.TryPop(out var folder))
        {
            foreach (var entry in folder.EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo child)
                {
                    if (!skipped.Contains(child.Name))
                    {
                        folders.Push(child);
                    }
                }
                else if (entry.LastWriteTimeUtc >= sinceUtc || entry.CreationTimeUtc >= sinceUtc)
                {
                    written.Add(Path.GetRelativePath(root, entry.FullName));
                }
            }
        }
        return written;
    }
}

[CollectionDefinition(Name)]
public sealed class PublishedCollection : ICollectionFixture<PublishedManifests>
{
    public const string Name = "published";
}
