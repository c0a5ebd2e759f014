namespace Mesh.Iso8583.Messages;

/// <summary>A card number: masked wherever it is shown (first 6, last 4), revealed only by <see cref="Reveal"/>.</summary>
public readonly record struct Pan
{
    private readonly string _digits;

    private Pan(string digits) => _digits = digits;

    public static bool TryParse(string? text, out Pan pan)
    {
        pan = default;
        if (text is null || text.Length is < 13 or > 19 || !text.All(char.IsAsciiDigit) || !LuhnValid(text))
        {
            return false;
        }
        pan = new Pan(text);
        return true;
    }

    /// <summary>The digits themselves: for the Hsm and the wire, never for logs, pages or files.</summary>
    public string Reveal() => _digits;

    public string Masked => Mask(_digits);

    public override string ToString() => Masked;

    public static string Mask(string digits) =>
        digits.Length < 10 ? new string('*', digits.Length) : $"{digits[..6]}{new string('*', digits.Length - 10)}{digits[^4..]}";

    public static bool LuhnValid(string digits) => LuhnSum(digits, doubleEven: false) % 10 == 0;

    /// <summary>The digit that makes <paramref name="body"/> a Luhn-valid card number.</summary>
    public static char LuhnCheckDigit(string body) => (char)('0' + ((10 - (LuhnSum(body, doubleEven: true) % 10)) % 10));

    /// <summary>Luhn: from the right, every second digit doubled (the first one when a check digit is still to come).</summary>
    private static int LuhnSum(string digits, bool doubleEven)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var digit = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == (doubleEven ? 0 : 1))
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }
            sum += digit;
        }
        return sum;
    }
}
