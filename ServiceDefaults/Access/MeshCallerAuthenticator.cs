using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.ServiceDefaults.Access;

/// <summary>An authenticated caller: the name it presented and the role its configuration gives it.</summary>
public sealed record MeshCaller(string Name, string Role);

/// <summary>
/// Who is calling: the caller's name (<c>x-mesh-caller</c>) and its secret (<c>authorization:
/// Bearer …</c>) must match this service's <c>Mesh:Callers</c>. The same for gRPC and for the
/// <c>/admin</c> routes. Secrets are compared as SHA-256 digests in fixed time, and an unknown
/// name costs the same comparison as a known one. Every refusal is logged and counted.
/// </summary>
public sealed class MeshCallerAuthenticator(IOptions<MeshAccessOptions> options, MeshAccessMetrics metrics, ILogger<MeshCallerAuthenticator> logger)
{
    public const string CallerHeader = "x-mesh-caller";
    public const string AuthorizationHeader = "authorization";
    private const string BearerPrefix = "Bearer ";

    /// <summary>Names and roles of at most this many characters are logged and counted as sent; longer ones are cut.</summary>
    private const int LoggedCharsMax = 64;

    public MeshCaller? Authenticate(string? name, string? authorization)
    {
        var known = options.Value.Callers.TryGetValue(name ?? "", out var configured);
        return BearerMatches(authorization, known ? configured!.Secret : "") && known ? new MeshCaller(name!, configured!.Role) : null;
    }

    /// <summary>
    /// Whether an <c>authorization</c> header carries the bearer secret <paramref name="expected"/>:
    /// compared as SHA-256 digests in fixed time, so neither the secret's length nor its prefix
    /// shows in the time taken; an empty expected secret (an unknown caller) never matches. The one
    /// check of a caller's secret, for every server and for the Hsm.
    /// </summary>
    public static bool BearerMatches(string? authorization, string expected)
    {
        var presented = authorization is not null && authorization.StartsWith(BearerPrefix, StringComparison.Ordinal) ? authorization[BearerPrefix.Length..] : "";
        var equal = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        return equal && expected.Length > 0;
    }

    /// <summary>Logs and counts a refusal. A name this service does not know is counted as <c>unknown</c>: anyone may claim any name.</summary>
    public void Refused(string method, string? claimedName, string? role, string reason)
    {
        var counted = claimedName is not null && options.Value.Callers.ContainsKey(claimedName) ? claimedName : "unknown";
        metrics.Refused(counted, method, reason);
        logger.LogWarning("Refused {Method} to {Caller} (role {Role}): {Reason}", method, Cut(claimedName), role ?? "none", reason);
    }

    private static string Cut(string? value) =>
        value is null ? "" : value.Length <= LoggedCharsMax ? value : value[..LoggedCharsMax] + "…";
}
