using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The AppHost's PostgreSQL script on its own, as a developer's second start meets it: a data
/// folder that already holds a cluster.
/// </summary>
public sealed class PostgresScriptTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mesh-pgscript-{Guid.NewGuid():N}");
    private string PasswordFile => Path.Combine(_folder, "postgres-superuser.password");
    private string DataFolder => Path.Combine(_folder, "postgres");

    public PostgresScriptTests()
    {
        // Not a private temp folder: as root the script runs the server as the postgres user, who must reach it.
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task SecondStart_WithTheSuperusersPasswordFileReplaced_ServesTheFilesPassword()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        await File.WriteAllTextAsync(PasswordFile, "first-password", ct);
        await using (var first = await StartAsync(ct))
        {
            Assert.Null(await TryQueryAsync(first.Port, "first-password", ct));
        }

        // A folder from an older layout, or a password file lost and made again: the cluster still
        // holds the old password. Before the script took the file as the truth, PostgreSQL refused
        // the AppHost and no service ever started.
        await File.WriteAllTextAsync(PasswordFile, "second-pass'word", ct);
        await using var second = await StartAsync(ct);

        Assert.Null(await TryQueryAsync(second.Port, "second-pass'word", ct));
        var refused = await TryQueryAsync(second.Port, "first-password", ct);
        Assert.Equal(PostgresErrorCodes.InvalidPassword, (refused as PostgresException)?.SqlState);
    }

    private async Task<RunningScript> StartAsync(CancellationToken ct)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "AppHost", "Postgres", "run-postgres.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PGDATA"] = DataFolder;
        start.Environment["PGPORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PG_PASSWORD_FILE"] = PasswordFile;
        var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var script = new RunningScript(process, port);

        // Up when it answers at all: a refused password still proves the server runs.
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (await TryQueryAsync(port, "", ct) is NpgsqlException { InnerException: SocketException }
               or PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow })
        {
            if (process.HasExited || TimeProvider.System.GetUtcNow() > deadline)
            {
                await script.DisposeAsync();
                lock (output)
                {
                    Assert.Fail($"PostgreSQL did not come up on port {port}:\n{output}");
                }
            }
            await Task.Delay(200, ct);
        }
        return script;
    }

    private static async Task<Exception?> TryQueryAsync(int port, string password, CancellationToken ct)
    {
        var connection = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Password = password,
            Database = "postgres",
            Pooling = false,
            Timeout = 5,
        };
        try
        {
            await using var open = new NpgsqlConnection(connection.ConnectionString);
            await open.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT 1", open);
            await command.ExecuteScalarAsync(ct);
            return null;
        }
        catch (NpgsqlException ex)
        {
            return ex;
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Mesh.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The script stopped as the AppHost stops it: SIGTERM, which it turns into PostgreSQL's fast shutdown.</summary>
    private sealed record RunningScript(Process Process, int Port) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await Process.WaitForExitAsync(timeout.Token);
            }
            Process.Dispose();
        }
    }
}
