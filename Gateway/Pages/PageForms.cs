using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Pages;

/// <summary>
/// The form a payment session shows: the card's (with the PIN sealed in the browser for a debit card, the CVV2 field for
/// a credit BIN), or, while the order waits for the one-time code its credit card's bank sent, the code's.
/// </summary>
public sealed class PageForms(PaymentSessions sessions, PinTransportKeys keys, GateCodes gates, CardProducts products, CardPayments payments,
    IOptions<GatewayOptions> options)
{
    public async Task<IResult> PageAsync(PaymentSession session, string merchantName, Words? error, int statusCode, CancellationToken ct)
    {
        if (await payments.ChallengeAsync(session, ct) is { } challenge)
        {
            return PaymentPages.Code(sessions.Seal(session), session, merchantName, challenge.PanMasked, error, statusCode);
        }
        var scheme = options.Value.PinTransport == EncryptedPin.RsaOaep ? EncryptedPin.RsaOaep : EncryptedPin.Ecdh;
        var (transportKey, transportCheckValue) = await keys.CurrentAsync(scheme, ct);
        // The session records the transport key's version the page seals to: a rotation meanwhile does not strand the page.
        var sealedSession = session with { PinKeyCheckValue = transportCheckValue };
        return PaymentPages.Payment(sessions.Seal(sealedSession), sealedSession, merchantName, scheme, transportKey, await gates.EnabledAsync(ct),
            await products.CreditPrefixesAsync(ct), error, statusCode);
    }
}
