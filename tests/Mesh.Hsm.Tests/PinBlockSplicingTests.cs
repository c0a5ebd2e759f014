using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Grpc;

namespace Mesh.Hsm.Tests;

/// <summary>
/// A batch's MAC over the PIN block an earlier command of the batch made: the block's hex goes
/// where the ISO MAC input has field 52, and every reference that does not name such a block is
/// refused (15). Over gRPC, with the switch's and the gateway's keys, in the end-to-end <c>HsmTests</c>.
/// </summary>
public class PinBlockSplicingTests
{
    private static readonly byte[] K1K2 = Convert.FromHexString("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
    private const string Before = "0200 6222020000000015 000000 000000012345 000001 3012 CV2123 156 ";
    private const string After = " 020000000112050346220000801000000000000000";
    private const string PinBlockHex = "041234FEFFFFFFFF";

    private static GenerateMacRequest MacRequest(uint commandIndex, uint? offset = null) => new()
    {
        KeyId = "switch.zak",
        Data = ByteString.CopyFromUtf8(Before + After),
        Algorithm = Contracts.Hsm.MacAlgorithm.Iso9797Alg3,
        Padding = Contracts.Hsm.MacPadding.Method1,
        PinBlockFromBatch = new PinBlockSplice { CommandIndex = commandIndex, Offset = offset ?? (uint)Before.Length },
    };

    private static HsmCommand Translation() => new() { TranslatePin = new TranslatePinRequest { SourceZpkId = "gateway.zpk", DestinationZpkId = "bank.zpk" } };

    private static HsmResult Translated() => new() { TranslatePin = new TranslatePinReply { PinBlock = ByteString.CopyFrom(Convert.FromHexString(PinBlockHex)) } };

    private static BatchSoFar Batch(HsmCommand first, HsmResult firstResult, GenerateMacRequest mac) =>
        new([first, new HsmCommand { GenerateMac = mac }], [firstResult]);

    [Fact]
    public void TheSplicedMac_IsTheMacOfTheCompletedMessage_KnownAnswer()
    {
        var request = MacRequest(commandIndex: 0);

        var spliced = PinBlockSplicing.Spliced(request, Batch(Translation(), Translated(), request));

        Assert.Equal(Before + PinBlockHex + After, spliced.Data.ToStringUtf8());
        Assert.Null(spliced.PinBlockFromBatch);
        Assert.Equal((request.KeyId, request.Algorithm, request.Padding), (spliced.KeyId, spliced.Algorithm, spliced.Padding));
        // ISO 9797-1 algorithm 3, padding 1, K1 = AAAAAAAAAAAAAAAA, K2 = BBBBBBBBBBBBBBBB, cross-checked with Python's cryptography.
        Assert.Equal("9F9E98C75574EB39", Convert.ToHexString(MessageAuthentication.Compute(Crypto.MacAlgorithm.Iso9797Alg3, Crypto.MacPadding.Method1, K1K2,
            spliced.Data.ToByteArray())));
    }

    [Fact]
    public void TheBrowsersPinBlock_IsSplicedToo_AndAnOffsetAtTheEnd_AppendsIt()
    {
        var request = MacRequest(commandIndex: 0, offset: (uint)(Before + After).Length);
        var browserPin = new HsmCommand { TranslatePinFromBrowser = new TranslatePinFromBrowserRequest { DestinationZpkId = "gateway.zpk" } };
        var madeFromBrowser = new HsmResult { TranslatePinFromBrowser = Translated().TranslatePin };

        var spliced = PinBlockSplicing.Spliced(request, Batch(browserPin, madeFromBrowser, request));

        Assert.Equal(Before + After + PinBlockHex, spliced.Data.ToStringUtf8());
    }

    [Fact]
    public void AReferenceToItself_OrALaterCommand_IsRefused()
    {
        var itself = MacRequest(commandIndex: 1);
        var later = MacRequest(commandIndex: 2);
        var batch = new BatchSoFar([Translation(), new HsmCommand { GenerateMac = itself }, Translation()], [Translated()]);

        AssertRefused("does not come before this GenerateMac", () => PinBlockSplicing.Spliced(itself, batch));
        AssertRefused("does not come before this GenerateMac", () => PinBlockSplicing.Spliced(later, batch));
    }

    [Fact]
    public void AReferenceToACommandThatMakesNoPinBlock_IsRefused()
    {
        var request = MacRequest(commandIndex: 0);
        var encryption = new HsmCommand { EncryptData = new EncryptDataRequest { DekId = "gateway.dek" } };
        var encrypted = new HsmResult { EncryptData = new EncryptDataReply { Ciphertext = ByteString.CopyFrom(Convert.FromHexString(PinBlockHex)) } };

        AssertRefused("(EncryptData), which is not a TranslatePin or TranslatePinFromBrowser", () => PinBlockSplicing.Spliced(request, Batch(encryption, encrypted, request)));
    }

    [Fact]
    public void AMacOverAPinTranslationThatWasRefused_IsRefused()
    {
        var request = MacRequest(commandIndex: 0);
        var refused = new HsmResult { Refusal = new HsmRefusal { StatusCode = (int)StatusCode.InvalidArgument, HsmErrorCode = HsmErrorCode.PinBlockInvalid } };

        AssertRefused("command 0 of the batch was refused", () => PinBlockSplicing.Spliced(request, Batch(Translation(), refused, request)));
    }

    [Fact]
    public void AnOffsetPastTheEndOfTheData_IsRefused()
    {
        var request = MacRequest(commandIndex: 0, offset: (uint)(Before + After).Length + 1);

        AssertRefused("past the end of the data", () => PinBlockSplicing.Spliced(request, Batch(Translation(), Translated(), request)));
    }

    private static void AssertRefused(string why, Func<GenerateMacRequest> splice)
    {
        var refused = Assert.Throws<HsmException>(splice);
        Assert.Equal(HsmErrorCode.InvalidInput, refused.Code);
        Assert.Contains(why, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PinBlockHex, refused.Message, StringComparison.Ordinal);
    }
}
