using System.Globalization;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.ServiceDefaults.Background;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Merchants;

/// <summary>
/// Closes offboarding merchants once nothing is owed: no payment in flight or hold standing, every
/// settlement event relayed, every batch paid and the merchant's payable account at zero in each
/// currency it sold in. A closed merchant's rows stay until <see cref="GatewayOptions.MerchantRetentionDays"/>
/// after it closed (<c>retain_until</c>); the gateway deletes nothing. Rounds run at the fallback poll
/// (<see cref="GatewayOptions.OffboardingPollMs"/>) and when the operator console records a payout
/// (<see cref="Wake"/>); replicas may look at the same merchant, and the row's status decides (offboarding → closed once).
/// </summary>
public sealed class MerchantOffboarding(MerchantRegistry merchants, NpgsqlDataSource db, Consoles.OperatorSettlementClient settlement, ConsoleAccounts accounts,
    IOptions<GatewayOptions> options, TimeProvider time, ILogger<MerchantOffboarding> logger) : BackgroundService
{
    /// <summary>Most offboarding merchants looked at in a round.</summary>
    public const int MerchantsPerRoundMax = 100;

    /// <summary>The operator id the platform's own closing is audited under.</summary>
    public const string AuditedAs = "offboarding";

    private readonly WorkSignal _signal = new();

    /// <summary>A payout was recorded: an offboarding merchant may have nothing left owed.</summary>
    public void Wake() => _signal.Wake();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(RoundAsync, _signal, () => TimeSpan.FromMilliseconds(options.Value.OffboardingPollMs), TimeSpan.FromSeconds(1), time, logger,
            "Closing offboarded merchants", stoppingToken);

    private async Task<NextRound> RoundAsync(CancellationToken ct)
    {
        foreach (var merchantId in await merchants.OffboardingAsync(MerchantsPerRoundMax, ct))
        {
            await TryCloseAsync(merchantId, ct);
        }
        return NextRound.WhenWoken;
    }

    /// <summary>Closes the merchant when it is offboarding and nothing is owed; what is still owed otherwise (null: closed, or not offboarding).</summary>
    public async Task<Words?> TryCloseAsync(string merchantId, CancellationToken ct)
    {
        if (await OwedAsync(merchantId, ct) is { } owed)
        {
            return owed;
        }
        var now = time.GetUtcNow();
        var retainUntil = now.AddDays(options.Value.MerchantRetentionDays);
        if (await merchants.MoveAsync(merchantId, MerchantStatus.Offboarding, MerchantStatus.Closed, "its last settlement batch is paid", now, retainUntil, ct))
        {
            await accounts.AuditAsync(ConsoleRoles.Platform, AuditedAs, "merchant-closed",
                $"{merchantId}: its last settlement batch is paid; data kept until {retainUntil.ToString("O", CultureInfo.InvariantCulture)}", ct);
            logger.LogInformation("Merchant {MerchantId} closed: its last settlement batch is paid", merchantId);
        }
        return null;
    }

    /// <summary>What the platform still owes or has to settle for the merchant, in words for an operator's page; null when nothing.</summary>
    public async Task<Words?> OwedAsync(string merchantId, CancellationToken ct)
    {
        await using (var inFlight = db.CreateCommand(
                         $"""
                         SELECT (SELECT count(*) FROM orders WHERE merchant_id = $1
                                   AND status IN ('{OrderStatus.Pending}', '{OrderStatus.Authorized}', '{OrderStatus.Capturing}')),
                                (SELECT count(*) FROM outbox WHERE merchant_id = $1 AND topic = 'settlement' AND delivered_at IS NULL)
                         """))
        {
            BatchSql.Bind(inFlight, merchantId);
            await using var row = await inFlight.ExecuteReaderAsync(ct);
            await row.ReadAsync(ct);
            var (orders, events) = (row.GetInt64(0), row.GetInt64(1));
            if (orders > 0 || events > 0)
            {
                return InFlight(orders, events);
            }
        }
        var batches = (await settlement.ListBatchesAsync(new ListBatchesRequest { MerchantId = merchantId }, cancellationToken: ct)).Batches;
        if (batches.FirstOrDefault(b => b.FundStatus != "paid") is { } unpaid)
        {
            return Unpaid(unpaid.BatchId, unpaid.SettlementDate, unpaid.FundStatus);
        }
        // Entries of a date not yet closed are in no batch: the payable account shows them, in any currency the merchant may sell in.
        foreach (var currency in batches.Select(b => b.Currency).Union(OrderRules.Currencies.Values).Union(await CurrenciesAsync(merchantId, ct)))
        {
            if (await PayableAsync(merchantId, currency, ct) is not 0 and var balance)
            {
                return NotInAPaidBatch(-balance, currency);
            }
        }
        return null;
    }

    /// <summary>What is owed while payments, holds or settlement events are still open.</summary>
    public static Words InFlight(long orders, long events) =>
        new("{0} payments in flight or holds standing, {1} settlement events not yet relayed", orders, events);

    /// <summary>What is owed while a batch is not yet paid.</summary>
    public static Words Unpaid(long batchId, string settlementDate, string fundStatus) =>
        new("batch {0} of {1} is {2}", batchId, settlementDate, Words.Label("Funds", fundStatus));

    /// <summary>What is owed while entries of a date not yet closed are in no batch.</summary>
    public static Words NotInAPaidBatch(long minor, string currency) => new("{0} minor units ({1}) are not yet in a paid batch", minor, currency);

    private async Task<List<string>> CurrenciesAsync(string merchantId, CancellationToken ct)
    {
        await using var find = db.CreateCommand("SELECT DISTINCT currency FROM orders WHERE merchant_id = $1");
        BatchSql.Bind(find, merchantId);
        await using var row = await find.ExecuteReaderAsync(ct);
        var currencies = new List<string>();
        while (await row.ReadAsync(ct))
        {
            currencies.Add(row.GetString(0));
        }
        return currencies;
    }

    private async Task<long> PayableAsync(string merchantId, string currency, CancellationToken ct)
    {
        try
        {
            return (await settlement.GetBalanceAsync(new GetBalanceRequest { AccountId = $"merchant:{merchantId}:payable:{currency}" }, cancellationToken: ct))
                .BalanceMinor;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return 0;
        }
    }
}
