namespace Mesh.Iso8583.Packaging;

public enum FieldFormat
{
    /// <summary>ASCII digits only.</summary>
    Numeric,
    /// <summary>Printable ASCII (0x20–0x7E).</summary>
    Alphanumeric,
    /// <summary>Raw bytes; the length counts bytes.</summary>
    Binary,
}

public enum LengthKind
{
    Fixed,
    /// <summary>Two ASCII digits of length, then the content.</summary>
    LlVar,
    /// <summary>Three ASCII digits of length, then the content.</summary>
    LllVar,
}

/// <summary>One row of a dialect's table: how a data element looks on the wire.</summary>
public sealed record FieldSpec(int Number, string Name, FieldFormat Format, LengthKind Length, int LengthMax)
{
    public static FieldSpec N(int number, string name, int length) => new(number, name, FieldFormat.Numeric, LengthKind.Fixed, length);
    public static FieldSpec Nll(int number, string name, int lengthMax) => new(number, name, FieldFormat.Numeric, LengthKind.LlVar, lengthMax);
    public static FieldSpec Nlll(int number, string name, int lengthMax) => new(number, name, FieldFormat.Numeric, LengthKind.LllVar, lengthMax);
    public static FieldSpec An(int number, string name, int length) => new(number, name, FieldFormat.Alphanumeric, LengthKind.Fixed, length);
    public static FieldSpec Anll(int number, string name, int lengthMax) => new(number, name, FieldFormat.Alphanumeric, LengthKind.LlVar, lengthMax);
    public static FieldSpec Anlll(int number, string name, int lengthMax) => new(number, name, FieldFormat.Alphanumeric, LengthKind.LllVar, lengthMax);
    public static FieldSpec B(int number, string name, int length) => new(number, name, FieldFormat.Binary, LengthKind.Fixed, length);
}
