using System.Globalization;
using System.Text;
using System.Xml;
using Mesh.ServiceDefaults.Safety;

namespace Mesh.Settlement.Payouts;

/// <summary>One credit transfer of a payment instruction file: a merchant's batch, paid to its settlement account.</summary>
public sealed record CreditTransfer(string TransferId, string EndToEndId, long BatchId, string MerchantId, string CreditorAccount, long AmountMinor,
    string SettlementDate, string CreditorAgentBic);

/// <summary>Who pays: the platform, from its account at its settlement bank.</summary>
public sealed record Debtor(string Name, string Account, string AgentBic);

/// <summary>
/// An ISO 20022 customer credit transfer initiation (pain.001.001.03), as a bank takes it from a
/// corporate customer: a group header (MsgId, CreDtTm, NbOfTxs, CtrlSum, the initiating party), one
/// payment information block with the platform as debtor, and one CdtTrfTxInf per transfer
/// (InstrId the transfer's id, EndToEndId the batch's reference, the amount in yuan with two
/// decimals, the merchant's settlement bank as creditor agent, the merchant as creditor with its settlement account). One file goes to
/// one settlement bank: every transfer on it names the same creditor agent. Written with XmlWriter.
/// </summary>
public static class PaymentInstruction
{
    public const string Namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

    /// <summary>The only currency the file pays, by its numeric code in the ledger and its alphabetic code on the file.</summary>
    public const string LedgerCurrency = "156";
    public const string Currency = "CNY";

    /// <summary>At most this many transfers in one file (the batches of one day and the rejected ones sent again).</summary>
    public const int TransfersMax = 50_000;

    public static byte[] Write(string msgId, DateTimeOffset createdAt, DateOnly executionDate, Debtor debtor, IReadOnlyList<CreditTransfer> transfers)
    {
        Invariant.Holds(transfers.Count is > 0 and <= TransfersMax, "a payment instruction file has 1 to TransfersMax transfers");
        Invariant.Holds(transfers.All(t => t.AmountMinor > 0), "every transfer pays more than zero");
        Invariant.Holds(transfers.All(t => t.CreditorAgentBic == transfers[0].CreditorAgentBic), "a payment file pays at one settlement bank");
        var controlSum = Amount(transfers.Sum(t => t.AmountMinor));
        var count = transfers.Count.ToString(CultureInfo.InvariantCulture);
        using var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("Document", Namespace);
            xml.WriteStartElement("CstmrCdtTrfInitn");
            xml.WriteStartElement("GrpHdr");
            xml.WriteElementString("MsgId", msgId);
            xml.WriteElementString("CreDtTm", createdAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
            xml.WriteElementString("NbOfTxs", count);
            xml.WriteElementString("CtrlSum", controlSum);
            xml.WriteStartElement("InitgPty");
            xml.WriteElementString("Nm", debtor.Name);
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteStartElement("PmtInf");
            xml.WriteElementString("PmtInfId", msgId);
            xml.WriteElementString("PmtMtd", "TRF");
            xml.WriteElementString("BtchBookg", "false");
            xml.WriteElementString("NbOfTxs", count);
            xml.WriteElementString("CtrlSum", controlSum);
            xml.WriteElementString("ReqdExctnDt", executionDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            xml.WriteStartElement("Dbtr");
            xml.WriteElementString("Nm", debtor.Name);
            xml.WriteEndElement();
            xml.WriteStartElement("DbtrAcct");
            Account(xml, debtor.Account);
            xml.WriteElementString("Ccy", Currency);
            xml.WriteEndElement();
            xml.WriteStartElement("DbtrAgt");
            xml.WriteStartElement("FinInstnId");
            xml.WriteElementString("BIC", debtor.AgentBic);
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteElementString("ChrgBr", "SLEV");
            foreach (var t in transfers)
            {
                xml.WriteStartElement("CdtTrfTxInf");
                xml.WriteStartElement("PmtId");
                xml.WriteElementString("InstrId", t.TransferId);
                xml.WriteElementString("EndToEndId", t.EndToEndId);
                xml.WriteEndElement();
                xml.WriteStartElement("Amt");
                xml.WriteStartElement("InstdAmt");
                xml.WriteAttributeString("Ccy", Currency);
                xml.WriteString(Amount(t.AmountMinor));
                xml.WriteEndElement();
                xml.WriteEndElement();
                xml.WriteStartElement("CdtrAgt");
                xml.WriteStartElement("FinInstnId");
                xml.WriteElementString("BIC", t.CreditorAgentBic);
                xml.WriteEndElement();
                xml.WriteEndElement();
                xml.WriteStartElement("Cdtr");
                xml.WriteElementString("Nm", t.MerchantId);
                xml.WriteEndElement();
                xml.WriteStartElement("CdtrAcct");
                Account(xml, t.CreditorAccount);
                xml.WriteEndElement();
                xml.WriteStartElement("RmtInf");
                xml.WriteElementString("Ustrd", $"Mesh settlement {t.SettlementDate} batch {t.BatchId}");
                xml.WriteEndElement();
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        return buffer.ToArray();
    }

    /// <summary>Minor units (fen) as yuan with two decimals, exactly: 12345 is 123.45.</summary>
    public static string Amount(long minor)
    {
        Invariant.Holds(minor >= 0, "an amount on a payment file is not negative");
        return string.Create(CultureInfo.InvariantCulture, $"{minor / 100}.{minor % 100:D2}");
    }

    /// <summary>Yuan with at most two decimals as minor units, exactly; null if it is not such an amount.</summary>
    public static long? Minor(string amount)
    {
        var parts = amount.Split('.');
        if (parts.Length > 2 || parts[0].Length is 0 or > 15 || !parts[0].All(char.IsAsciiDigit)
            || (parts.Length == 2 && (parts[1].Length is 0 or > 2 || !parts[1].All(char.IsAsciiDigit))))
        {
            return null;
        }
        var fraction = parts.Length == 2 ? parts[1].PadRight(2, '0') : "00";
        return long.Parse(parts[0], CultureInfo.InvariantCulture) * 100 + long.Parse(fraction, CultureInfo.InvariantCulture);
    }

    private static void Account(XmlWriter xml, string account)
    {
        xml.WriteStartElement("Id");
        xml.WriteStartElement("Othr");
        xml.WriteElementString("Id", account);
        xml.WriteEndElement();
        xml.WriteEndElement();
    }
}
