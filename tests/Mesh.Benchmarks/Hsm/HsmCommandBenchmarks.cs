using System.Text;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Keys;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Benchmarks.Hsm;

/// <summary>
/// The Hsm's commands on a purchase's path, in process: what one costs before any network. A
/// purchase makes about 16 of them (docs/performance.md).
/// </summary>
[MemoryDiagnoser]
public class HsmCommandBenchmarks
{
    private const string Pan = "6222021234567890128";
    private KeyManagement _keys = null!;
    private PinAndMac _pins = null!;
    private PinVerification _verification = null!;
    private Signatures _signatures = null!;
    private BrowserPins _browserPins = null!;
    private byte[] _blockUnderAcquirer = null!;
    private byte[] _message = null!;
    private byte[] _mac = null!;
    private TranslatePinFromBrowserRequest _fromBrowser = null!;
    private VerifyPinRequest _verifyPin = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _keys = new KeyManagement(new InMemoryKeyStore());
        _pins = new PinAndMac(_keys);
        _verification = new PinVerification(_keys);
        _signatures = new Signatures(_keys);
        _browserPins = new BrowserPins(_keys);
        var acquirer = await _keys.GenerateAsync("zpk-acq", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zpk-iss", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("zak", KeyType.Zak, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("pvk", KeyType.Pvk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("signing-rsa", KeyType.Signing, KeyAlgorithm.Rsa2048, default);
        await _keys.GenerateAsync("signing-ec", KeyType.Signing, KeyAlgorithm.EcP256, default);
        var transport = await _keys.GenerateAsync("pin-transport", KeyType.PinTransport, KeyAlgorithm.EcP256, default);
        _blockUnderAcquirer = PinAndMac.WritePin(acquirer, "135790", PinFormat.Iso0, Pan);
        _message = Encoding.ASCII.GetBytes("0200 purchase message of a typical size, with the fields a MAC covers: 2 3 4 7 11 18 25 32 33 41 42");
        _mac = await GenerateMac_RetailMac();
        const string nonce = "session-nonce-of-a-payment-page";
        var sealedPin = PagePinSealing.Seal(KeyPairs.PublicKeyInfo(transport.Pair), nonce, "135790");
        _fromBrowser = new TranslatePinFromBrowserRequest
        {
            TransportKeyId = "pin-transport",
            Scheme = BrowserPinScheme.EcdhP256AesGcm,
            Ciphertext = ByteString.CopyFrom(sealedPin.Ciphertext),
            EphemeralPublicKey = ByteString.CopyFrom(sealedPin.EphemeralPublicKey),
            Iv = ByteString.CopyFrom(sealedPin.Iv),
            SessionNonce = nonce,
            DestinationZpkId = "zpk-acq",
            DestinationFormat = Contracts.Hsm.PinBlockFormat.Iso3,
            Pan = Pan,
        };
        var data = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = "pvk", Pvki = 1, PinLength = 6 };
        data.Pvv = await _verification.GenerateAsync(new GeneratePinVerificationValueRequest
        {
            ZpkId = "zpk-acq",
            PinBlock = ByteString.CopyFrom(_blockUnderAcquirer),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = data,
        }, default);
        _verifyPin = new VerifyPinRequest
        {
            ZpkId = "zpk-acq",
            PinBlock = ByteString.CopyFrom(_blockUnderAcquirer),
            Format = Contracts.Hsm.PinBlockFormat.Iso0,
            Pan = Pan,
            Verification = data,
        };
    }

    [Benchmark]
    public Task<byte[]> TranslatePin_Iso0ToIso3() =>
        _pins.TranslatePinAsync("zpk-acq", "zpk-iss", _blockUnderAcquirer, PinFormat.Iso0, PinFormat.Iso3, Pan, default);

    [Benchmark]
    public Task<byte[]> GenerateMac_RetailMac() =>
        _pins.GenerateMacAsync("zak", _message, Mesh.Hsm.Crypto.MacAlgorithm.Iso9797Alg3, Mesh.Hsm.Crypto.MacPadding.Method2, default);

    [Benchmark]
    public Task VerifyMac_RetailMac() =>
        _pins.VerifyMacAsync("zak", _message, Mesh.Hsm.Crypto.MacAlgorithm.Iso9797Alg3, Mesh.Hsm.Crypto.MacPadding.Method2, _mac, default);

    /// <summary>The PIN as the payment page sealed it (ECDH P-256, HKDF, AES-GCM), to a PIN block under the acquirer's ZPK.</summary>
    [Benchmark]
    public Task<byte[]> TranslatePinFromBrowser_EcdhP256() => _browserPins.TranslateAsync(_fromBrowser, default);

    [Benchmark]
    public Task VerifyPin_VisaPvv() => _verification.VerifyAsync(_verifyPin, default);

    [Benchmark]
    public Task<byte[]> Sign_Rsa2048() => _signatures.SignAsync("signing-rsa", _message, SignatureScheme.RsaPkcs1Sha256, default);

    [Benchmark]
    public Task<byte[]> Sign_EcdsaP256() => _signatures.SignAsync("signing-ec", _message, SignatureScheme.EcdsaP256Sha256, default);
}
