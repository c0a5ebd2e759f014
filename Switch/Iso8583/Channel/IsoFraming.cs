using System.Buffers.Binary;
using Mesh.Iso8583.Packaging;

namespace Mesh.Iso8583.Channel;

public sealed class IsoFramingException(string message) : IOException(message);

/// <summary>Framing only: a 2-byte big-endian length, then the message.</summary>
public static class IsoFraming
{
    public const int HeaderBytes = 2;

    /// <summary>Reads one frame; null when the peer closed the connection between frames.</summary>
    public static async ValueTask<byte[]?> ReadFrameAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[HeaderBytes];
        var read = await ReadFullyAsync(stream, header, ct);
        if (read == 0)
        {
            return null;
        }
        if (read < HeaderBytes)
        {
            throw new IsoFramingException("connection closed inside a frame header");
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(header);
        if (length == 0 || length > IsoPackager.MessageBytesMax)
        {
            // The stream cannot be resynchronised after a bad length: the caller drops the connection.
            throw new IsoFramingException($"frame length {length} outside 1..{IsoPackager.MessageBytesMax}");
        }
        var body = new byte[length];
        if (await ReadFullyAsync(stream, body, ct) < length)
        {
            throw new IsoFramingException("connection closed inside a frame");
        }
        return body;
    }

    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        if (message.Length is 0 or > IsoPackager.MessageBytesMax)
        {
            throw new ArgumentOutOfRangeException(nameof(message), message.Length, "frame body length");
        }
        var frame = new byte[HeaderBytes + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)message.Length);
        message.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    private static async ValueTask<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], ct);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
