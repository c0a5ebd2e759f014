using System.Collections.Frozen;

namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// Which roles may call each method of a service's gRPC contract (<c>/package.Service/Method</c>).
/// A method the policy does not name is refused to everyone: deny by default. The gRPC health
/// service answers anyone.
/// </summary>
public sealed class MeshAccessPolicy
{
    public const string HealthServicePrefix = "/grpc.health.v1.Health/";

    private readonly FrozenDictionary<string, FrozenSet<string>> _allowed;

    /// <param name="service">The full gRPC service name, e.g. <c>mesh.switch.CardSwitch</c>.</param>
    /// <param name="methods">Method name (<c>Authorize</c>) → the roles that may call it.</param>
    public MeshAccessPolicy(string service, IReadOnlyDictionary<string, string[]> methods)
    {
        foreach (var role in methods.Values.SelectMany(r => r).Where(r => !MeshRoles.All.Contains(r)))
        {
            throw new ArgumentException($"{service}: {role} is not a Mesh role", nameof(methods));
        }
        _allowed = methods.ToFrozenDictionary(m => $"/{service}/{m.Key}", m => m.Value.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    public static bool IsOpen(string method) => method.StartsWith(HealthServicePrefix, StringComparison.Ordinal);

    public bool Allows(string method, string role) => _allowed.TryGetValue(method, out var roles) && roles.Contains(role);

    /// <summary>Every method the policy names, with its roles: what the docs and tests read.</summary>
    public IReadOnlyDictionary<string, FrozenSet<string>> Methods => _allowed;
}
