using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.Hsm.Commands;

/// <summary>CY: card verification values under a CVK pair (A ‖ B, double-length).</summary>
public sealed class Cards(KeyManagement keys)
{
    public async Task<string> GenerateCvvAsync(string cvkId, string pan, string expiry, string serviceCode, CancellationToken ct)
    {
        var cvk = await keys.RequireAsync(cvkId, KeyType.Cvk, ct);
        if (cvk.Algorithm != KeyAlgorithm.Tdes2Key)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, "a CVK is a double-length 3DES key");
        }
        return Cvv(cvk.Value, pan, expiry, serviceCode);
    }

    public async Task VerifyCvvAsync(string cvkId, string pan, string expiry, string serviceCode, string cvv, CancellationToken ct)
    {
        var expected = await GenerateCvvAsync(cvkId, pan, expiry, serviceCode, ct);
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(cvv)))
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "CVV verification failed");
        }
    }

    /// <summary>
    /// PAN ‖ expiry (YYMM) ‖ service code, zero-filled to 32 digits; E(A, block 1), XOR block 2,
    /// then 3DES (A, B); the first three decimal digits of the result, then A–F as 0–5.
    /// </summary>
    internal static string Cvv(byte[] cvk, string pan, string expiry, string serviceCode)
    {
        if (pan.Length is < 13 or > 19 || !pan.All(char.IsAsciiDigit) || expiry.Length != 4 || !expiry.All(char.IsAsciiDigit)
            || serviceCode.Length != 3 || !serviceCode.All(char.IsAsciiDigit))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "a CVV needs a 13 to 19 digit PAN, a YYMM expiry and a 3-digit service code");
        }
        var digits = Convert.FromHexString((pan + expiry + serviceCode).PadRight(32, '0'));
        var a = new DesEngine();
        a.Init(true, new KeyParameter(cvk[..8]));
        var block = new byte[8];
        a.ProcessBlock(digits, 0, block, 0);
        for (var i = 0; i < 8; i++)
        {
            block[i] ^= digits[8 + i];
        }
        var result = BlockCiphers.EncryptBlocks(cvk, block);
        return DecimaliseFirst(Convert.ToHexString(result), 3);
    }

    /// <summary>The first <paramref name="count"/> decimal digits of a hex string, then its A–F digits as 0–5.</summary>
    internal static string DecimaliseFirst(string hex, int count)
    {
        var digits = hex.Where(char.IsAsciiDigit)
            .Concat(hex.Where(c => c is >= 'A' and <= 'F').Select(c => (char)('0' + (c - 'A'))))
            .Take(count);
        return new string([.. digits]);
    }
}
