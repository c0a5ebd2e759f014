using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BenchmarkDotNet.Attributes;
using Mesh.Gateway.Signatures;
using Mesh.NetPay.Signing;
using GatewayKey = Mesh.Gateway.Merchants.MerchantKey;

namespace Mesh.Benchmarks.SignatureChecks;

/// <summary>
/// Signature checks, as the gateway makes them on every signed merchant request (a <c>/v1</c>
/// order: ECDSA P-256 or RSA-2048 over the canonical digest; a NetPay order: RSA SHA-1 over the
/// concatenated fields), and as a merchant's SDK makes them on every answer and notification the
/// platform signs (ECDSA P-256; RSA-2048 where an installation's key predates that).
/// </summary>
[MemoryDiagnoser]
public class SignatureVerificationBenchmarks
{
    private readonly Dictionary<string, string?> _order = new(StringComparer.Ordinal)
    {
        ["merchantId"] = "808080000000001",
        ["orderId"] = "20261127093015000123",
        ["amountMinor"] = "12345",
        ["currency"] = "CNY",
        ["subject"] = "2 items from the demo shop",
        ["backUrl"] = "https://shop.example/netpay/notify",
        ["frontUrl"] = "https://shop.example/orders/20261127093015000123",
        ["timestamp"] = "2026-11-27T09:30:15Z",
    };

    private byte[] _ecdsaSpki = null!;
    private string _ecdsaSignature = null!;
    private byte[] _rsaSpki = null!;
    private string _rsaSignature = null!;
    private string _netPayText = null!;
    private string _netPayChkValue = null!;
    private X509Certificate2 _platform = null!;
    private string _platformSignature = null!;
    private X509Certificate2 _rsaPlatform = null!;
    private string _rsaPlatformSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        using var ecdsa = MerchantKey.CreateEcdsaP256();
        _ecdsaSpki = ecdsa.Algorithm.ExportSubjectPublicKeyInfo();
        _ecdsaSignature = V1Signature.Sign(_order, ecdsa);

        using var rsa = MerchantKey.CreateRsa(2048);
        _rsaSpki = rsa.Algorithm.ExportSubjectPublicKeyInfo();
        _rsaSignature = V1Signature.Sign(_order, rsa);
        _netPayText = NetPaySignature.OrderText("808080000000001", "0000000123", "000000012345", "156", "20261127", "0001", "20070129", "");
        _netPayChkValue = Convert.ToHexString(((RSA)rsa.Algorithm).SignData(Encoding.UTF8.GetBytes(_netPayText), HashAlgorithmName.SHA1, RSASignaturePadding.Pkcs1));

        using var platformKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _platform = new CertificateRequest("CN=Mesh platform", platformKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        _platformSignature = Convert.ToBase64String(platformKey.SignData(Encoding.ASCII.GetBytes(V1Signature.Digest(_order)), HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));

        using var rsaPlatformKey = RSA.Create(2048);
        _rsaPlatform = new CertificateRequest("CN=Mesh platform", rsaPlatformKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var rsaSigner = MerchantKey.FromPem(rsaPlatformKey.ExportPkcs8PrivateKeyPem());
        _rsaPlatformSignature = V1Signature.Sign(_order, rsaSigner);

        if (!V1OrderEcdsaP256() || !V1OrderRsa2048() || !NetPayOrderRsaSha1() || !PlatformAnswerAtTheMerchant() || !PlatformAnswerAtTheMerchant_Rsa2048())
        {
            throw new InvalidOperationException("a benchmarked signature does not verify");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.Dispose();
        _rsaPlatform.Dispose();
    }

    /// <summary>The gateway: a <c>/v1</c> order signed with the merchant's ECDSA P-256 key.</summary>
    [Benchmark]
    public bool V1OrderEcdsaP256() => CanonicalSignature.IsValid(_ecdsaSpki, GatewayKey.EcdsaP256, _order, _ecdsaSignature);

    /// <summary>The gateway: a <c>/v1</c> order signed with the merchant's RSA-2048 key.</summary>
    [Benchmark]
    public bool V1OrderRsa2048() => CanonicalSignature.IsValid(_rsaSpki, GatewayKey.Rsa, _order, _rsaSignature);

    /// <summary>The gateway: a NetPay form order's ChkValue (RSA-2048, SHA-1).</summary>
    [Benchmark]
    public bool NetPayOrderRsaSha1() => NetPaySignature.IsValid(_rsaSpki, _netPayText, _netPayChkValue);

    /// <summary>The merchant's SDK: the platform's ECDSA P-256 signature (DER) on an answer or a notification.</summary>
    [Benchmark]
    public bool PlatformAnswerAtTheMerchant() => V1Signature.IsPlatformSigned(_order, _platformSignature, _platform);

    /// <summary>The same, from an installation whose platform key is RSA-2048.</summary>
    [Benchmark]
    public bool PlatformAnswerAtTheMerchant_Rsa2048() => V1Signature.IsPlatformSigned(_order, _rsaPlatformSignature, _rsaPlatform);
}
