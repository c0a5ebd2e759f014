namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// The roles a Mesh service grants its callers. Each service's policy says which role may call
/// which method; a role is what a caller may do, not who it is (the gateway holds two credentials,
/// <see cref="Acquirer"/> for payments and <see cref="Operator"/> for its operator console).
/// </summary>
public static class MeshRoles
{
    /// <summary>Sends authorizations to the switch and looks up their outcomes: the gateway's payment path.</summary>
    public const string Acquirer = "acquirer";

    /// <summary>Hands the ledger its events and reads a merchant's own entries, batches and files: the gateway at settlement.</summary>
    public const string Gateway = "gateway";

    /// <summary>Takes in the switch's authorizations and the banks' postings: settlement's clearing and reconciliation.</summary>
    public const string Settlement = "settlement";

    /// <summary>The platform's operators' levers: routes, banks, days, payouts, faults (the operator console, the dashboard).</summary>
    public const string Operator = "operator";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Acquirer, Gateway, Settlement, Operator };
}
