using System.Globalization;
using System.Text;
using System.Xml.Linq;
using System.Xml.XPath;
using Mesh.Settlement.Payouts;

namespace Mesh.Settlement.Tests;

/// <summary>The pain.001 the close writes and the pain.002 the bank answers with, read and checked without a database.</summary>
public sealed class PayoutFilesTests
{
    private static readonly XNamespace Pain001 = PaymentInstruction.Namespace;

    [Theory]
    [InlineData(12_345L, "123.45")]
    [InlineData(5L, "0.05")]
    [InlineData(100L, "1.00")]
    [InlineData(9_007_199_254_740_993L, "90071992547409.93")] // past a double's exact integers
    public void AnAmount_IsYuanWithTwoDecimals_Exactly_AndReadsBack(long minor, string text)
    {
        Assert.Equal(text, PaymentInstruction.Amount(minor));
        Assert.Equal(minor, PaymentInstruction.Minor(text));
    }

    [Theory]
    [InlineData("1.234")]
    [InlineData("-1.00")]
    [InlineData("1e3")]
    [InlineData("1,00")]
    [InlineData("")]
    public void AnAmountThatIsNotYuanWithTwoDecimals_IsNotRead(string text) => Assert.Null(PaymentInstruction.Minor(text));

    [Fact]
    public void AFile_HasTheGroupHeaderAndOneTransferPerBatch_AsAnXmlReaderSeesIt()
    {
        var transfers = new[]
        {
            new CreditTransfer("MESHPAY-20261204-CNY-PCBCCNBJXXX-00001", "STL-20261204-7", 7, "808080000000001", "1202020209000012345", 12_345, "2026-12-04",
                "PCBCCNBJXXX"),
            new CreditTransfer("MESHPAY-20261204-CNY-PCBCCNBJXXX-00002", "STL-20261204-8", 8, "808080000000002", "6222000011112222", 100, "2026-12-04",
                "PCBCCNBJXXX"),
        };
        var content = PaymentInstruction.Write("MESHPAY-20261204-CNY-PCBCCNBJXXX", new DateTimeOffset(2026, 12, 4, 15, 30, 0, TimeSpan.Zero), new DateOnly(2026, 12, 5),
            new Debtor("Mesh Payments", "MESH00000000000001", "ICBKCNBJXXX"), transfers);

        var document = XDocument.Parse(Encoding.UTF8.GetString(content));
        var ns = new System.Xml.XmlNamespaceManager(new System.Xml.NameTable());
        ns.AddNamespace("p", PaymentInstruction.Namespace);
        Assert.Equal("2", document.XPathSelectElement("/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", ns)!.Value);
        Assert.Equal("124.45", document.XPathSelectElement("/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", ns)!.Value);
        Assert.Equal("2026-12-04T15:30:00", document.XPathSelectElement("//p:GrpHdr/p:CreDtTm", ns)!.Value);
        Assert.Equal("MESH00000000000001", document.XPathSelectElement("//p:PmtInf/p:DbtrAcct/p:Id/p:Othr/p:Id", ns)!.Value);
        var rows = document.XPathSelectElements("//p:CdtTrfTxInf", ns)
            .Select(t => (t.Element(Pain001 + "PmtId")!.Element(Pain001 + "EndToEndId")!.Value, t.Element(Pain001 + "Amt")!.Element(Pain001 + "InstdAmt")!.Value,
                (string)t.Element(Pain001 + "Amt")!.Element(Pain001 + "InstdAmt")!.Attribute("Ccy")!,
                t.Element(Pain001 + "CdtrAcct")!.Element(Pain001 + "Id")!.Element(Pain001 + "Othr")!.Element(Pain001 + "Id")!.Value)).ToList();
        Assert.Equal([("STL-20261204-7", "123.45", "CNY", "1202020209000012345"), ("STL-20261204-8", "1.00", "CNY", "6222000011112222")], rows);
        Assert.Equal(["PCBCCNBJXXX", "PCBCCNBJXXX"], document.XPathSelectElements("//p:CdtTrfTxInf/p:CdtrAgt/p:FinInstnId/p:BIC", ns).Select(e => e.Value));
    }

