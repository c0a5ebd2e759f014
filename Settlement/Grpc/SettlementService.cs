using System.Globalization;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Settlement.Ledger;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Settlement.Grpc;

public sealed class SettlementService(
    NpgsqlDataSource db,
    LedgerWriter writer,
    DayClose days,
    LedgerVerifier verifier,
    Reconciliation.ReconciliationFiles files,
    Reconciliation.ThreeWayReconciliation reconciliation,
    Payouts.PayoutInstructions payouts,
    IOptions<SettlementOptions> options,
    TimeProvider time) : Contracts.Settlement.Settlement.SettlementBase
{
    private static readonly string[] Kinds =
        [LedgerWriter.Purchase, LedgerWriter.Refund, LedgerWriter.Reversal, LedgerWriter.InterbankPurchase, LedgerWriter.InterbankRefund];

    public override async Task<SettlementDiagnosticsReply> Diagnostics(SettlementDiagnosticsRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        await using var command = db.CreateCommand("SELECT current_setting('server_version'), (SELECT count(*) FROM schema_version)");
        await using var reader = await command.ExecuteReaderAsync(context.CancellationToken);
        await reader.ReadAsync(context.CancellationToken);
        return new SettlementDiagnosticsReply
        {
            DatabaseOk = reader.GetInt64(1) > 0,
            DatabaseVersion = reader.GetString(0),
            DatabaseLatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    public override async Task<RecordReply> Record(RecordRequest request, ServerCallContext context)
    {
        if (request.Events.Count is 0 || request.Events.Count > options.Value.RecordBatchMax)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"1 to {options.Value.RecordBatchMax} events"));
        }
        foreach (var e in request.Events)
        {
            if (Problem(e) is { } problem)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"event {e.TransactionId}: {problem}; nothing was recorded"));
            }
        }
        return await writer.RecordAsync(request.Events, context.CancellationToken);
    }

    private static string? Problem(LedgerEvent e) =>
        e.TransactionId.Length is 0 or > 100 ? "a transaction id of 1 to 100 characters"
        : !Kinds.Contains(e.Kind) ? $"kind is one of {string.Join(", ", Kinds)}"
        : e.AmountMinor <= 0 ? "an amount above zero"
        : e.Currency.Length != 3 || !e.Currency.All(char.IsAsciiDigit) ? "a 3-digit ISO 4217 currency"
        : (e.MerchantId.Length == 0 || e.OrderId.Length == 0) && !e.Kind.StartsWith("interbank_", StringComparison.Ordinal) ? "a merchant and an order"
        : e.IssuerId.Length == 0 ? "the issuing bank (its institution id)"
        : e.FeeRatePpm is < 0 or > 100_000 || e.FeeMinimumMinor < 0 ? "a fee rate of 0 to 100000 ppm and a minimum of 0 or more"
        : e.OccurredAtUnixMs <= 0 ? "when it happened"
        : null;

    public override async Task<CloseDayReply> CloseDay(CloseDayRequest request, ServerCallContext context) =>
        await days.CloseAsync(Date(request.SettlementDate), context.CancellationToken);

    public override async Task<ListBatchesReply> ListBatches(ListBatchesRequest request, ServerCallContext context)
    {
        var reply = new ListBatchesReply();
        reply.Batches.AddRange(await days.BatchesAsync(request.SettlementDate.Length == 0 ? null : Date(request.SettlementDate),
            request.MerchantId.Length == 0 ? null : request.MerchantId, context.CancellationToken));
        return reply;
    }

    public override async Task<Batch> RecordPayout(RecordPayoutRequest request, ServerCallContext context)
    {
        if (request.Reference.Length is 0 or > 100)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a payout reference of 1 to 100 characters"));
        }
        var batch = await days.RecordPayoutAsync(request.BatchId, request.Reference, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no batch {request.BatchId}"));
        return batch.FundStatus == "sent"
            ? throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"batch {request.BatchId} is on a payment file as {batch.PayoutReference}: the bank's status report decides it, not a payout by hand"))
            : batch;
    }

    public override async Task<ListPayoutFilesReply> ListPayoutFiles(ListPayoutFilesRequest request, ServerCallContext context)
    {
        var reply = new ListPayoutFilesReply();
        reply.Files.AddRange(await payouts.ListAsync(request.SettlementDate.Length == 0 ? null : Date(request.SettlementDate), context.CancellationToken));
        return reply;
    }

    public override async Task<PayoutFileContent> GetPayoutFile(GetPayoutFileRequest request, ServerCallContext context) =>
        request.MsgId.Length is 0 or > 35
            ? throw new RpcException(new Status(StatusCode.InvalidArgument, "a file's MsgId of 1 to 35 characters"))
            : await payouts.GetAsync(request.MsgId, context.CancellationToken) ?? throw new RpcException(new Status(StatusCode.NotFound, $"no payment file {request.MsgId}"));

    public override async Task<PaymentStatusReportReply> ApplyPaymentStatusReport(PaymentStatusReportRequest request, ServerCallContext context) =>
        await payouts.ApplyReportAsync(request.Content.ToByteArray(), context.CancellationToken);

    public override async Task<Batch> RetryPayout(RetryPayoutRequest request, ServerCallContext context)
    {
        await payouts.RetryAsync(request.BatchId, context.CancellationToken);
        return await days.BatchAsync(request.BatchId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no batch {request.BatchId}"));
    }

    public override async Task<VerifyLedgerReply> Verify(VerifyLedgerRequest request, ServerCallContext context) =>
        await verifier.VerifyAsync(context.CancellationToken);

    public override async Task<GetBalanceReply> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        await using var find = db.CreateCommand("SELECT balance_minor, currency FROM accounts WHERE account_id = $1");
        find.Parameters.Add(new NpgsqlParameter { Value = request.AccountId });
        await using var row = await find.ExecuteReaderAsync(context.CancellationToken);
        return await row.ReadAsync(context.CancellationToken)
            ? new GetBalanceReply { BalanceMinor = row.GetInt64(0), Currency = row.GetString(1) }
            : throw new RpcException(new Status(StatusCode.NotFound, $"no account {request.AccountId}"));
    }

    public override async Task<ListOrderEntriesReply> ListOrderEntries(ListOrderEntriesRequest request, ServerCallContext context)
    {
        if (request.MerchantId.Length is 0 or > 32 || request.OrderId.Length is 0 or > 32)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a merchant id and an order id"));
        }
        await using var find = db.CreateCommand(
            """
            SELECT e.kind, e.settlement_date, e.amount_minor, e.fee_minor, e.currency, e.recorded_at, coalesce(b.fund_status, '')
            FROM journal_entries e
            LEFT JOIN batches b ON b.settlement_date = e.settlement_date AND b.merchant_id = e.merchant_id AND b.currency = e.currency
            WHERE e.merchant_id = $1 AND e.order_id = $2 ORDER BY e.entry_id LIMIT 100
            """);
        find.Parameters.Add(new NpgsqlParameter { Value = request.MerchantId });
        find.Parameters.Add(new NpgsqlParameter { Value = request.OrderId });
        var reply = new ListOrderEntriesReply();
        await using var row = await find.ExecuteReaderAsync(context.CancellationToken);
        while (await row.ReadAsync(context.CancellationToken))
        {
            reply.Entries.Add(new OrderEntry
            {
                Kind = row.GetString(0),
                SettlementDate = DayClose.Text(row.GetFieldValue<DateOnly>(1)),
                AmountMinor = row.GetInt64(2),
                FeeMinor = row.GetInt64(3),
                Currency = row.GetString(4),
                RecordedAtUnixMs = row.GetFieldValue<DateTimeOffset>(5).ToUnixTimeMilliseconds(),
                BatchFundStatus = row.GetString(6),
            });
        }
        return reply;
    }

    public override async Task<ReconciliationFile> GetReconciliationFile(ReconciliationFileRequest request, ServerCallContext context)
    {
        if (request.MerchantId.Length is 0 or > 32)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a merchant id"));
        }
        return await files.GetAsync(request.MerchantId, Date(request.SettlementDate), request.Kind, context.CancellationToken);
    }

    public override async Task<ReconcileReply> Reconcile(ReconcileRequest request, ServerCallContext context) =>
        await reconciliation.ReconcileAsync(Date(request.SettlementDate), context.CancellationToken);

    private static DateOnly Date(string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new RpcException(new Status(StatusCode.InvalidArgument, "a settlement date is yyyy-MM-dd"));
}
