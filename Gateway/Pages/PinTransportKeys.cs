using Mesh.Contracts.Hsm;
using Mesh.Gateway.Acquiring;

namespace Mesh.Gateway.Pages;

/// <summary>The public halves of the Hsm's PIN-transport keys, as the page's script imports them (SPKI, base64); read once.</summary>
public sealed class PinTransportKeys(Hsm.HsmClient hsm)
{
    private readonly Dictionary<string, string> _known = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reading = new(1, 1);

    public async Task<string> SpkiBase64Async(string scheme, CancellationToken ct)
    {
        var keyId = scheme == EncryptedPin.RsaOaep ? Acquirer.RsaTransportKeyId : Acquirer.EcTransportKeyId;
        await _reading.WaitAsync(ct);
        try
        {
            if (!_known.TryGetValue(keyId, out var spki))
            {
                var reply = await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, cancellationToken: ct);
                _known[keyId] = spki = Convert.ToBase64String(reply.SubjectPublicKeyInfo.Span);
            }
            return spki;
        }
        finally
        {
            _reading.Release();
        }
    }
}
