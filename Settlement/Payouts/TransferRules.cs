namespace Mesh.Settlement.Payouts;

/// <summary>A transfer's state on a payment file: sent, then paid or rejected by the bank; neither is ever undone.</summary>
public enum TransferState
{
    Sent,
    Paid,
    Rejected,
}

/// <summary>What a bank's status moves a transfer to.</summary>
public enum TransferMove
{
    /// <summary>Nothing: the bank has not decided yet, or says again what it said before.</summary>
    None,
    Pay,
    Reject,

    /// <summary>The bank contradicts what it said before (rejected a paid transfer, say): the report is refused whole.</summary>
    Contradiction,
}

/// <summary>The legal moves of a transfer on a bank's report: a sent transfer becomes paid or rejected, once; the rest stays as it is.</summary>
public static class TransferRules
{
    public static TransferMove Decide(TransferState current, string reportedStatus)
    {
        var paid = StatusReport.Paid.Contains(reportedStatus);
        var rejected = reportedStatus == StatusReport.Rejected;
        return current switch
        {
            TransferState.Sent when paid => TransferMove.Pay,
            TransferState.Sent when rejected => TransferMove.Reject,
            TransferState.Paid when rejected => TransferMove.Contradiction,
            TransferState.Rejected when paid => TransferMove.Contradiction,
            _ => TransferMove.None,
        };
    }

    public static TransferState Parse(string stored) => stored switch
    {
        "sent" => TransferState.Sent,
        "paid" => TransferState.Paid,
        "rejected" => TransferState.Rejected,
        _ => throw new ArgumentOutOfRangeException(nameof(stored), stored, "a transfer is sent, paid or rejected"),
    };

    public static string Text(TransferState state) => state switch
    {
        TransferState.Sent => "sent",
        TransferState.Paid => "paid",
        _ => "rejected",
    };
}
