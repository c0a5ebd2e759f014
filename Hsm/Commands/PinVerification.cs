using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Commands;

/// <summary>
/// DC/EC and their issuing counterparts: a PIN is checked against what the issuer stored for the
/// card, an IBM 3624 offset or a Visa PVV, both derived under the PVK. The PIN itself is never stored.
/// What an attacker would choose is fixed here: the decimalisation table is the Hsm's own
/// (<see cref="DecimalisationTable"/>), the validation data must bind the card ('N'), and a PIN of
/// another length than the one issued fails, so neither command is an oracle for a PIN's digits.
/// </summary>
public sealed class PinVerification(KeyManagement keys)
{
    /// <summary>The IBM 3624 decimalisation table every PVK uses; callers cannot choose another.</summary>
    public const string DecimalisationTable = "0123456789012345";

    public async Task VerifyAsync(VerifyPinRequest request, CancellationToken ct)
    {
        string pin;
        try
        {
            pin = await ReadPinAsync(request.ZpkId, request.PinBlock.ToByteArray(), request.Format, request.Pan, ct);
        }
        catch (HsmException ex) when (ex.Code == HsmErrorCode.PinBlockInvalid)
        {
            // A block that does not read under this PAN is a wrong PIN to the caller: 20 against 01
            // would say which PAN changes keep the PIN digits valid, an oracle on the digits.
            throw new HsmException(HsmErrorCode.VerificationFailure, "PIN verification failed");
        }
        var pvk = await keys.RequireAsync(request.Verification.PvkId, KeyType.Pvk, ct);
        CheckIssuedLength(request.Verification.PinLength);
        var expected = Compute(pvk, pin, request.Pan, request.Verification);
        var stored = request.Verification.Method == PinVerificationMethod.Ibm3624Offset ? request.Verification.Offset : request.Verification.Pvv;
        var sameLength = pin.Length == request.Verification.PinLength;
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(stored)) | !sameLength)
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "PIN verification failed");
        }
    }

    private static void CheckIssuedLength(int pinLength)
    {
        if (pinLength is < PinBlocks.PinLengthMin or > PinBlocks.PinLengthMax)
        {
            throw new HsmException(HsmErrorCode.PinLength, $"the issued PIN length is {PinBlocks.PinLengthMin} to {PinBlocks.PinLengthMax}");
        }
    }

    public async Task<string> GenerateAsync(GeneratePinVerificationValueRequest request, CancellationToken ct)
    {
        var pin = await ReadPinAsync(request.ZpkId, request.PinBlock.ToByteArray(), request.Format, request.Pan, ct);
        var pvk = await keys.RequireAsync(request.Verification.PvkId, KeyType.Pvk, ct);
        return Compute(pvk, pin, request.Pan, request.Verification);
    }

    private async Task<string> ReadPinAsync(string zpkId, byte[] block, Contracts.Hsm.PinBlockFormat format, string pan, CancellationToken ct)
    {
        var versions = await keys.AcceptedAsync(zpkId, KeyType.Zpk, ct);
        return PinAndMac.ReadPin(versions, block, (Crypto.PinBlockFormat)format, string.IsNullOrEmpty(pan) ? null : pan);
    }

    private static string Compute(HeldKey pvk, string pin, string pan, PinVerificationData data)
    {
        if (pvk.IsAes || pvk.Algorithm != KeyAlgorithm.Tdes2Key)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, "a PVK is a double-length 3DES key");
        }
        return data.Method switch
        {
            PinVerificationMethod.Ibm3624Offset when !data.ValidationData.Contains('N', StringComparison.Ordinal) =>
                throw new HsmException(HsmErrorCode.InvalidInput, "the PIN validation data binds the card: it contains 'N'"),
            PinVerificationMethod.Ibm3624Offset => Ibm3624Offset(pvk.Value, pin, pan, data.DecimalisationTable, data.ValidationData),
            PinVerificationMethod.VisaPvv => VisaPvv(pvk.Value, pin, pan, data.Pvki),
            _ => throw new HsmException(HsmErrorCode.InvalidInput, "unknown PIN verification method"),
        };
    }

    /// <summary>
    /// IBM 3624: encrypt the validation data under the PVK, decimalise the result with the table,
    /// take as many digits as the PIN has (the natural PIN); the offset is PIN − natural PIN, digit by digit, mod 10.
    /// </summary>
    internal static string Ibm3624Offset(byte[] pvk, string pin, string pan, string table, string validationData)
    {
        if (table.Length != 0 && table != DecimalisationTable)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the decimalisation table is the Hsm's own; send none");
        }
        table = DecimalisationTable;
        var data = validationData.Replace("N", LastFiveBeforeCheckDigit(pan), StringComparison.Ordinal);
        if (data.Length != 16 || !data.All(char.IsAsciiHexDigit))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the PIN validation data is 16 hex digits ('N' stands for 5 PAN digits)");
        }
        var encrypted = Convert.ToHexString(BlockCiphers.EncryptBlocks(pvk, Convert.FromHexString(data)));
        var offset = new char[pin.Length];
        for (var i = 0; i < pin.Length; i++)
        {
            var natural = table[Convert.ToInt32(encrypted[i].ToString(), 16)] - '0';
            offset[i] = (char)('0' + ((pin[i] - '0' - natural + 10) % 10));
        }
        return new string(offset);
    }

    /// <summary>
    /// Visa PVV: the 11 rightmost PAN digits before the check digit, the PVKI and the first 4 PIN
    /// digits, encrypted under the PVK; the first 4 decimal digits of the result, then A–F as 0–5.
    /// </summary>
    internal static string VisaPvv(byte[] pvk, string pin, string pan, int pvki)
    {
        if (pvki is < 0 or > 6)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the PVK index is 0 to 6");
        }
        var panDigits = CheckPan(pan);
        var tsp = string.Concat(panDigits[^12..^1], pvki.ToString(System.Globalization.CultureInfo.InvariantCulture), pin[..4]);
        var encrypted = Convert.ToHexString(BlockCiphers.EncryptBlocks(pvk, Convert.FromHexString(tsp)));
        return Cards.DecimaliseFirst(encrypted, 4);
    }

    private static string LastFiveBeforeCheckDigit(string pan) => CheckPan(pan)[^6..^1];

    private static string CheckPan(string pan) =>
        pan.Length is >= 13 and <= 19 && pan.All(char.IsAsciiDigit)
            ? pan
            : throw new HsmException(HsmErrorCode.InvalidInput, "PIN verification needs the 13 to 19 digit PAN");
}
