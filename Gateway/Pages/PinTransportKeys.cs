using System.Collections.Concurrent;
using Mesh.Contracts.Hsm;
using Mesh.Gateway.Acquiring;

namespace Mesh.Gateway.Pages;

/// <summary>The public halves of the Hsm's PIN-transport keys, as the page's script imports them (SPKI, base64); read once, then from memory.</summary>
public sealed class PinTransportKeys(Hsm.HsmClient hsm)
{
    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.Ordinal);

    public async Task<string> SpkiBase64Async(string scheme, CancellationToken ct)
    {
        var keyId = scheme == EncryptedPin.RsaOaep ? Acquirer.RsaTransportKeyId : Acquirer.EcTransportKeyId;
        if (_known.TryGetValue(keyId, out var spki))
        {
            return spki;
        }
        var reply = await hsm.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, cancellationToken: ct);
        return _known.GetOrAdd(keyId, Convert.ToBase64String(reply.SubjectPublicKeyInfo.Span));
    }
}
