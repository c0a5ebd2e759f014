using Mesh.ServiceDefaults.Access;
using Mesh.Settlement.Grpc;
using SettlementContract = Mesh.Contracts.Settlement.Settlement;

namespace Mesh.Settlement.Tests;

public sealed class AccessPolicyTests
{
    private static readonly string[] Roles = [.. MeshRoles.All];

    [Fact]
    public void EveryMethodOfTheContract_IsNamedInThePolicy_NoneIsLockedByOversight()
    {
        var named = SettlementAccessPolicy.Policy.Methods.Keys.ToHashSet();

        Assert.All(SettlementContract.Descriptor.Methods, m => Assert.Contains($"/{SettlementContract.Descriptor.FullName}/{m.Name}", named));
        Assert.Equal(SettlementContract.Descriptor.Methods.Count, named.Count);
    }

    [Theory]
    [InlineData("Record", MeshRoles.Gateway)]
    [InlineData("CloseDay", MeshRoles.Operator)]
    [InlineData("RecordPayout", MeshRoles.Operator)]
    [InlineData("Verify", MeshRoles.Operator)]
    [InlineData("Reconcile", MeshRoles.Operator)]
    [InlineData("GetBalance", MeshRoles.Operator)]
    [InlineData("ListPayoutFiles", MeshRoles.Operator)]
    [InlineData("GetPayoutFile", MeshRoles.Operator)]
    [InlineData("ApplyPaymentStatusReport", MeshRoles.Operator)]
    [InlineData("RetryPayout", MeshRoles.Operator)]
    public void AMethodThatWritesOrSeesTheWholeLedger_IsAllowedToOneRoleOnly(string method, string role)
    {
        var path = $"/{SettlementContract.Descriptor.FullName}/{method}";

        Assert.Equal([role], Roles.Where(r => SettlementAccessPolicy.Policy.Allows(path, r)));
    }

    [Theory]
    [InlineData("ListOrderEntries")]
    [InlineData("ListBatches")]
    [InlineData("GetReconciliationFile")]
    [InlineData("Diagnostics")]
    public void WhatMerchantsRead_IsTheGatewaysAndTheOperators_NotTheSwitchsOrAnAcquirers(string method)
    {
        var path = $"/{SettlementContract.Descriptor.FullName}/{method}";

        Assert.Equal([MeshRoles.Gateway, MeshRoles.Operator], Roles.Where(r => SettlementAccessPolicy.Policy.Allows(path, r)).Order());
    }
}
