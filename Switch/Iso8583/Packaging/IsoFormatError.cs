namespace Mesh.Iso8583.Packaging;

/// <summary>
/// Why bytes are not a valid message of the dialect. <see cref="Field"/> is 0 for the MTI or
/// framing, 1 for a bitmap. A switch answers such a message with response code <c>30</c>.
/// </summary>
public sealed record IsoFormatError(int Field, string Reason)
{
    public override string ToString() => Field switch
    {
        0 => $"message: {Reason}",
        1 => $"bitmap: {Reason}",
        _ => $"field {Field}: {Reason}",
    };
}

public sealed class IsoFormatException(IsoFormatError error) : Exception(error.ToString())
{
    public IsoFormatError Error { get; } = error;
}
