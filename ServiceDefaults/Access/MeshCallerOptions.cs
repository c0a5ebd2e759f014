namespace Mesh.ServiceDefaults.Access;

/// <summary>One caller of a service: its role and the secret it presents (<c>authorization: Bearer …</c>).</summary>
public sealed class MeshCallerOptions
{
    public string Role { get; set; } = "";

    public string Secret { get; set; } = "";
}

/// <summary>
/// Who may call this service: <c>Mesh:Callers:{callerName}:Role</c> and <c>:Secret</c>, set by the
/// AppHost (a new secret per caller and service at every start).
/// </summary>
public sealed class MeshAccessOptions
{
    public const string Section = "Mesh";

    /// <summary>A secret shorter than this is refused at start: 32 characters is 128 bits of hex.</summary>
    public const int SecretCharsMin = 32;

    public Dictionary<string, MeshCallerOptions> Callers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What is wrong with the configured callers, if anything: an unknown role or a short secret.</summary>
    public IEnumerable<string> Problems() =>
        Callers.SelectMany(caller => new[]
        {
            MeshRoles.All.Contains(caller.Value.Role) ? null : $"Mesh:Callers:{caller.Key}:Role is not one of {string.Join(", ", MeshRoles.All)}",
            caller.Value.Secret.Length >= SecretCharsMin ? null : $"Mesh:Callers:{caller.Key}:Secret has fewer than {SecretCharsMin} characters",
        }).OfType<string>();
}
