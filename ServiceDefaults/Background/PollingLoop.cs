using Microsoft.Extensions.Logging;

namespace Mesh.ServiceDefaults.Background;

/// <summary>
/// The shape of the background workers (the gateway's notifications, settlement relay and
/// unresolved payments; the switch's reversal queue; the ledger's interbank intake): run a round until stopped; after a round that found less than a full batch, wait;
/// a failed round is logged and tried again after the wait.
/// </summary>
public static class PollingLoop
{
    /// <summary>Runs <c>round</c> until stopped; waits <c>idleDelay</c> after a round that returned false (it was not busy) or failed.</summary>
    public static async Task RunAsync(Func<CancellationToken, Task<bool>> round, Func<TimeSpan> idleDelay, TimeProvider time, ILogger logger, string what,
        CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await round(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever a round meets (a database restarting, the Hsm out of reach, a timeout
                // surfacing as a cancellation) is logged and the round tried again: a worker that
                // threw would stop the whole process.
                logger.LogWarning(ex, "{What} failed; trying again", what);
            }
            if (!busy)
            {
                await Task.Delay(idleDelay(), time, stoppingToken);
            }
        }
    }
}