    [Fact]
    public void AReport_GivesEachTransfersStatusAndReason()
    {
        var report = StatusReport.Read(Report("RPT-1", "MESHPAY-20261204-CNY", "2", "124.45",
            Tx("STL-20261204-7", "ACSC", null, "123.45"), Tx("STL-20261204-8", "RJCT", "AC04", null)));

        Assert.Equal(("RPT-1", "MESHPAY-20261204-CNY", 2, 12_445L), (report.MsgId, report.OriginalMsgId, report.OriginalCount!.Value, report.OriginalControlSumMinor!.Value));
        Assert.Equal([("STL-20261204-7", "ACSC", "", 12_345L), ("STL-20261204-8", "RJCT", "AC04 closed account", (long?)null)],
            report.Transfers.Select(t => (t.EndToEndId, t.Status, t.Reason, t.AmountMinor)).ToList());
    }

    [Fact]
    public void AReportWithAnExternalEntity_IsRefusedBeforeAnythingIsRead()
    {
        var xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></CstmrPmtStsRpt></Document>
            """;

        var refused = Assert.Throws<StatusReportException>(() => StatusReport.Read(Encoding.UTF8.GetBytes(xxe)));

        Assert.Contains("DTD", refused.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<Document", "not well-formed")]
    [InlineData("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>", "pain.002")]
    public void AReportThatIsNotAPain002_IsRefused(string xml, string said) =>
        Assert.Contains(said, Assert.Throws<StatusReportException>(() => StatusReport.Read(Encoding.UTF8.GetBytes(xml))).Message, StringComparison.Ordinal);

    [Fact]
    public void AReportNamingATransferTwice_OrAStatusNoOneKnows_IsRefused()
    {
        Assert.Contains("more than once", Assert.Throws<StatusReportException>(() => StatusReport.Read(Report("R", "F", null, null,
            Tx("E1", "ACSC", null, null), Tx("E1", "RJCT", "AC04", null)))).Message, StringComparison.Ordinal);
        Assert.Contains("XXXX", Assert.Throws<StatusReportException>(() => StatusReport.Read(Report("R", "F", null, null, Tx("E1", "XXXX", null, null)))).Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TransferState.Sent, "ACSC", TransferMove.Pay)]
    [InlineData(TransferState.Sent, "ACCP", TransferMove.None)]
    [InlineData(TransferState.Sent, "RJCT", TransferMove.Reject)]
    [InlineData(TransferState.Sent, "PDNG", TransferMove.None)]
    [InlineData(TransferState.Paid, "ACSC", TransferMove.None)]
    [InlineData(TransferState.Paid, "RJCT", TransferMove.Contradiction)]
    [InlineData(TransferState.Rejected, "RJCT", TransferMove.None)]
    [InlineData(TransferState.Rejected, "ACSC", TransferMove.Contradiction)]
    [InlineData(TransferState.Paid, "ACCP", TransferMove.None)]
    public void ATransfer_MovesOnceFromSent_AndIsNeverUndone(TransferState current, string reported, TransferMove expected) =>
        Assert.Equal(expected, TransferRules.Decide(current, reported));

    internal static string Tx(string endToEndId, string status, string? reason, string? amount) =>
        $"<TxInfAndSts><OrgnlEndToEndId>{endToEndId}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (reason is null ? "" : $"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>closed account</AddtlInf></StsRsnInf>")
        + (amount is null ? "" : $"<OrgnlTxRef><Amt><InstdAmt Ccy=\"CNY\">{amount}</InstdAmt></Amt></OrgnlTxRef>")
        + "</TxInfAndSts>";

    internal static byte[] Report(string msgId, string original, string? count, string? sum, params string[] transfers) => Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\"><CstmrPmtStsRpt>"
        + string.Create(CultureInfo.InvariantCulture, $"<GrpHdr><MsgId>{msgId}</MsgId><CreDtTm>2026-12-05T09:00:00</CreDtTm></GrpHdr>")
        + $"<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        + (count is null ? "" : $"<OrgnlNbOfTxs>{count}</OrgnlNbOfTxs>") + (sum is null ? "" : $"<OrgnlCtrlSum>{sum}</OrgnlCtrlSum>")
        + "</OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>" + original + "</OrgnlPmtInfId>" + string.Concat(transfers)
        + "</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>");
}
