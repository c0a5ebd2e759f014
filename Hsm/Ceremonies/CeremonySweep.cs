using Mesh.ServiceDefaults.Background;

namespace Mesh.Hsm.Ceremonies;

/// <summary>
/// Erases, when the Hsm starts and every <see cref="Period"/> after, the key ceremonies that have
/// expired and those whose key is already held (the Hsm stopped between storing the formed key and
/// deleting the ceremony): components never stay sealed in hsmdb past their ceremony.
/// </summary>
public sealed class CeremonySweep(CeremonyStore ceremonies, TimeProvider time, ILogger<CeremonySweep> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PollingLoop.RunAsync(async ct =>
        {
            foreach (var erased in await ceremonies.EraseEndedAsync(ct))
            {
                logger.LogWarning("Key ceremony for {KeyId} erased with its {Components} components: {Reason}", erased.KeyId, erased.Components,
                    erased.KeyHeld ? "its key was formed before the Hsm stopped" : "expired");
            }
            return false;
        }, () => Period, time, logger, "Erasing ended key ceremonies", stoppingToken);
}
