using System.Diagnostics;
using System.Globalization;
using System.Net;
using Aspire.Hosting.Testing;
using Mesh.Contracts.Settlement;
using Npgsql;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The platform with its services' databases behind Debian's PgBouncer in transaction pooling mode
/// (<c>Mesh:Postgres:Pooler=pgbouncer</c>): a server connection is a client's for one transaction only,
/// so nothing a service needs may ride on the session. Payments, a refund, the ledger and three-way
/// reconciliation go through it, and the settings the services need come from their databases.
/// </summary>
[Collection(PooledPlatformCollection.Name)]
public sealed class PgBouncerTests(PooledPlatformFixture platform)
{
    private const string Pooler = "postgres-pgbouncer";
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task PaymentsARefundAndReconciliation_ThroughPgBouncerInTransactionMode_AgreeOrderByOrder_AndReconcileClean()
    {
        await using var merchantEndpoint = await MerchantServer.StartAsync();
        using var merchant = await TestMerchant.OnboardAsync(platform);
        using var consumer = new TestConsumer(platform);
        var orders = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var ordId = TestMerchant.NewOrderId();
            var page = await consumer.StartNetPayAsync(merchant.NetPayOrder(ordId, 10_00 + i, bgRetUrl: merchantEndpoint.Url));
            var result = await consumer.PayAsync(page, Acquirer.TestCard(i % 2 == 0 ? "622202" : "621700", 1));
            Assert.Contains("successful", result, StringComparison.OrdinalIgnoreCase);
            orders.Add(ordId);
        }
        using var refunded = await consumer.PostFormAsync("/pay/Refund", merchant.NetPayRefund(orders[0], 3_00, "pooled", returnUrl: merchantEndpoint.Url));
        Assert.Equal(HttpStatusCode.OK, refunded.StatusCode);

        var owed = await DrainedAsync(merchant.MerchantId);
        Assert.True(owed.Values.All(v => v == 0), string.Join(", ", owed.Select(o => $"{o.Key} {o.Value}")));
        var checks = await PlatformInvariants.CheckAsync(platform.App, [merchant.MerchantId], CancellationToken.None);
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));

        // Three-way reconciliation of today: none of these payments or the refund is a discrepancy.
        using var channel = await platform.SettlementChannelAsync();
        var report = await new Settlement.SettlementClient(channel).ReconcileAsync(
            new ReconcileRequest { SettlementDate = $"{SettlementLedgerTests.DateOf(DateTimeOffset.UtcNow):yyyy-MM-dd}" });
        var ours = await StansAsync(merchant.MerchantId);
        Assert.Equal(5, ours.Count);
        Assert.DoesNotContain(report.Discrepancies, d => ours.Contains($"{d.Stan}/{d.Transmission}"));
        Assert.True(report.Matched >= ours.Count, $"{report.Matched} matched");
    }

    [Fact]
    public async Task TheServicesConnections_GoThroughPgBouncer_AndTheirSettingsComeFromTheDatabases()
    {
        var pooler = platform.App.GetEndpoint(Pooler, "tcp");
        foreach (var database in new[] { "gatewaydb", "switchdb", "settlementdb", "hsmdb" })
        {
            Assert.Equal(pooler.Port, new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync(database)).Port);
        }
        // The banks' search path is session state: they reach PostgreSQL directly.
        Assert.NotEqual(pooler.Port, new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("issuerdb")).Port);

        // PgBouncer's own account: every service's database carried transactions through it.
        var transactions = await PoolerTransactionsAsync(pooler);
        Assert.All(new[] { "gatewaydb", "switchdb", "settlementdb", "hsmdb" },
            database => Assert.True(transactions.GetValueOrDefault(database) > 0, $"{database}: {transactions.GetValueOrDefault(database)} transactions"));

        // The databases' own defaults, which every new session (and so every server connection PgBouncer opens) starts with.
        const string Defaults = """
            SELECT array_to_string(setconfig, ' ') FROM pg_db_role_setting
            WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
            """;
        Assert.Equal("plan_cache_mode=force_generic_plan lock_timeout=10s statement_timeout=30s", await platform.ScalarAsync<string>("gatewaydb", Defaults));
        Assert.Equal("plan_cache_mode=force_custom_plan", await platform.ScalarAsync<string>("settlementdb", Defaults));
        Assert.Equal("plan_cache_mode=force_generic_plan", await platform.ScalarAsync<string>("issuerdb", Defaults));
        // And what a service's session has, through the pooler.
        Assert.Equal("force_generic_plan", await platform.ScalarAsync<string>("gatewaydb", "SELECT current_setting('plan_cache_mode')"));
        Assert.Equal("30s", await platform.ScalarAsync<string>("gatewaydb", "SELECT current_setting('statement_timeout')"));
        Assert.Equal("10s", await platform.ScalarAsync<string>("gatewaydb", "SELECT current_setting('lock_timeout')"));
        Assert.Equal("force_custom_plan", await platform.ScalarAsync<string>("settlementdb", "SELECT current_setting('plan_cache_mode')"));
        Assert.Equal("force_generic_plan", await platform.ScalarAsync<string>("issuerdb", "SELECT current_setting('plan_cache_mode')"));
    }

    private async Task<Dictionary<string, long>> DrainedAsync(string merchantId)
    {
        var deadline = Stopwatch.StartNew();
        var owed = await PlatformInvariants.OwedAsync(platform.App, [merchantId], CancellationToken.None);
        while (owed.Values.Any(v => v != 0) && deadline.Elapsed < DrainTimeout)
        {
            await Task.Delay(250);
            owed = await PlatformInvariants.OwedAsync(platform.App, [merchantId], CancellationToken.None);
        }
        return owed;
    }

    private async Task<HashSet<string>> StansAsync(string merchantId)
    {
        var keys = await platform.ScalarAsync<string[]>("gatewaydb",
            """
            SELECT array_agg(stan || '/' || transmission) FROM (
              SELECT stan, transmission FROM payments WHERE merchant_id = $1 AND status = 'approved'
              UNION ALL SELECT stan, transmission FROM refunds WHERE merchant_id = $1) k
            """, merchantId);
        return [.. keys];
    }

    /// <summary>
    /// <c>SHOW STATS</c> on PgBouncer's admin console, through psql: the console speaks only the
    /// simple query protocol, and Npgsql speaks the extended one.
    /// </summary>
    private async Task<Dictionary<string, long>> PoolerTransactionsAsync(Uri pooler)
    {
        var password = new NpgsqlConnectionStringBuilder(await platform.App.GetConnectionStringAsync("gatewaydb")).Password;
        var psql = new ProcessStartInfo("psql", ["-h", pooler.Host, "-p", pooler.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
            "-d", "pgbouncer", "--csv", "-c", "SHOW STATS"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psql.Environment["PGPASSWORD"] = password;
        using var process = Process.Start(psql)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, errors);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        var database = Array.IndexOf(header, "database");
        var transactions = Array.IndexOf(header, "total_xact_count");
        return lines.Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[database], f => long.Parse(f[transactions], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}
