using System.Globalization;
using Grpc.Core;
using Mesh.ServiceDefaults.Access;
using Mesh.Settlement.Ledger;
using Mesh.Settlement.Payouts;

namespace Mesh.Settlement.Operations;

/// <summary>
/// The operators' levers on the settlement's internal http endpoint, behind the Aspire
/// dashboard's commands: verify the ledger, close a business day; and the bank's payment status
/// report, as a bank's file drop would post it. Each does what the gRPC call of
/// the same name does, for an operator's credential only; a refusal is a problem (409 for a day
/// that cannot close yet).
/// </summary>
public static class OperationsApi
{
    public static WebApplication MapOperationsApi(this WebApplication app)
    {
        var admin = app.MapGroup("/admin").RequireMeshCaller(MeshRoles.Operator);
        admin.MapPost("/ledger/verify", VerifyAsync);
        admin.MapPost("/days/{date}/close", CloseAsync);
        admin.MapPost("/payouts/reports", ApplyReportAsync);
        return app;
    }

    /// <summary>
    /// The bank's status report (pain.002, the request's body as XML): applied whole, or refused whole with a problem that names
    /// the field at fault (400 when it does not match its file, 409 when it contradicts what the bank said before).
    /// </summary>
    private static async Task<IResult> ApplyReportAsync(HttpRequest request, PayoutInstructions payouts, CancellationToken ct)
    {
        if (request.ContentLength is > StatusReport.ReportBytesMax)
        {
            return TypedResults.Problem(title: "The status report was refused", detail: $"a report of at most {StatusReport.ReportBytesMax} bytes",
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        var body = new byte[StatusReport.ReportBytesMax + 1];
        var length = 0;
        for (int read; length < body.Length && (read = await request.Body.ReadAsync(body.AsMemory(length), ct)) > 0;)
        {
            length += read;
        }
        try
        {
            // A body past the limit is refused by the reader, as any report too large.
            var reply = await payouts.ApplyReportAsync(body[..length], ct);
            return TypedResults.Ok(new
            {
                reply.MsgId,
                reply.OriginalMsgId,
                reply.AlreadyApplied,
                reply.Paid,
                reply.Rejected,
                Transfers = reply.Transfers.Select(t => new { t.EndToEndId, t.TransferId, t.BatchId, t.Status, t.Reason }).ToArray(),
            });
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return TypedResults.Problem(title: "The status report was refused; nothing was changed", detail: ex.Status.Detail,
                statusCode: ex.StatusCode == StatusCode.InvalidArgument ? StatusCodes.Status400BadRequest : StatusCodes.Status409Conflict);
        }
    }

    private static async Task<IResult> VerifyAsync(LedgerVerifier verifier, CancellationToken ct)
    {
        var reply = await verifier.VerifyAsync(ct);
        return TypedResults.Ok(new { reply.Ok, reply.Entries, reply.Accounts, reply.LedgerSumMinor, Problems = reply.Problems.ToArray() });
    }

    /// <summary><paramref name="date"/> is yyyy-MM-dd, or <c>previous</c>: the last business day that has ended.</summary>
    private static async Task<IResult> CloseAsync(string date, DayClose days, SettlementCalendar calendar, TimeProvider time, CancellationToken ct)
    {
        DateOnly day;
        if (date == "previous")
        {
            day = calendar.DateOf(time.GetUtcNow()).AddDays(-1);
        }
        else if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return TypedResults.Problem(title: "A settlement date is yyyy-MM-dd, or previous", statusCode: StatusCodes.Status400BadRequest);
        }
        try
        {
            var closed = await days.CloseAsync(day, ct);
            return TypedResults.Ok(new
            {
                SettlementDate = DayClose.Text(day),
                closed.AlreadyClosed,
                Batches = closed.Batches.Count,
                NetPayableMinor = closed.Batches.GroupBy(b => b.Currency).ToDictionary(g => g.Key, g => g.Sum(b => b.NetPayableMinor)),
                IssuerPositions = closed.IssuerPositions.Select(p => new { p.IssuerId, p.Currency, p.NetMinor }).ToArray(),
                ClearingDifferences = closed.ClearingDifferences.Select(d => new { d.Currency, d.AmountMinor }).ToArray(),
            });
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return TypedResults.Problem(title: $"{DayClose.Text(day)} was not closed", detail: ex.Status.Detail, statusCode: StatusCodes.Status409Conflict);
        }
    }
}
