using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Least privilege at the Hsm: every service that calls it gets its own secret and a role, and the
/// Hsm is told both. Service secrets are new at every start; the operator's is kept in the data folder.
/// </summary>
public static class HsmCallers
{
    public static IResourceBuilder<ProjectResource> WithHsmCaller(this IResourceBuilder<ProjectResource> caller,
        IResourceBuilder<ProjectResource> hsm, string role)
    {
        var name = caller.Resource.Name;
        var secret = caller.ApplicationBuilder.AddParameter($"{name}-hsm-secret", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), secret: true);
        hsm.WithEnvironment($"Hsm__Callers__{name}__Role", role)
           .WithEnvironment($"Hsm__Callers__{name}__Secret", secret);
        return caller
            .WithEnvironment("HsmClient__CallerName", name)
            .WithEnvironment("HsmClient__Secret", secret)
            .WithReference(hsm).WaitFor(hsm);
    }

    /// <summary>
    /// The LMK: from the secret parameter <c>hsm-lmk</c> (64 hex digits) when it is configured, else
    /// from a file in the data folder, created at first start in development and rotatable.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLocalMasterKey(this IResourceBuilder<ProjectResource> hsm, MeshDataFolder data)
    {
        var builder = hsm.ApplicationBuilder;
        if (!string.IsNullOrWhiteSpace(builder.Configuration["Parameters:hsm-lmk"]))
        {
            return hsm.WithEnvironment("Hsm__LmkHex", builder.AddParameter("hsm-lmk", secret: true));
        }
        return hsm.WithEnvironment("Hsm__LmkPath", data.HsmLmkPath)
            .WithEnvironment("Hsm__CreateLmkIfMissing", builder.Environment.IsDevelopment() ? "true" : "false");
    }

    /// <summary>
    /// The key ceremony, written down: working keys the Hsm generates at start if they do not exist
    /// (ids <c>{owner}.{kind}</c>). Each bank shares a ZMK with the platform; an onboarded bank's
    /// ZPK and ZAK are shared by switch and bank (a bank onboarded later has its own, and the switch
    /// imports them under the ZMK); each bank has a PVK, a CVK and a DEK for its cards; the acquirer (gateway) a ZPK, a ZAK and
    /// the PIN-transport key pairs browsers encrypt to, and the key pair the platform signs with.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithProvisionedKeys(this IResourceBuilder<ProjectResource> hsm,
        string acquirer, params IResourceBuilder<ProjectResource>[] banks)
    {
        var keys = new List<(string Id, string Type, string Algorithm)>
        {
            ($"{acquirer}.zpk", "Zpk", "Tdes2Key"),
            ($"{acquirer}.zak", "Zak", "Tdes2Key"),
            ($"{acquirer}.pin-transport-rsa", "PinTransport", "Rsa2048"),
            ($"{acquirer}.pin-transport-ec", "PinTransport", "EcP256"),
            // The platform signs /v1 answers, notifications, reconciliation files and its certificates
            // with ECDSA P-256: a tenth of an RSA-2048 signature's cost, twice on every purchase.
            ($"{acquirer}.signing", "Signing", "EcP256"),
            // The NetPay form protocol signs answers with RSA-1024 and SHA-1 (ChkValue is 256 hex digits).
            ($"{acquirer}.netpay-signing", "Signing", "Rsa1024"),
            // Merchants may seal their requests to the platform: the content key is encrypted to this pair.
            ($"{acquirer}.envelope", "Envelope", "Rsa2048"),
            // Card numbers at rest: AES-GCM ciphertext and a keyed hash for look-ups.
            ($"{acquirer}.dek", "Dek", "Aes256"),
        };
        foreach (var bank in banks)
        {
            var own = bank.Resource.Annotations.OfType<IssuerBankAnnotation>().Single().KeyPrefix;
            keys.Add((IssuerBanks.ZmkIdOf(bank.Resource.Name), "Zmk", "Tdes2Key"));
            keys.AddRange([($"{own}.zpk", "Zpk", "Tdes2Key"), ($"{own}.zak", "Zak", "Tdes2Key"), ($"{own}.pvk", "Pvk", "Tdes2Key"), ($"{own}.dek", "Dek", "Aes256"), ($"{own}.cvk", "Cvk", "Tdes2Key")]);
        }
        for (var i = 0; i < keys.Count; i++)
        {
            hsm.WithEnvironment($"Hsm__Provision__{i}__KeyId", keys[i].Id)
               .WithEnvironment($"Hsm__Provision__{i}__Type", keys[i].Type)
               .WithEnvironment($"Hsm__Provision__{i}__Algorithm", keys[i].Algorithm);
        }
        return hsm;
    }

    /// <summary>The operator credential (key management, LMK rotation), kept at <paramref name="secretPath"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithHsmOperator(this IResourceBuilder<ProjectResource> hsm, string secretPath)
    {
        var secret = hsm.ApplicationBuilder.AddParameter("hsm-operator-secret", OwnerOnlyFile.ReadOrCreateSecret(secretPath), secret: true);
        return hsm.WithEnvironment("Hsm__Callers__operator__Role", "operator")
                  .WithEnvironment("Hsm__Callers__operator__Secret", secret);
    }
}
