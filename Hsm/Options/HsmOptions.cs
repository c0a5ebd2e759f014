namespace Mesh.Hsm.Options;

public sealed class HsmOptions
{
    public const string Section = "Hsm";

    /// <summary>The LMK as 64 hex digits (AES-256), from a secret store. Takes precedence over <see cref="LmkPath"/>.</summary>
    public string? LmkHex { get; set; }

    /// <summary>A file holding the 32-byte LMK, outside the database.</summary>
    public string? LmkPath { get; set; }

    /// <summary>Development only: create a random LMK at <see cref="LmkPath"/> when the file does not exist.</summary>
    public bool CreateLmkIfMissing { get; set; }

    /// <summary>
    /// Working keys the Hsm makes sure exist at start (generated inside, idempotent by id): the
    /// platform's key ceremony written down, so a fresh environment has its ZPKs, ZAKs and PVKs.
    /// </summary>
    public List<ProvisionedKey> Provision { get; set; } = [];

    /// <summary>Who may call the Hsm, by caller name (the <c>x-mesh-caller</c> header).</summary>
    public Dictionary<string, Access.HsmCallerOptions> Callers { get; set; } = new(StringComparer.Ordinal);

    public CeremonyOptions Ceremonies { get; set; } = new();
}

/// <summary>Key ceremonies under dual control (<c>Hsm:Ceremonies</c>).</summary>
public sealed class CeremonyOptions
{
    public const int ExpiryMinutesMax = 24 * 60;

    /// <summary>How long after its first component a ceremony may wait for the others; then its components are erased.</summary>
    public int ExpiryMinutes { get; set; } = 60;
}

public sealed class ProvisionedKey
{
    public string KeyId { get; set; } = "";

    public Contracts.Hsm.KeyType Type { get; set; }

    public Contracts.Hsm.KeyAlgorithm Algorithm { get; set; }

    /// <summary>
    /// Who may use the key, by caller name, each with its uses comma-separated
    /// (<c>Owners:gateway = PinEncrypt</c>, <c>Owners:switch = PinDecrypt</c>): sealed into the key
    /// block at every start, so the ceremony's word is the policy.
    /// </summary>
    public Dictionary<string, string> Owners { get; set; } = new(StringComparer.Ordinal);

    public Keys.KeyPolicy Policy() => Keys.KeyPolicy.Of(Owners.Select(o => (o.Key,
        o.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(use => Enum.TryParse<Contracts.Hsm.KeyUse>(use, out var parsed) && parsed != Contracts.Hsm.KeyUse.Unspecified
                ? parsed
                : throw new InvalidOperationException($"{KeyId}: {use} is not a key use")))));
}
