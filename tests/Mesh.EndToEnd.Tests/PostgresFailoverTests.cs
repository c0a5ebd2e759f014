using System.Net.Http.Json;
using Aspire.Hosting.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The platform on the highly available PostgreSQL (<c>Mesh:Postgres=ha</c>): the primary's commits wait
/// for the synchronous standby, and the failover campaign's bounded run loses the primary's server under
/// load and loses no acknowledged purchase. The figures it prints are in docs/operations.md.
/// </summary>
[Collection(HaPlatformCollection.Name)]
public sealed class PostgresFailoverTests(HaPlatformFixture platform, ITestOutputHelper output)
{
    private static readonly string[] Nodes = ["postgres-1", "postgres-2"];

    [Fact]
    public Task TheServices_ReachThePrimary_WhoseCommitsWaitForTheSynchronousStandby() => TellingPatronisStoryAsync(async () =>
    {
        var connection = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("gatewaydb"));
        var ports = Nodes.Select(n => platform.App.GetEndpoint(n, "tcp").Port).ToArray();
        // The failover campaign may have run first: its old primary is then back, and becomes synchronous once caught up.
        var cluster = await SynchronousClusterAsync();

        Assert.Equal("primary", connection.TargetSessionAttributes);
        Assert.Equal(ports.Select(p => $"localhost:{p}").Order(), connection.Host!.Split(',').Order());
        Assert.True(cluster.Members.Select(m => m.Role).Order().SequenceEqual(["leader", "sync_standby"]),
            $"Patroni shows no leader with a synchronous standby: {cluster.Describe()}");
        Assert.Equal("f", await platform.ScalarAsync<string>("gatewaydb", "SELECT pg_is_in_recovery()::text::char"));
        Assert.Equal("on", await platform.ScalarAsync<string>("gatewaydb", "SELECT current_setting('synchronous_commit')"));
        Assert.Equal("sync", await platform.ScalarAsync<string>("gatewaydb", "SELECT string_agg(sync_state, ',') FROM pg_stat_replication"));
        using var http = new HttpClient();
        foreach (var node in Nodes)
        {
            using var health = await http.GetAsync(new Uri(platform.App.GetEndpoint(node, "rest"), "/health"));
            Assert.True(health.IsSuccessStatusCode, $"{node}: Patroni's /health answered {(int)health.StatusCode}");
        }
    });

    /// <summary>Runs <paramref name="test"/>; when it fails, the failure carries what the Patroni nodes logged last.</summary>
    private async Task TellingPatronisStoryAsync(Func<Task> test)
    {
        try
        {
            await test();
        }
        catch (Exception failure)
        {
            throw new InvalidOperationException($"{failure.Message}\nWhat the nodes logged last:{platform.PatroniStory(Nodes)}", failure);
        }
    }

    /// <summary>Patroni's view of the cluster once it has a leader and a synchronous standby, or after a minute, as it is.</summary>
    private async Task<PatroniView> SynchronousClusterAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        PatroniView? cluster = null;
        while (deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            foreach (var node in Nodes)
            {
                try
                {
                    cluster = await http.GetFromJsonAsync<PatroniView>(new Uri(platform.App.GetEndpoint(node, "rest"), "/cluster"));
                }
                catch (HttpRequestException)
                {
                    continue;
                }
                if (cluster!.Members.Any(m => m.Role == "sync_standby"))
                {
                    return cluster;
                }
            }
            await Task.Delay(250);
        }
        return cluster ?? new PatroniView([]);
    }

    [Fact]
    public Task LosingThePrimarysServer_UnderLoad_LosesNoAcknowledgedPurchase_AndTheOldPrimaryRejoinsAsTheStandby() => TellingPatronisStoryAsync(async () =>
    {
        await using var merchantEndpoint = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        var campaign = new FailoverCampaign(platform.App,
            new FailoverCampaignOptions(Nodes, Path.Combine(platform.DataDir, "patroni"), Payers: 4, [merchant.MerchantId], PhaseSeconds: 20,
                DrainTimeout: TimeSpan.FromMinutes(3)),
            n => CrashCampaignTests.PurchaseAsync(platform, merchant, merchantEndpoint.Url, n),
            line => output.WriteLine(line));

        var report = await campaign.RunAsync(CancellationToken.None);

        output.WriteLine(report.ToTable());
        Assert.True(report.Passed, report.ToTable());
        Assert.True(report.Outcomes.GetValueOrDefault(CrashCampaign.Paid) > 0, report.ToTable());
    });
}
