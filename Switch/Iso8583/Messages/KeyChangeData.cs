using System.Globalization;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// Field 48 of a key change (<c>0800</c>, field 70 = <c>101</c>), fixed positions, ASCII:
/// key (3: <c>ZPK</c> or <c>ZAK</c>) ‖ check value (6 uppercase hex) ‖ grace window in seconds (5
/// digits, at most 86,400) ‖ step (1) ‖ the key under the link's ZMK. Step <c>K</c>: the new key
/// in a TR-31 version D key block; <c>C</c>: the new key as a bare cryptogram (32 hex digits); <c>A</c>:
/// activate the key with that check value (nothing follows). The <c>0810</c> carries key (3) ‖ the
/// check value the receiver computed (6). See docs/iso8583.md.
/// </summary>
public sealed record KeyChangeData(string Key, string CheckValue, int GraceSeconds, char Step, string KeyUnderZmk)
{
    public const string Zpk = "ZPK";
    public const string Zak = "ZAK";
    public const char KeyBlockStep = 'K';
    public const char CryptogramStep = 'C';
    public const char ActivateStep = 'A';
    public const int GraceSecondsMax = 86_400;
    public const int KeyBlockCharsMax = 256;
    public const int CryptogramChars = 32;
    private const int HeaderChars = 3 + 6 + 5 + 1;

    /// <summary>The field's text; invariants hold or it is not sent.</summary>
    public string Format()
    {
        Safety.Holds(Key is Zpk or Zak && IsCheckValue(CheckValue) && GraceSeconds is >= 0 and <= GraceSecondsMax && CarriesItsKey(),
            "a key change names its key, check value and grace window, and carries its key or nothing to activate");
        return Key + CheckValue + GraceSeconds.ToString("D5", CultureInfo.InvariantCulture) + Step + KeyUnderZmk;
    }

    /// <summary>The field read back; null when it is not a well-formed key change.</summary>
    public static KeyChangeData? Parse(string? text)
    {
        if (text is null || text.Length < HeaderChars || text[..3] is not (Zpk or Zak) || !IsCheckValue(text[3..9])
            || !int.TryParse(text.AsSpan(9, 5), NumberStyles.None, CultureInfo.InvariantCulture, out var grace) || grace > GraceSecondsMax)
        {
            return null;
        }
        var data = new KeyChangeData(text[..3], text[3..9], grace, text[14], text[HeaderChars..]);
        return data.CarriesItsKey() ? data : null;
    }

    private bool CarriesItsKey() => Step switch
    {
        KeyBlockStep => KeyUnderZmk.Length is > 0 and <= KeyBlockCharsMax && KeyUnderZmk.All(char.IsAsciiLetterOrDigit),
        CryptogramStep => KeyUnderZmk.Length == CryptogramChars && KeyUnderZmk.All(char.IsAsciiHexDigitUpper),
        ActivateStep => KeyUnderZmk.Length == 0,
        _ => false,
    };

    /// <summary>The 0810's field 48: the key and the check value the receiver computed.</summary>
    public static string Answer(string key, string checkValue) => key + checkValue;

    /// <summary>The check value in a 0810's field 48 for <paramref name="key"/>; null when it names another key or is malformed.</summary>
    public static string? CheckValueAnswered(string? text, string key) =>
        text is { Length: 9 } && text[..3] == key && IsCheckValue(text[3..]) ? text[3..] : null;

    private static bool IsCheckValue(string text) => text.Length == 6 && text.All(char.IsAsciiHexDigitUpper);
}
