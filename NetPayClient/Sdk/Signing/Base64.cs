namespace Mesh.NetPay.Signing;

/// <summary>Signatures arrive as base64 in headers and fields; text that is not base64 is a signature that does not verify.</summary>
internal static class Base64
{
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out var written) || written == 0)
        {
            return false;
        }
        bytes = bytes[..written];
        return true;
    }
}
