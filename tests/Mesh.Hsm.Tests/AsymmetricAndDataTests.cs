using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using PinFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Tests;

public class AsymmetricAndDataTests
{
    private const string Pan = "6222021234567890128";
    private readonly KeyManagement _keys = new(new InMemoryKeyStore());

    [Fact]
    public async Task BrowserPin_RsaOaepSha256_BecomesAPinBlockUnderTheZpk()
    {
        var transport = await _keys.GenerateAsync("pin-transport-rsa", KeyType.PinTransport, KeyAlgorithm.Rsa2048, default);
        var zpk = await _keys.GenerateAsync("zpk-acq", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        using var browser = RSA.Create();
        browser.ImportSubjectPublicKeyInfo(KeyPairs.PublicKeyInfo(transport.Pair), out _);
        var ciphertext = browser.Encrypt(Encoding.ASCII.GetBytes("session-42|135790"), RSAEncryptionPadding.OaepSHA256);

        var block = await new BrowserPins(_keys).TranslateAsync(new TranslatePinFromBrowserRequest
        {
            TransportKeyId = "pin-transport-rsa",
            Scheme = BrowserPinScheme.RsaOaepSha256,
            Ciphertext = ByteString.CopyFrom(ciphertext),
            SessionNonce = "session-42",
            DestinationZpkId = "zpk-acq",
            DestinationFormat = Contracts.Hsm.PinBlockFormat.Iso3,
            Pan = Pan,
        }, default);

        Assert.Equal("135790", PinAndMac.ReadPin(zpk, block, PinFormat.Iso3, Pan));
    }

    /// <summary>
    /// The transport key is public and the nonce the caller's: were the output deterministic, the
    /// gateway could seal every PIN itself, build each one's block for a card and read the PIN of a
    /// real block by lookup. Only randomly filled formats come out, so equal PINs give unequal blocks.
    /// </summary>
    [Fact]
    public async Task BrowserPin_IntoADeterministicFormat_IsError23_AndTheSamePinTwiceGivesTwoBlocks()
    {
        var transport = await _keys.GenerateAsync("pin-transport-rsa-2", KeyType.PinTransport, KeyAlgorithm.Rsa2048, default);
        await _keys.GenerateAsync("zpk-acq-2", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        using var browser = RSA.Create();
        browser.ImportSubjectPublicKeyInfo(KeyPairs.PublicKeyInfo(transport.Pair), out _);
        TranslatePinFromBrowserRequest Request(Contracts.Hsm.PinBlockFormat format) => new()
        {
            TransportKeyId = "pin-transport-rsa-2",
            Scheme = BrowserPinScheme.RsaOaepSha256,
            Ciphertext = ByteString.CopyFrom(browser.Encrypt(Encoding.ASCII.GetBytes("chosen-nonce|1234"), RSAEncryptionPadding.OaepSHA256)),
            SessionNonce = "chosen-nonce",
            DestinationZpkId = "zpk-acq-2",
            DestinationFormat = format,
            Pan = Pan,
        };
        var pins = new BrowserPins(_keys);

        foreach (var format in new[] { Contracts.Hsm.PinBlockFormat.Iso0, Contracts.Hsm.PinBlockFormat.Iso1 })
        {
            Assert.Equal(HsmErrorCode.InvalidPinBlockFormat, (await Assert.ThrowsAsync<HsmException>(() => pins.TranslateAsync(Request(format), default))).Code);
        }
        var first = await pins.TranslateAsync(Request(Contracts.Hsm.PinBlockFormat.Iso3), default);
        var second = await pins.TranslateAsync(Request(Contracts.Hsm.PinBlockFormat.Iso3), default);
        Assert.NotEqual(Convert.ToHexString(first), Convert.ToHexString(second));
    }

    [Fact]
    public async Task BrowserPin_EcdhP256AesGcm_AsWebCryptoDoesIt_BecomesAPinBlock_AndAnotherSessionIsRefused()
    {
        var transport = await _keys.GenerateAsync("pin-transport-ec", KeyType.PinTransport, KeyAlgorithm.EcP256, default);
        var zpk = await _keys.GenerateAsync("zpk-acq", KeyType.Zpk, KeyAlgorithm.Tdes2Key, default);
        using var hsmPublic = ECDiffieHellman.Create();
        hsmPublic.ImportSubjectPublicKeyInfo(KeyPairs.PublicKeyInfo(transport.Pair), out _);
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var shared = ephemeral.DeriveRawSecretAgreement(hsmPublic.PublicKey);
        var aesKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, [], Encoding.ASCII.GetBytes("mesh pin transport v1"));
        var iv = RandomNumberGenerator.GetBytes(12);
        var plaintext = Encoding.ASCII.GetBytes("order-7|2468");
        var sealedPin = new byte[plaintext.Length + 16];
        using (var gcm = new AesGcm(aesKey, 16))
        {
            gcm.Encrypt(iv, plaintext, sealedPin.AsSpan(0, plaintext.Length), sealedPin.AsSpan(plaintext.Length), Encoding.UTF8.GetBytes("order-7"));
        }
        var point = ephemeral.ExportParameters(false).Q;
        var request = new TranslatePinFromBrowserRequest
        {
            TransportKeyId = "pin-transport-ec",
            Scheme = BrowserPinScheme.EcdhP256AesGcm,
            Ciphertext = ByteString.CopyFrom(sealedPin),
            EphemeralPublicKey = ByteString.CopyFrom([0x04, .. point.X!, .. point.Y!]),
            Iv = ByteString.CopyFrom(iv),
            SessionNonce = "order-7",
            DestinationZpkId = "zpk-acq",
            DestinationFormat = Contracts.Hsm.PinBlockFormat.Iso3,
            Pan = Pan,
        };

        var block = await new BrowserPins(_keys).TranslateAsync(request, default);
        Assert.Equal("2468", PinAndMac.ReadPin(zpk, block, PinFormat.Iso3, Pan));

        request.SessionNonce = "order-8";
        var replay = await Assert.ThrowsAsync<HsmException>(() => new BrowserPins(_keys).TranslateAsync(request, default));
        Assert.Equal(HsmErrorCode.VerificationFailure, replay.Code);
    }

    [Fact]
    public async Task RsaSignature_VerifiesWithBouncyCastle_AndTheHsmVerifiesItBack()
    {
        var key = await _keys.GenerateAsync("platform-signing", KeyType.Signing, KeyAlgorithm.Rsa2048, default);
        var signatures = new Signatures(_keys);
        var data = Encoding.UTF8.GetBytes("merid=808080000000001&orderno=0000000000000001&status=1001");

        var signature = await signatures.SignAsync("platform-signing", data, SignatureScheme.RsaPkcs1Sha256, default);

        var publicKey = (RsaKeyParameters)PublicKeyFactory.CreateKey(KeyPairs.PublicKeyInfo(key.Pair));
        var verifier = new RsaDigestSigner(new Sha256Digest());
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(data, 0, data.Length);
        Assert.True(verifier.VerifySignature(signature));
        await signatures.VerifyAsync(new VerifyRequest
        {
            SubjectPublicKeyInfo = ByteString.CopyFrom(KeyPairs.PublicKeyInfo(key.Pair)),
            Data = ByteString.CopyFrom(data),
            Signature = ByteString.CopyFrom(signature),
            Scheme = SignatureScheme.RsaPkcs1Sha256,
        }, default);
    }

    [Fact]
    public async Task EcdsaSignature_VerifiesWithBouncyCastle_AndATamperedOneIsError01()
    {
        var key = await _keys.GenerateAsync("platform-ec", KeyType.Signing, KeyAlgorithm.EcP256, default);
        var signatures = new Signatures(_keys);
        var data = Encoding.UTF8.GetBytes("answer to sign");

        var signature = await signatures.SignAsync("platform-ec", data, SignatureScheme.EcdsaP256Sha256, default);

        var publicKey = (ECPublicKeyParameters)PublicKeyFactory.CreateKey(KeyPairs.PublicKeyInfo(key.Pair));
        var verifier = new DsaDigestSigner(new ECDsaSigner(), new Sha256Digest(), PlainDsaEncoding.Instance);
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(data, 0, data.Length);
        Assert.True(verifier.VerifySignature(signature));
        signature[10] ^= 1;
        var error = await Assert.ThrowsAsync<HsmException>(() => signatures.VerifyAsync(new VerifyRequest
        {
            KeyId = "platform-ec",
            Data = ByteString.CopyFrom(data),
            Signature = ByteString.CopyFrom(signature),
            Scheme = SignatureScheme.EcdsaP256Sha256,
        }, default));
        Assert.Equal(HsmErrorCode.VerificationFailure, error.Code);
    }

    [Fact]
    public async Task PanAtRest_RoundTrips_HashIsStable_AndTamperingIsError01()
    {
        await _keys.GenerateAsync("dek-pan", KeyType.Dek, KeyAlgorithm.Aes256, default);
        var protection = new DataProtection(_keys);
        var pan = Encoding.ASCII.GetBytes(Pan);

        var (first, hash1) = await protection.EncryptAsync("dek-pan", pan, default);
        var (second, hash2) = await protection.EncryptAsync("dek-pan", pan, default);

        Assert.NotEqual(Convert.ToHexString(first), Convert.ToHexString(second));
        Assert.Equal(Convert.ToHexString(hash1), Convert.ToHexString(hash2));
        Assert.Equal(Pan, Encoding.ASCII.GetString(await protection.DecryptAsync("dek-pan", first, default)));
        Assert.DoesNotContain(Pan, Encoding.ASCII.GetString(first), StringComparison.Ordinal);
        first[^1] ^= 1;
        var error = await Assert.ThrowsAsync<HsmException>(() => protection.DecryptAsync("dek-pan", first, default));
        Assert.Equal(HsmErrorCode.VerificationFailure, error.Code);
    }

    [Fact]
    public async Task PrivateKeys_AreNotExported()
    {
        await _keys.GenerateAsync("zmk", KeyType.Zmk, KeyAlgorithm.Tdes2Key, default);
        await _keys.GenerateAsync("signing", KeyType.Signing, KeyAlgorithm.Rsa2048, default);
        var error = await Assert.ThrowsAsync<HsmException>(() => _keys.ExportAsync("signing", "zmk", default));
        Assert.Equal(HsmErrorCode.InvalidKeyType, error.Code);
    }
}
