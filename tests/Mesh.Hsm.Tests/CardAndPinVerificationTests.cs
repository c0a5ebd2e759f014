using System.Security.Cryptography;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Tests;

public class CardAndPinVerificationTests
{
    private static readonly byte[] CvkAB = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");

    [Theory]
    // The classic published CVV example: PAN 4123456789012345, expiry 8701, service code 101.
    [InlineData("4123456789012345", "8701", "101", "561")]
    // Cross-checked with an independent implementation (Visa CAVV output uses the CVV method).
    [InlineData("4123456789012345", "7993", "700", "972")]
    public void Cvv_KnownAnswers(string pan, string expiry, string serviceCode, string expected) =>
        Assert.Equal(expected, Cards.Cvv(CvkAB, pan, expiry, serviceCode));

    [Fact]
    public void VisaPvv_MatchesAnIndependentDotNetComputation()
    {
        var pvk = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");
        const string pan = "4123456789012345";
        using var des = TripleDES.Create();
        des.Key = [.. pvk, .. pvk[..8]];
        var encrypted = Convert.ToHexString(des.EncryptEcb(Convert.FromHexString("45678901234" + "1" + "1234"), PaddingMode.None));
        var decimals = encrypted.Where(char.IsAsciiDigit).Concat(encrypted.Where(char.IsAsciiLetter).Select(c => (char)(c - 'A' + '0')));
        var expected = new string([.. decimals.Take(4)]);

        Assert.Equal(expected, PinVerification.VisaPvv(pvk, "1234", pan, pvki: 1));
    }

    [Fact]
    public void Ibm3624Offset_MatchesAnIndependentDotNetComputation()
    {
        var pvk = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");
        const string table = "0123456789012345";
        const string pan = "4123456789012345";
        using var des = TripleDES.Create();
        des.Key = [.. pvk, .. pvk[..8]];
        var encrypted = Convert.ToHexString(des.EncryptEcb(Convert.FromHexString("1234567890189014"), PaddingMode.None));
        var natural = encrypted[..4].Select(c => table[Convert.ToInt32(c.ToString(), 16)] - '0').ToArray();
        var expected = string.Concat("4321".Select((c, i) => (char)('0' + ((c - '0' - natural[i] + 10) % 10))));

        Assert.Equal(expected, PinVerification.Ibm3624Offset(pvk, "4321", pan, table, "1234567890189014"));
    }

    [Fact]
    public void Ibm3624ValidationData_N_StandsForTheFivePanDigitsBeforeTheCheckDigit()
    {
        var pvk = Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210");
        Assert.Equal(
            PinVerification.Ibm3624Offset(pvk, "4321", "4123456789012345", "0123456789012345", "1234567890101234"),
            PinVerification.Ibm3624Offset(pvk, "4321", "4123456789012345", "0123456789012345", "12345678901N"));
    }

    [Fact]
    public async Task VerifyPin_WithTheGeneratedOffsetOrPvv_Passes_AndAWrongPinIsError01()
    {
        var keys = new KeyManagement(new InMemoryKeyStore());
        var zpk = await keys.GenerateAsync("zpk-iss", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await keys.GenerateAsync("pvk", KeyType.Pvk, KeyAlgorithm.Tdes2Key, default);
        var verification = new PinVerification(keys);
        const string pan = "6222021234567890128";
        foreach (var method in new[] { PinVerificationMethod.Ibm3624Offset, PinVerificationMethod.VisaPvv })
        {
            var data = new PinVerificationData
            {
                Method = method,
                PvkId = "pvk",
                DecimalisationTable = "0123456789012345",
                ValidationData = "ABCDEF01234N",
                Pvki = 1,
                PinLength = 6,
            };
            var good = PinAndMac.WritePin(zpk, "246810", PinFormat.Iso0, pan);
            var value = await verification.GenerateAsync(new GeneratePinVerificationValueRequest
            {
                ZpkId = "zpk-iss",
                PinBlock = ByteString.CopyFrom(good),
                Format = Contracts.Hsm.PinBlockFormat.Iso0,
                Pan = pan,
                Verification = data,
            }, default);
            if (method == PinVerificationMethod.Ibm3624Offset)
            {
                data.Offset = value;
            }
            else
            {
                data.Pvv = value;
            }

            await verification.VerifyAsync(new VerifyPinRequest
            {
                ZpkId = "zpk-iss",
                PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, "246810", PinFormat.Iso3, pan)),
                Format = Contracts.Hsm.PinBlockFormat.Iso3,
                Pan = pan,
                Verification = data,
            }, default);
            var wrong = await Assert.ThrowsAsync<HsmException>(() => verification.VerifyAsync(new VerifyPinRequest
            {
                ZpkId = "zpk-iss",
                PinBlock = ByteString.CopyFrom(PinAndMac.WritePin(zpk, "146810", PinFormat.Iso0, pan)),
                Format = Contracts.Hsm.PinBlockFormat.Iso0,
                Pan = pan,
                Verification = data,
            }, default));
            Assert.Equal(HsmErrorCode.VerificationFailure, wrong.Code);
        }
    }
}
