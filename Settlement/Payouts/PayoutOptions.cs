namespace Mesh.Settlement.Payouts;

/// <summary>The platform as the debtor of its payment instruction files: its name, its account at its settlement bank, that bank's BIC.</summary>
public sealed class PayoutOptions
{
    public const string Section = "Settlement:Payouts";

    public string DebtorName { get; set; } = "Mesh Payments";

    public string DebtorAccount { get; set; } = "MESH00000000000001";

    public string DebtorAgentBic { get; set; } = "ICBKCNBJXXX";
}
