using Mesh.Hsm.Keys;
using Mesh.Hsm.Options;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Hsm.Tests;

public sealed class LocalMasterKeyTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mesh-lmk-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static LocalMasterKey Load(HsmOptions options) =>
        new(Microsoft.Extensions.Options.Options.Create(options), NullLogger<LocalMasterKey>.Instance);

    [Fact]
    public void FromHex_CheckValueIsTheAesKcvOfThatKey()
    {
        var hex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
        var lmk = Load(new HsmOptions { LmkHex = hex });
        Assert.Equal(KeyCheckValue.Aes(Convert.FromHexString(hex)), lmk.CheckValue);
    }

    [Fact]
    public void Development_CreatesAKeyOnce_OwnerOnly_AndReusesIt()
    {
        var path = Path.Combine(_folder, "lmk.key");
        var first = Load(new HsmOptions { LmkPath = path, CreateLmkIfMissing = true });
        var second = Load(new HsmOptions { LmkPath = path, CreateLmkIfMissing = true });

        Assert.Equal(first.CheckValue, second.CheckValue);
        Assert.Equal(LocalMasterKey.KeyBytes, new FileInfo(path).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void MissingKey_OutsideDevelopment_StopsTheHsm()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Load(new HsmOptions { LmkPath = Path.Combine(_folder, "absent.key"), CreateLmkIfMissing = false }));
        Assert.Contains("No LMK", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00")]
    [InlineData("not hex at all")]
    public void MalformedHex_IsRefusedWithoutEchoingIt(string hex)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Load(new HsmOptions { LmkHex = hex }));
        Assert.DoesNotContain(hex, error.Message, StringComparison.Ordinal);
    }
}
