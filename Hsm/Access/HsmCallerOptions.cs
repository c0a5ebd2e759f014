namespace Mesh.Hsm.Access;

/// <summary>One caller of the Hsm: its role and the secret it presents (<c>authorization: Bearer …</c>).</summary>
public sealed class HsmCallerOptions
{
    public string Role { get; set; } = "";

    public string Secret { get; set; } = "";
}
