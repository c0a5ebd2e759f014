using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;
using Mesh.IssuerSim.Faults;
using Mesh.IssuerSim.Options;
using Microsoft.Extensions.Options;

namespace Mesh.IssuerSim.KeyExchange;

/// <summary>
/// The bank's side of a key change (0800/101) from the switch, the key-issuing side. Step one: the new
/// ZPK or ZAK, under the ZMK the bank shares with the platform, goes into the bank's Hsm as the next
/// version of its key, against the check value the switch announced; from then on a PIN block or MAC
/// under it is accepted, while the bank still makes its MACs under the current key. The answer carries
/// the check value the bank's Hsm computed. Step two, once the switch has changed over: the new key
/// becomes the bank's current one, the old one accepted for the grace window the switch states. A key
/// the Hsm refuses (another check value, a key block that does not verify) changes nothing and is
/// answered 63.
/// </summary>
public sealed class ZoneKeyChangeReceiver(IOptions<BankOptions> bank, Hsm.HsmClient hsm, FaultKnobs faults, ILogger<ZoneKeyChangeReceiver> logger)
{
    public async Task<(string ResponseCode, string? AdditionalData)> HandleAsync(KeyChangeData? change, CancellationToken ct)
    {
        if (change is null)
        {
            return (ResponseCodes.FormatError, null);
        }
        var keyId = change.Key == KeyChangeData.Zpk ? bank.Value.ZpkId : bank.Value.ZakId;
        try
        {
            if (change.Step == KeyChangeData.ActivateStep)
            {
                var active = await hsm.ActivateKeyVersionAsync(new ActivateKeyVersionRequest
                {
                    KeyId = keyId,
                    CheckValue = change.CheckValue,
                    GraceSeconds = change.GraceSeconds,
                }, cancellationToken: ct);
                logger.LogInformation("Changed over to the {Key} {CheckValue}; the previous one ({Previous}) is accepted for {GraceSeconds} s",
                    change.Key, active.CheckValue, active.PreviousCheckValue, change.GraceSeconds);
                return (ResponseCodes.Approved, KeyChangeData.Answer(change.Key, active.CheckValue));
            }
            var imported = await hsm.ImportKeyAsync(new ImportKeyRequest
            {
                KeyId = keyId,
                KeyType = change.Key == KeyChangeData.Zpk ? KeyType.Zpk : KeyType.Zak,
                Algorithm = KeyAlgorithm.Tdes2Key,
                ZmkId = bank.Value.ZmkId,
                KeyBlock = change.Step == KeyChangeData.KeyBlockStep ? change.KeyUnderZmk : "",
                Cryptogram = change.Step == KeyChangeData.CryptogramStep ? ByteString.CopyFrom(Convert.FromHexString(change.KeyUnderZmk)) : ByteString.Empty,
                ExpectedCheckValue = change.CheckValue,
                NextVersion = true,
            }, cancellationToken: ct);
            var computed = imported.PendingCheckValue.Length > 0 ? imported.PendingCheckValue : imported.CheckValue;
            if (faults.Get().WrongKeyCheckValue)
            {
                computed = computed[..^1] + (computed[^1] == '0' ? '1' : '0');
                logger.LogWarning("Fault knob: answering the key change of the {Key} with the check value {CheckValue}", change.Key, computed);
            }
            logger.LogInformation("Received the next {Key} ({CheckValue}): accepted, not yet used", change.Key, computed);
            return (ResponseCodes.Approved, KeyChangeData.Answer(change.Key, computed));
        }
        catch (RpcException ex) when (ex.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled))
        {
            logger.LogWarning("Key change of the {Key} refused: {Reason}; the current key stays", change.Key, ex.Status.Detail);
            return (ResponseCodes.KeyRefused, null);
        }
        catch (RpcException ex)
        {
            logger.LogWarning("Key change of the {Key} not made: the Hsm did not answer ({Status})", change.Key, ex.StatusCode);
            return (ResponseCodes.SystemMalfunction, null);
        }
    }
}
