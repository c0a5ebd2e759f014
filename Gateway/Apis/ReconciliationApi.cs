using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Gateway.Platform;

namespace Mesh.Gateway.Apis;

/// <summary>
/// A merchant's reconciliation files of a closed settlement date, through the merchant API: the
/// CSV, with the platform's detached signature in <c>Mesh-File-Signature</c> (by the files key:
/// ECDSA P-256 SHA-256 of the bytes, DER, base64) and the files certificate named in <c>Mesh-Cert-Id</c>.
/// </summary>
public static class ReconciliationApi
{
    public const string FileSignatureHeader = "Mesh-File-Signature";

    public static RouteGroupBuilder MapReconciliationApi(this RouteGroupBuilder group)
    {
        group.MapGet("/reconciliation/{settlementDate}/{kind}", DownloadAsync).WithName("DownloadReconciliationFile").WithTags("Reconciliation")
            .Produces<string>(StatusCodes.Status200OK, "text/csv").WithMetadata(new V1OpenApi.V1Query(["merId", "timestamp", "signature"]))
            .V1Problems(400, 401, 403, 409)
            .WithSummary("A closed day's detail (对交易明细) or totals (对交易总账) as CSV, signed by the platform (query: merId, timestamp, signature)")
            .WithDescription("settlementDate is yyyy-MM-dd, kind detail or totals; path values are signed too. 409 while the date is open.");
        return group;
    }

    private static async Task<IResult> DownloadAsync(string settlementDate, string kind, HttpRequest http, HttpResponse response, MerchantRequests requests,
        Settlement.SettlementClient settlement, PlatformCertificates platform, CancellationToken ct)
    {
        var fields = OrdersApi.Query(http, "merId", "timestamp", "signature");
        if (fields is null)
        {
            return MerchantRequests.Validation("query", "merId, timestamp and signature, each once");
        }
        fields["settlementDate"] = settlementDate;
        fields["kind"] = kind;
        if (await requests.RefuseAsync(fields, query: true, ct) is { } refusal)
        {
            return refusal;
        }
        if (kind is not ("detail" or "totals") || !DateOnly.TryParseExact(settlementDate, "yyyy-MM-dd", out _))
        {
            return MerchantRequests.Validation("path", "/v1/reconciliation/{yyyy-MM-dd}/{detail|totals}");
        }
        try
        {
            var file = await settlement.GetReconciliationFileAsync(new ReconciliationFileRequest { MerchantId = fields["merId"]!, SettlementDate = settlementDate, Kind = kind },
                cancellationToken: ct);
            var content = file.Content.ToByteArray();
            var (certId, signature) = await platform.SignFileAsync(content, ct);
            response.Headers[FileSignatureHeader] = Convert.ToBase64String(signature);
            response.Headers["Mesh-Cert-Id"] = certId;
            return TypedResults.File(content, "text/csv; charset=utf-8", file.Name);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return V1Problems.Result(V1Problems.ReconciliationNotReady, StatusCodes.Status409Conflict, "The settlement date is not closed", ex.Status.Detail);
        }
    }
}
