using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Least privilege at the Hsm: every service that calls it gets its own secret and a role, and the
/// Hsm is told both. Service secrets are new at every start; the operator's is kept in the data folder.
/// </summary>
public static class HsmCallers
{
    /// <summary>
    /// <paramref name="caller"/> at the Hsm in <paramref name="role"/>, under its own name, or, with an
    /// <paramref name="identity"/>, as a second caller of its own (<c>{name}-{identity}</c>, in the
    /// <c>HsmClient:{identity}</c> settings): a lever the service's other code never holds.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithHsmCaller(this IResourceBuilder<ProjectResource> caller,
        IResourceBuilder<ProjectResource> hsm, string role, string? identity = null)
    {
        var name = identity is null ? caller.Resource.Name : $"{caller.Resource.Name}-{identity}";
        var section = identity is null ? "HsmClient" : $"HsmClient__{identity}";
        var secret = caller.ApplicationBuilder.AddMeshSecret($"{name}-hsm-secret", () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        // A bank in development also issues its test cards at start (clear PIN in, PVV out, CVV2 printed):
        // the card-issuing role, which the Hsm accepts only in development.
        var roles = role == "issuer" && caller.ApplicationBuilder.IsDevelopmentInstallation() ? "issuer,card-issuing" : role;
        hsm.WithEnvironment($"Hsm__Callers__{name}__Role", roles)
           .WithEnvironment($"Hsm__Callers__{name}__Secret", secret);
        return caller
            .WithEnvironment($"{section}__CallerName", name)
            .WithEnvironment($"{section}__Secret", secret)
            .WithReference(hsm.GetEndpoint("grpc")).WaitFor(hsm);
    }

    /// <summary>
    /// The LMK: from the secret parameter <c>hsm-lmk</c> (64 hex digits) when it is configured or
    /// published, else from a file in the data folder, created at first start in development and rotatable.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLocalMasterKey(this IResourceBuilder<ProjectResource> hsm, MeshDataFolder data)
    {
        var builder = hsm.ApplicationBuilder;
        if (builder.IsPublishing() || !string.IsNullOrWhiteSpace(builder.Configuration["Parameters:hsm-lmk"]))
        {
            return hsm.WithEnvironment("Hsm__LmkHex", builder.AddParameter("hsm-lmk", secret: true));
        }
        return hsm.WithEnvironment("Hsm__LmkPath", data.HsmLmkPath)
            .WithEnvironment("Hsm__CreateLmkIfMissing", builder.Environment.IsDevelopment() ? "true" : "false");
    }

    /// <summary>
    /// The key ceremony, written down: working keys the Hsm generates at start if they do not exist
    /// (ids <c>{owner}.{kind}</c>), each with its owners and the uses each may make of it, sealed
    /// into its key block. Each bank shares a ZMK with the platform (the bank wraps under it, the
    /// switch unwraps); an onboarded bank's ZPK and ZAK serve the bank and the switch's link to it (a
    /// bank onboarded later has its own, and the switch imports them under the ZMK; at each key change
    /// the switch sends the bank the next versions under it); each bank's
    /// PVK, CVK and DEK serve that bank alone. The acquirer's (gateway's) ZPK and ZAK serve the
    /// gateway and the switch; its PIN-transport, signing (answers, files, certificates), envelope keys
    /// and DEK the gateway alone.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithProvisionedKeys(this IResourceBuilder<ProjectResource> hsm,
        string acquirer, string cardSwitch, params IResourceBuilder<ProjectResource>[] banks)
    {
        var development = hsm.ApplicationBuilder.IsDevelopmentInstallation();
        var keys = new List<(string Id, string Type, string Algorithm, (string Caller, string Uses)[] Owners)>
        {
            ($"{acquirer}.zpk", "Zpk", "Tdes2Key", [(acquirer, "PinEncrypt"), (cardSwitch, "PinDecrypt")]),
            ($"{acquirer}.zak", "Zak", "Tdes2Key", [(acquirer, "MacGenerate,MacVerify"), (cardSwitch, "MacGenerate,MacVerify")]),
            ($"{acquirer}.pin-transport-rsa", "PinTransport", "Rsa2048", [(acquirer, "PinTransport")]),
            ($"{acquirer}.pin-transport-ec", "PinTransport", "EcP256", [(acquirer, "PinTransport")]),
            // The platform signs with ECDSA P-256 (a tenth of an RSA-2048 signature's cost), one key per
            // purpose, so that a signature made for one is never taken for another: /v1 answers and
            // notifications; reconciliation files (as the gateway serves them); certificates (its own
            // and the other platform keys'). Generated at the next start where missing.
            ($"{acquirer}.signing", "Signing", "EcP256", [(acquirer, "Sign,SignatureVerify")]),
            ($"{acquirer}.files", "Signing", "EcP256", [(acquirer, "Sign,SignatureVerify")]),
            ($"{acquirer}.certificates", "Signing", "EcP256", [(acquirer, "Sign,SignatureVerify")]),
            // The NetPay form protocol signs answers with RSA-1024 and SHA-1 (ChkValue is 256 hex digits).
            ($"{acquirer}.netpay-signing", "Signing", "Rsa1024", [(acquirer, "Sign,SignatureVerify")]),
            // Merchants may seal their requests to the platform: the content key is encrypted to this pair.
            ($"{acquirer}.envelope", "Envelope", "Rsa2048", [(acquirer, "EnvelopeOpen")]),
            // Card numbers at rest: AES-GCM ciphertext and a keyed hash for look-ups.
            ($"{acquirer}.dek", "Dek", "Aes256", [(acquirer, "DataEncrypt,DataDecrypt,LookupHash")]),
        };
        foreach (var bank in banks)
        {
            var annotation = bank.Resource.Annotations.OfType<IssuerBankAnnotation>().Single();
            var (name, own) = (bank.Resource.Name, annotation.KeyPrefix);
            var link = annotation.Onboarded ? new[] { (cardSwitch, "PinEncrypt") } : [];
            var macLink = annotation.Onboarded ? new[] { (cardSwitch, "MacGenerate,MacVerify") } : [];
            // AES-256: the key block protection key of the TR-31 blocks zone keys travel in, both ways: the
            // bank's keys to the switch at onboarding, the switch's new keys to the bank at each key change.
            keys.Add((IssuerBanks.ZmkIdOf(name), "Zmk", "Aes256", [(name, "Wrap,Unwrap"), (cardSwitch, "Wrap,Unwrap")]));
            keys.Add(($"{own}.zpk", "Zpk", "Tdes2Key", [(name, development ? "PinDecrypt,Export,PinEncrypt" : "PinDecrypt,Export"), .. link]));
            keys.Add(($"{own}.zak", "Zak", "Tdes2Key", [(name, "MacGenerate,MacVerify,Export"), .. macLink]));
            keys.Add(($"{own}.pvk", "Pvk", "Tdes2Key", [(name, "PinVerification")]));
            keys.Add(($"{own}.dek", "Dek", "Aes256", [(name, "DataEncrypt,DataDecrypt,LookupHash")]));
            keys.Add(($"{own}.cvk", "Cvk", "Tdes2Key", [(name, development ? "CvvVerify,CvvGenerate" : "CvvVerify")]));
        }
        for (var i = 0; i < keys.Count; i++)
        {
            hsm.WithEnvironment($"Hsm__Provision__{i}__KeyId", keys[i].Id)
               .WithEnvironment($"Hsm__Provision__{i}__Type", keys[i].Type)
               .WithEnvironment($"Hsm__Provision__{i}__Algorithm", keys[i].Algorithm);
            foreach (var (caller, uses) in keys[i].Owners)
            {
                hsm.WithEnvironment($"Hsm__Provision__{i}__Owners__{caller}", uses);
            }
        }
        return hsm;
    }

    /// <summary>Key custodians: two people who each hold one component of a key formed under dual control.</summary>
    public const int KeyCustodians = 2;

    /// <summary>
    /// The key custodians' credentials (<c>custodian-1</c>, <c>custodian-2</c>), each its own secret:
    /// the parameter <c>hsm-custodian-N-secret</c> when configured or published (each held by its
    /// custodian), else in development a file beside the operator's. Only custodians submit key components.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithHsmCustodians(this IResourceBuilder<ProjectResource> hsm, string operatorSecretPath)
    {
        var builder = hsm.ApplicationBuilder;
        for (var i = 1; i <= KeyCustodians; i++)
        {
            var name = $"hsm-custodian-{i}-secret";
            var configured = builder.IsPublishing() || !string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{name}"]);
            if (!configured && !builder.Environment.IsDevelopment())
            {
                // Two files in one folder would be one person's knowledge: outside development each custodian supplies its own.
                throw new InvalidOperationException($"Set the parameter {name}: each key custodian's secret is supplied by that custodian");
            }
            var secret = configured
                ? builder.AddParameter(name, secret: true)
                : builder.AddParameter(name, OwnerOnlyFile.ReadOrCreateSecret(Path.Combine(Path.GetDirectoryName(operatorSecretPath)!, $"custodian-{i}.secret")), secret: true);
            hsm.WithEnvironment($"Hsm__Callers__custodian-{i}__Role", "custodian")
               .WithEnvironment($"Hsm__Callers__custodian-{i}__Secret", secret);
        }
        return hsm;
    }

    /// <summary>The operator credential (key management, LMK rotation), kept at <paramref name="secretPath"/> (published, a parameter).</summary>
    public static IResourceBuilder<ProjectResource> WithHsmOperator(this IResourceBuilder<ProjectResource> hsm, string secretPath)
    {
        var secret = hsm.ApplicationBuilder.AddMeshSecret("hsm-operator-secret", () => OwnerOnlyFile.ReadOrCreateSecret(secretPath));
        return hsm.WithEnvironment("Hsm__Callers__operator__Role", "operator")
                  .WithEnvironment("Hsm__Callers__operator__Secret", secret);
    }
}
