using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;

namespace Mesh.Gateway.Signatures;

/// <summary>
/// The NetPay form protocol's signatures (docs/merchant-integration.md): RSASSA-PKCS1-v1_5 with SHA-1 over the
/// fields concatenated in a fixed order, as 256 upper-case hex digits. Merchants sign orders with
/// their key; the platform signs answers with its NetPay key in the Hsm (RSA-1024, PGID
/// <see cref="PlatformGatewayId"/>).
/// </summary>
public sealed class NetPaySignature(HsmSession hsm)
{
    public const string KeyId = "gateway.netpay-signing";
    public const string PlatformGatewayId = "999999999999999";
    public const int ChkValueChars = 256;

    /// <summary>The signed text of an order: MerId+OrdId+TransAmt+CuryId+TransDate+TransType, then Priv1 for version 20070129.</summary>
    public static string OrderText(string merId, string ordId, string transAmt, string curyId, string transDate, string transType, string version, string priv1) =>
        string.Concat(merId, ordId, transAmt, curyId, transDate, transType, version == "20070129" ? priv1 : "");

    /// <summary>The signed text of an answer: merid+orderno+amount+currencycode+transdate+transtype+status.</summary>
    public static string AnswerText(string merId, string orderNo, string amount, string currencyCode, string transDate, string transType, string status) =>
        string.Concat(merId, orderNo, amount, currencyCode, transDate, transType, status);

    /// <summary>The signed text of a refund: MerID+TransDate+TransType+OrderId+RefundAmount+Priv1.</summary>
    public static string RefundText(string merId, string transDate, string transType, string orderId, string refundAmount, string priv1) =>
        string.Concat(merId, transDate, transType, orderId, refundAmount, priv1);

    /// <summary>
    /// The signed text of the platform's refund answer and result: MerID+ProcessDate+TransType+OrderId+RefundAmout+Status+Priv1
    /// (SendTime is not signed).
    /// </summary>
    public static string RefundAnswerText(string merId, string processDate, string transType, string orderId, string refundAmount, string status,
        string priv1) =>
        string.Concat(merId, processDate, transType, orderId, refundAmount, status, priv1);

    /// <summary>The signed text of an order query: MerId+TransDate+OrdId+TransType.</summary>
    public static string QueryText(string merId, string transDate, string ordId, string transType) => string.Concat(merId, transDate, ordId, transType);

    /// <summary>True when <paramref name="chkValue"/> is the merchant's RSA SHA-1 signature of <paramref name="text"/>.</summary>
    public static bool IsValid(byte[] merchantSpki, string text, string? chkValue)
    {
        if (chkValue is null || chkValue.Length is 0 or > 1024 || chkValue.Length % 2 != 0 || !chkValue.All(char.IsAsciiHexDigit))
        {
            return false;
        }
        try
        {
            return MerchantPublicKeys.Rsa(merchantSpki).VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromHexString(chkValue), HashAlgorithmName.SHA1,
                RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The platform's ChkValue of <paramref name="text"/>, made in the Hsm.</summary>
    public async Task<string> SignAsync(string text, CancellationToken ct)
    {
        var reply = await hsm.SignAsync(new SignRequest
        {
            KeyId = KeyId,
            Data = ByteString.CopyFrom(Encoding.UTF8.GetBytes(text)),
            Scheme = SignatureScheme.RsaPkcs1Sha1,
        }, ct);
        return Convert.ToHexString(reply.Signature.Span);
    }
}
