using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console's own client of the switch: it presents the gateway's operator credential
/// (<c>MeshCredentials:switch:operator</c>). The payment path holds only the acquirer's, which
/// cannot change a route or onboard a bank.
/// </summary>
public sealed class OperatorSwitchClient(CallInvoker callInvoker) : CardSwitch.CardSwitchClient(callInvoker);

/// <summary>
/// The operator console's own client of settlement, with the gateway's operator credential
/// (<c>MeshCredentials:settlement:operator</c>): payouts and reconciliation. The merchant-facing
/// code holds only the gateway's, which cannot close a day or record a payout.
/// </summary>
public sealed class OperatorSettlementClient(CallInvoker callInvoker) : Settlement.SettlementClient(callInvoker);

/// <summary>
/// The operator console's own client of the Hsm, with the gateway's platform-keys credential
/// (<c>HsmClient:keys</c>): it rotates the platform's key pairs and nothing else. The payment path's
/// credential cannot rotate a key.
/// </summary>
public sealed class OperatorHsmClient(CallInvoker callInvoker) : Hsm.HsmClient(callInvoker);
