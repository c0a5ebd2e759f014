using static Mesh.Iso8583.Packaging.FieldSpec;

namespace Mesh.Iso8583.Packaging;

/// <summary>A dialect: the table of data elements a peer speaks. Data, not code paths.</summary>
public sealed class IsoDialect
{
    private readonly FieldSpec?[] _specs = new FieldSpec?[Messages.IsoMessage.FieldNumberMax + 1];

    public IsoDialect(string name, IEnumerable<FieldSpec> specs)
    {
        Name = name;
        foreach (var spec in specs)
        {
            if (spec.Number is < 2 or > Messages.IsoMessage.FieldNumberMax || _specs[spec.Number] is not null)
            {
                throw new ArgumentException($"Dialect {name}: field {spec.Number} is out of range or defined twice");
            }
            if (spec.LengthMax < 1 || spec.LengthMax > (spec.Length == LengthKind.LlVar ? 99 : 999))
            {
                throw new ArgumentException($"Dialect {name}: field {spec.Number} has an impossible length {spec.LengthMax}");
            }
            _specs[spec.Number] = spec;
        }
    }

    public string Name { get; }

    public FieldSpec? this[int number] => number is >= 2 and <= Messages.IsoMessage.FieldNumberMax ? _specs[number] : null;

    /// <summary>
    /// The 1987 table in the China UnionPay style that Mesh's switch and banks speak
    /// (docs/iso8583.md): ASCII numerics, binary bitmaps, binary PIN block and MAC.
    /// </summary>
    public static IsoDialect UnionPay1987 { get; } = new("cup-1987",
    [
        Nll(2, "Primary account number", 19),
        N(3, "Processing code", 6),
        N(4, "Amount, transaction", 12),
        N(7, "Transmission date and time", 10),
        N(11, "System trace audit number", 6),
        N(12, "Local transaction time", 6),
        N(13, "Local transaction date", 4),
        N(14, "Expiration date", 4),
        N(15, "Settlement date", 4),
        N(18, "Merchant type", 4),
        N(22, "POS entry mode", 3),
        N(25, "POS condition code", 2),
        An(28, "Amount, transaction fee", 9),
        Nll(32, "Acquiring institution id", 11),
        Nll(33, "Forwarding institution id", 11),
        Anll(35, "Track 2 data", 37),
        An(37, "Retrieval reference number", 12),
        An(38, "Authorization id response", 6),
        An(39, "Response code", 2),
        An(41, "Card acceptor terminal id", 8),
        An(42, "Card acceptor id", 15),
        An(43, "Card acceptor name and location", 40),
        Anlll(48, "Additional data, private", 512),
        An(49, "Currency code, transaction", 3),
        B(52, "PIN data", 8),
        N(53, "Security related control information", 16),
        Anlll(54, "Additional amounts", 40),
        Anlll(60, "Reserved private", 100),
        Anlll(61, "Cardholder authentication information", 200),
        Anlll(62, "Reserved private", 512),
        Anlll(63, "Reserved private", 512),
        B(64, "Message authentication code", 8),
        N(70, "Network management information code", 3),
        N(90, "Original data elements", 42),
        B(96, "Message security code", 8),
        Nll(100, "Receiving institution id", 11),
        Anll(102, "Account id 1", 28),
        Anll(103, "Account id 2", 28),
        Anlll(124, "Mesh trace context (private use)", 512),
        B(128, "Message authentication code", 8),
    ]);
}
