using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;

namespace Mesh.EndToEnd.Tests;

/// <summary>Operators onboard merchants through the gateway's /admin API.</summary>
[Collection(MeshPlatformCollection.Name)]
public sealed class MerchantOnboardingTests(MeshPlatformFixture platform)
{
    [Fact]
    public async Task Onboard_WithAnRsaCertificate_IsCreated_AndReadBackWithTheKeysFingerprint()
    {
        using var http = await AdminAsync();
        using var rsa = RSA.Create(2048);
        var certificate = new CertificateRequest("CN=Demo Shop", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var id = NewMerchantId();

        using var created = await http.PostAsJsonAsync("/admin/merchants", Application(id, certificate.ExportCertificatePem()));
        var merchant = await http.GetFromJsonAsync<JsonElement>($"/admin/merchants/{id}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/admin/merchants/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("active", merchant.GetProperty("status").GetString());
        Assert.Equal("rsa", merchant.GetProperty("keyAlgorithm").GetString());
        Assert.Equal(2048, merchant.GetProperty("keyBits").GetInt32());
        Assert.True(merchant.GetProperty("hasCertificate").GetBoolean());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo())), merchant.GetProperty("keyFingerprint").GetString());
        Assert.Equal(6_000, merchant.GetProperty("feeRatePpm").GetInt32());
    }

    public static TheoryData<string> AcceptedKeys() => new() { "rsa-1024", "ecdsa-p256" };

    [Theory]
    [MemberData(nameof(AcceptedKeys))]
    public async Task Onboard_WithTheNetPay1024BitKeysOrEcdsaP256_IsAccepted(string kind)
    {
        using var http = await AdminAsync();

        using var created = await http.PostAsJsonAsync("/admin/merchants", Application(NewMerchantId(), PublicKeyPem(kind)));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Onboard_Again_WithTheSameDetails_Is200_WithOtherDetails_Is409_AndTheFirstStays()
    {
        using var http = await AdminAsync();
        var id = NewMerchantId();
        var pem = PublicKeyPem("ecdsa-p256");
        using var first = await http.PostAsJsonAsync("/admin/merchants", Application(id, pem));

        using var same = await http.PostAsJsonAsync("/admin/merchants", Application(id, pem));
        using var other = await http.PostAsJsonAsync("/admin/merchants", Application(id, pem, feeRatePpm: 9_000));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.Equal(6_000, (await http.GetFromJsonAsync<JsonElement>($"/admin/merchants/{id}")).GetProperty("feeRatePpm").GetInt32());
    }

    public static TheoryData<string, string> BadApplications() => new()
    {
        // what is wrong, the field the problem names
        { "short-id", "merchantId" },
        { "not-pem", "publicKeyPem" },
        { "p384", "publicKeyPem" },
        { "private-key", "publicKeyPem" },
        { "mode", "notificationMode" },
        { "protocol", "notificationProtocol" },
        { "fee", "feeRatePpm" },
        { "account", "settlementAccount" },
    };

    [Theory]
    [MemberData(nameof(BadApplications))]
    public async Task Onboard_WithABadField_IsAValidationProblemNamingIt_AndNothingIsStored(string wrong, string field)
    {
        using var http = await AdminAsync();
        var id = NewMerchantId();
        var application = Application(id, PublicKeyPem("ecdsa-p256"));
        application = wrong switch
        {
            "short-id" => application with { merchantId = "12345" },
            "not-pem" => application with { publicKeyPem = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----" },
            "p384" => application with { publicKeyPem = ExportPublicPem(ECDsa.Create(ECCurve.NamedCurves.nistP384)) },
            "private-key" => application with { publicKeyPem = ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKeyPem() },
            "mode" => application with { notificationMode = "carrier-pigeon" },
            "protocol" => application with { notificationProtocol = "ftp" },
            "fee" => application with { feeRatePpm = 200_000 },
            _ => application with { settlementAccount = "12;DROP" },
        };

        using var response = await http.PostAsJsonAsync("/admin/merchants", application);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"the problem names {field}: {problem}");
        using var lookup = await http.GetAsync($"/admin/merchants/{application.merchantId}");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task MalformedJson_IsA400Problem()
    {
        using var http = await AdminAsync();

        using var response = await http.PostAsync("/admin/merchants", new StringContent("{\"merchantId\": ", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-key")]
    public async Task WithoutTheOperatorKey_Is401_AndNothingIsStored(string? key)
    {
        using var http = platform.App.CreateHttpClient("gateway", "http");
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", key);
        }
        var id = NewMerchantId();

        using var response = await http.PostAsJsonAsync("/admin/merchants", Application(id, PublicKeyPem("ecdsa-p256")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var admin = await AdminAsync();
        using var lookup = await admin.GetAsync($"/admin/merchants/{id}");
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    private async Task<HttpClient> AdminAsync()
    {
        var http = platform.App.CreateHttpClient("gateway", "http");
        http.DefaultRequestHeaders.Add("X-Mesh-Admin-Key", await platform.ParameterAsync("gateway-admin-key"));
        return http;
    }

    private static string NewMerchantId() => "8" + RandomNumberGenerator.GetInt32(0, int.MaxValue).ToString("D14", System.Globalization.CultureInfo.InvariantCulture);

    private static ApplicationBody Application(string id, string pem, int feeRatePpm = 6_000) =>
        new(id, "Demo Shop", pem, "realtime", "plain", feeRatePpm, 100, "1202020209000012345");

    private static string PublicKeyPem(string kind) => kind switch
    {
        "rsa-1024" => ExportPublicPem(RSA.Create(1024)),
        _ => ExportPublicPem(ECDsa.Create(ECCurve.NamedCurves.nistP256)),
    };

    private static string ExportPublicPem(AsymmetricAlgorithm key)
    {
        using (key)
        {
            return key.ExportSubjectPublicKeyInfoPem();
        }
    }

#pragma warning disable IDE1006 // the JSON body's property names, as an operator writes them
    private sealed record ApplicationBody(string merchantId, string name, string publicKeyPem, string notificationMode, string notificationProtocol,
        int feeRatePpm, long feeMinimumMinor, string settlementAccount);
#pragma warning restore IDE1006
}
