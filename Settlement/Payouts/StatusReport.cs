using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Mesh.Settlement.Payouts;

/// <summary>What the bank said of one transfer: its status (ACSC, ACCP, RJCT, ...) and, when rejected, why.</summary>
public sealed record TransferStatus(string EndToEndId, string InstrId, string Status, string Reason, long? AmountMinor);

/// <summary>
/// The bank's customer payment status report (ISO 20022 pain.002.001.03) on one payment
/// instruction file: the file it answers (OrgnlMsgId, and the count and sum it received when the
/// bank repeats them), the group's status, and each transfer's (TxInfAndSts). Read with DTDs
/// prohibited and no resolver, so an entity or an external reference is refused before anything is
/// read; the size, the depth and the transfers are bounded.
/// </summary>
public sealed record StatusReport(string MsgId, string OriginalMsgId, int? OriginalCount, long? OriginalControlSumMinor, string GroupStatus, string GroupReason,
    IReadOnlyList<TransferStatus> Transfers)
{
    public const string NamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.";
    public const int ReportBytesMax = 4 * 1024 * 1024;

    /// <summary>
    /// Paid: settled (ACSC). Accepted (ACCP: the bank's profile checks passed) comes before settlement and may still end
    /// rejected, so it pays nothing yet.
    /// </summary>
    public static readonly string[] Paid = ["ACSC"];
    public const string Rejected = "RJCT";

    /// <summary>Still under way at the bank: nothing changes.</summary>
    public static readonly string[] Undecided = ["ACTC", "ACCP", "ACSP", "ACWC", "PDNG", "RCVD"];

    public static StatusReport Read(byte[] content)
    {
        if (content.Length is 0 or > ReportBytesMax)
        {
            throw new StatusReportException("content", $"a pain.002 report of 1 to {ReportBytesMax} bytes");
        }
        XDocument document;
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            using var reader = XmlReader.Create(stream, new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersInDocument = ReportBytesMax,
                IgnoreComments = true,
                IgnoreProcessingInstructions = true,
            });
            document = XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new StatusReportException("content", ex.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase)
                ? "a DTD (and with it any entity) is not accepted in a status report"
                : $"not well-formed XML: {ex.Message}");
        }
        var root = document.Root!;
        var ns = root.Name.Namespace;
        if (root.Name.LocalName != "Document" || !ns.NamespaceName.StartsWith(NamespacePrefix, StringComparison.Ordinal))
        {
            throw new StatusReportException("Document", $"a Document in the {NamespacePrefix}* namespace (pain.002)");
        }
        var report = root.Element(ns + "CstmrPmtStsRpt") ?? throw new StatusReportException("CstmrPmtStsRpt", "the report's element is missing");
        var msgId = Text(report.Element(ns + "GrpHdr")?.Element(ns + "MsgId"), "GrpHdr/MsgId", required: true)!;
        var group = report.Element(ns + "OrgnlGrpInfAndSts") ?? throw new StatusReportException("OrgnlGrpInfAndSts", "the original group is missing");
        var originalMsgId = Text(group.Element(ns + "OrgnlMsgId"), "OrgnlGrpInfAndSts/OrgnlMsgId", required: true)!;
        int? count = Text(group.Element(ns + "OrgnlNbOfTxs"), "OrgnlNbOfTxs", required: false) is { } n
            ? int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new StatusReportException("OrgnlNbOfTxs", "a count")
            : null;
        long? sum = Text(group.Element(ns + "OrgnlCtrlSum"), "OrgnlCtrlSum", required: false) is { } s
            ? PaymentInstruction.Minor(s) ?? throw new StatusReportException("OrgnlCtrlSum", "an amount with at most two decimals")
            : null;
        var transfers = new List<TransferStatus>();
        foreach (var tx in report.Descendants(ns + "TxInfAndSts"))
        {
            if (transfers.Count == PaymentInstruction.TransfersMax)
            {
                throw new StatusReportException("TxInfAndSts", $"at most {PaymentInstruction.TransfersMax} transfers");
            }
            var amount = tx.Element(ns + "OrgnlTxRef")?.Element(ns + "Amt")?.Element(ns + "InstdAmt");
            transfers.Add(new TransferStatus(
                Text(tx.Element(ns + "OrgnlEndToEndId"), "TxInfAndSts/OrgnlEndToEndId", required: true)!,
                Text(tx.Element(ns + "OrgnlInstrId"), "TxInfAndSts/OrgnlInstrId", required: false) ?? "",
                Text(tx.Element(ns + "TxSts"), "TxInfAndSts/TxSts", required: true)!,
                Reason(tx, ns),
                amount is null ? null
                    : (string?)amount.Attribute("Ccy") != PaymentInstruction.Currency ? throw new StatusReportException("OrgnlTxRef/Amt/InstdAmt", $"an amount in {PaymentInstruction.Currency}")
                    : PaymentInstruction.Minor(amount.Value.Trim()) ?? throw new StatusReportException("OrgnlTxRef/Amt/InstdAmt", "an amount with at most two decimals")));
        }
        var groupStatus = Text(group.Element(ns + "GrpSts"), "GrpSts", required: false) ?? "";
        if (transfers.Count == 0 && groupStatus.Length == 0)
        {
            throw new StatusReportException("TxInfAndSts", "a group status or at least one transfer's status");
        }
        var duplicate = transfers.GroupBy(t => t.EndToEndId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new StatusReportException("OrgnlEndToEndId", $"{duplicate.Key} is reported more than once");
        }
        foreach (var t in transfers.Where(t => !Known(t.Status)))
        {
            throw new StatusReportException("TxSts", $"{t.EndToEndId}: {t.Status} is not a status this platform knows (ACSC, RJCT, or one still under way)");
        }
        return new StatusReport(msgId, originalMsgId, count, sum, groupStatus, Reason(group, ns), transfers);
    }

    private static bool Known(string status) => Paid.Contains(status) || status == Rejected || Undecided.Contains(status);

    /// <summary>The reason code and text of a status (StsRsnInf/Rsn/Cd and AddtlInf), as one line.</summary>
    private static string Reason(XElement element, XNamespace ns)
    {
        var info = element.Element(ns + "StsRsnInf");
        if (info is null)
        {
            return "";
        }
        var code = info.Element(ns + "Rsn")?.Element(ns + "Cd")?.Value.Trim() ?? info.Element(ns + "Rsn")?.Element(ns + "Prtry")?.Value.Trim() ?? "";
        var text = string.Join(" ", info.Elements(ns + "AddtlInf").Select(e => e.Value.Trim()));
        var reason = $"{code} {text}".Trim();
        return reason.Length > 200 ? reason[..200] : reason;
    }

    private static string? Text(XElement? element, string field, bool required)
    {
        var value = element?.Value.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return required ? throw new StatusReportException(field, "missing") : null;
        }
        return value.Length <= 35 ? value : throw new StatusReportException(field, "at most 35 characters");
    }
}

/// <summary>A status report that cannot be read or does not match its file: nothing was changed.</summary>
public sealed class StatusReportException(string field, string problem) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
