using Mesh.ServiceDefaults.Background;
using Microsoft.Extensions.Options;

namespace Mesh.Settlement.Ledger;

/// <summary>
/// Verifies the whole ledger at start and every <see cref="SettlementOptions.LedgerVerifyIntervalMs"/>,
/// so the alert on a ledger that does not balance needs no operator to press "Verify the ledger".
/// </summary>
public sealed class LedgerAudit(LedgerVerifier verifier, IOptions<SettlementOptions> options, TimeProvider time, ILogger<LedgerAudit> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(VerifyAsync, () => TimeSpan.FromMilliseconds(options.Value.LedgerVerifyIntervalMs), time, logger, "Verifying the ledger",
            stoppingToken);

    private async Task<bool> VerifyAsync(CancellationToken ct)
    {
        var reply = await verifier.VerifyAsync(ct);
        if (!reply.Ok)
        {
            logger.LogError("The ledger does not verify: {Problems} problems, the first: {First}", reply.Problems.Count, reply.Problems[0]);
        }
        return false;
    }
}
