using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Platform;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The public half of the Hsm's PIN-transport key a page seals to (SPKI, base64, as the page's script
/// imports it) and the version it is, by the Hsm's check value: the page's session records the version,
/// so that a page opened before a rotation is read with the key it was given until the page expires.
/// </summary>
public sealed class PinTransportKeys(PlatformKeyVersions versions)
{
    public static string KeyIdOf(string scheme) => scheme == EncryptedPin.RsaOaep ? Acquirer.RsaTransportKeyId : Acquirer.EcTransportKeyId;

    public async Task<(string SpkiBase64, string CheckValue)> CurrentAsync(string scheme, CancellationToken ct)
    {
        var current = (await versions.VersionsAsync(KeyIdOf(scheme), ct)).Current;
        return (Convert.ToBase64String(current.SubjectPublicKeyInfo), current.CheckValue);
    }
}
