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

    /// <summary>Who may call the Hsm, by caller name (the <c>x-mesh-caller</c> header).</summary>
    public Dictionary<string, Access.HsmCallerOptions> Callers { get; set; } = new(StringComparer.Ordinal);
}
