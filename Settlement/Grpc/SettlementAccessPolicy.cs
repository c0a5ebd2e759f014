using Mesh.ServiceDefaults.Access;
using SettlementContract = Mesh.Contracts.Settlement.Settlement;

namespace Mesh.Settlement.Grpc;

/// <summary>
/// Who may call what at settlement: the gateway records its events and reads what its merchants
/// see (their entries, batches and files); only an operator closes days, records payouts, reads payment files, applies the bank's reports,
/// verifies and reconciles the ledger. A method not listed here is refused to everyone.
/// </summary>
public static class SettlementAccessPolicy
{
    public static readonly MeshAccessPolicy Policy = new(SettlementContract.Descriptor.FullName, new Dictionary<string, string[]>
    {
        [nameof(SettlementContract.SettlementBase.Record)] = [MeshRoles.Gateway],
        [nameof(SettlementContract.SettlementBase.Diagnostics)] = [MeshRoles.Gateway, MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.ListOrderEntries)] = [MeshRoles.Gateway, MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.ListBatches)] = [MeshRoles.Gateway, MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.GetReconciliationFile)] = [MeshRoles.Gateway, MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.GetBalance)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.Verify)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.Reconcile)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.CloseDay)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.RecordPayout)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.ListPayoutFiles)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.GetPayoutFile)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.ApplyPaymentStatusReport)] = [MeshRoles.Operator],
        [nameof(SettlementContract.SettlementBase.RetryPayout)] = [MeshRoles.Operator],
    });
}
