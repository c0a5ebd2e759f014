using Mesh.Contracts.Switch;
using Mesh.ServiceDefaults.Access;

namespace Mesh.Switch.Grpc;

/// <summary>
/// Who may call what at the switch: only an acquirer authorizes and looks up outcomes; only
/// settlement lists authorizations (interbank clearing and reconciliation); only an operator
/// changes routes, onboards banks and changes their zone keys. A method not listed here is refused to everyone.
/// </summary>
public static class SwitchAccessPolicy
{
    public static readonly MeshAccessPolicy Policy = new(CardSwitch.Descriptor.FullName, new Dictionary<string, string[]>
    {
        [nameof(CardSwitch.CardSwitchBase.Authorize)] = [MeshRoles.Acquirer],
        [nameof(CardSwitch.CardSwitchBase.GetOutcome)] = [MeshRoles.Acquirer],
        // The gateway's diagnostics and the operators'.
        [nameof(CardSwitch.CardSwitchBase.EchoIssuers)] = [MeshRoles.Acquirer, MeshRoles.Operator],
        // The payment page's: which BINs ask for a CVV2 instead of a PIN.
        [nameof(CardSwitch.CardSwitchBase.ListCardProducts)] = [MeshRoles.Acquirer, MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.ListAuthorizations)] = [MeshRoles.Settlement],
        [nameof(CardSwitch.CardSwitchBase.ListLinks)] = [MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.ListBinRoutes)] = [MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.SetBinRoute)] = [MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.DeleteBinRoute)] = [MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.OnboardIssuer)] = [MeshRoles.Operator],
        [nameof(CardSwitch.CardSwitchBase.ChangeZoneKeys)] = [MeshRoles.Operator],
    });
}
