using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Mesh.Iso8583.Messages;

namespace Mesh.Switch.Reversals;

/// <summary>An advice owed to an issuer: the request it concerns, and how often it has been sent.</summary>
public sealed record PendingAdvice(long Id, string Issuer, string AcquirerId, string Stan, string Transmission, long AmountMinor,
    string ProcessingCode, string Currency, int Attempts, string AdviceMti, string OriginalMti, string? OriginalData);

/// <summary>
/// The rules of the reversal-and-repeat protocol, apart from where its state is kept: when a
/// request's outcome is unknown, which advice it is owed, how that advice is written the first time
/// and when repeated, what acknowledges it, and how long to wait before the next attempt. The
/// <see cref="ReversalQueue"/> and the authorization flow apply them against PostgreSQL and the
/// real links; the deterministic simulation applies them against a lossy simulated network.
/// </summary>
public static class ReversalProtocol
{
    /// <summary>
    /// An answer settles a request only when its MAC is right and it is a decision: no answer, a
    /// bad MAC, <c>91</c> or <c>96</c> leave the outcome unknown, and the request is reversed.
    /// </summary>
    public static bool SettlesTheOutcome([NotNullWhen(true)] string? responseCode, bool macValid) =>
        macValid && responseCode is not (null or ResponseCodes.IssuerUnavailable or ResponseCodes.SystemMalfunction);

    /// <summary>A refund is repeated as itself (0220); anything else is reversed (0420).</summary>
    public static string AdviceFor(string mti) => mti is "0220" or "0221" ? "0220" : "0420";

    /// <summary>The message sent for an advice: 0420 the first time, 0421 when repeated; a refund 0221 every time. Unsigned.</summary>
    public static IsoMessage Message(PendingAdvice advice, string institutionId, string bankId)
    {
        var isRefund = advice.AdviceMti == "0220";
        return new IsoMessage(isRefund ? "0221" : advice.Attempts == 0 ? "0420" : "0421")
            .Set(IsoFields.ProcessingCode, advice.ProcessingCode)
            .Set(IsoFields.AmountTransaction, advice.AmountMinor.ToString("D12", CultureInfo.InvariantCulture))
            .Set(IsoFields.TransmissionDateTime, advice.Transmission)
            .Set(IsoFields.Stan, advice.Stan)
            .Set(IsoFields.AcquirerId, advice.AcquirerId)
            .Set(IsoFields.ForwardingId, institutionId)
            .Set(IsoFields.Currency, advice.Currency)
            .Set(IsoFields.OriginalDataElements, isRefund && advice.OriginalData is { } purchase
                ? purchase
                : string.Concat(advice.OriginalMti, advice.Stan, advice.Transmission, advice.AcquirerId.PadLeft(11, '0'), institutionId.PadLeft(11, '0')))
            .Set(IsoFields.ReceivingInstitution, bankId);
    }

    /// <summary>
    /// The issuer's field 39 when its answer acknowledges the advice, null when the advice must be
    /// repeated: the matching response MTI with a good MAC, and <c>00</c> for a reversal; for a
    /// refund any decision (a refund the bank declines is still delivered).
    /// </summary>
    public static string? Acknowledgement(IsoMessage sent, IsoMessage answer, bool macValid)
    {
        var code = answer.GetString(IsoFields.ResponseCode);
        var isRefund = sent.Mti == "0221";
        var acknowledged = answer.Mti == IsoMessage.ResponseMti(sent.Mti) && macValid
            && answer.GetString(IsoFields.Stan) == sent.GetString(IsoFields.Stan)
            && (isRefund ? SettlesTheOutcome(code, macValid) : code == ResponseCodes.Approved);
        return acknowledged ? code : null;
    }

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: one second, doubling, at most <paramref name="maxMs"/>.</summary>
    public static long BackoffMs(int attempts, long maxMs) => Math.Min(maxMs, 1_000L << Math.Clamp(attempts - 1, 0, 16));
}
