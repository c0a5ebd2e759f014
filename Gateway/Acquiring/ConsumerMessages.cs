using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Acquiring;

/// <summary>An issuer's response code (ISO 8583 field 39) in words a consumer understands.</summary>
public static class ConsumerMessages
{
    /// <summary>The English message, as the order keeps it and the merchant's answer carries it (<c>respMsg</c>).</summary>
    public static string For(string? responseCode) => Of(responseCode).English();

    /// <summary>The message as words, so a page says it in the consumer's language (a code without words of its own is named in them).</summary>
    public static Words Of(string? responseCode) => responseCode switch
    {
        "00" => "Payment approved.",
        "05" => "Your bank declined the payment. Please contact your bank or use another card.",
        "13" => "The amount was not accepted by your bank.",
        "14" => "The card number was not recognised by your bank.",
        "15" => "Cards of this bank cannot be used here yet.",
        "33" or "54" => "The card has expired.",
        "41" or "43" => "This card cannot be used. Please contact your bank.",
        "51" => "There are not enough funds on the card.",
        "55" => "The PIN is wrong.",
        "57" or "58" => "This card cannot be used for this purchase.",
        "61" => "The payment is over the card's limit.",
        "75" => "Too many wrong PINs: the card is blocked for today.",
        "1A" => "Your bank has sent a verification code to your phone. Please enter it to confirm the payment.",
        "63" => "The verification code is wrong. Please check the message from your bank and enter it again.",
        "N7" => "The CVV2 is wrong: the payment has failed. Nothing was charged.",
        "91" or "96" => "Your bank did not answer. You have not been charged.",
        _ => new Words("The payment was declined (code {0}).", responseCode ?? ""),
    };
}
