using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>
/// LMK rotation as an operator runs it: a new LMK, every key block re-encrypted under it in one
/// database transaction, the new LMK made current; the old one is erased by a separate command,
/// once no block needs it.
/// </summary>
public sealed class LmkRotation(LocalMasterKey lmk, IKeyStore keys)
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public async Task<(string Previous, string Current, long Reencrypted)> RotateAsync(CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            var previous = lmk.CheckValue;
            var (next, nextCheckValue) = lmk.PrepareRotation();
            var reencrypted = await keys.ResealAllAsync(key => LocalMasterKey.SealUnder(next, key), nextCheckValue, ct);
            lmk.CommitRotation();
            return (previous, lmk.CheckValue, reencrypted);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public async Task<string> ErasePreviousAsync(CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            var previous = lmk.PreviousCheckValue ?? throw new HsmException(HsmErrorCode.InvalidInput, "there is no previous LMK to erase");
            var stillSealed = await keys.CountSealedUnderAsync(previous, ct);
            if (stillSealed > 0)
            {
                throw new HsmException(HsmErrorCode.InvalidInput, $"{stillSealed} keys are still sealed under the previous LMK: rotate first");
            }
            return lmk.ErasePrevious();
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
