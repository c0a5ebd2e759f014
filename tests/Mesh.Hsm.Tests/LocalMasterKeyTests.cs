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

public sealed class LmkRotationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mesh-lmk-rot-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private LocalMasterKey Load() => new(Microsoft.Extensions.Options.Options.Create(
        new HsmOptions { LmkPath = Path.Combine(_folder, "lmk.key"), CreateLmkIfMissing = true }), NullLogger<LocalMasterKey>.Instance);

    private static readonly HeldKey Zpk = new("zpk", Contracts.Hsm.KeyType.Zpk, Contracts.Hsm.KeyAlgorithm.Tdes2Key,
        Convert.FromHexString("0123456789ABCDEFFEDCBA9876543210"));

    [Fact]
    public void Rotation_NewBlocksOpenUnderTheNewLmk_OldBlocksUntilErased()
    {
        var lmk = Load();
        var oldCheckValue = lmk.CheckValue;
        var oldBlock = lmk.Seal(Zpk);

        var (next, nextCheckValue) = lmk.PrepareRotation();
        var newBlock = LocalMasterKey.SealUnder(next, Zpk);
        lmk.CommitRotation();

        Assert.Equal(nextCheckValue, lmk.CheckValue);
        Assert.Equal(oldCheckValue, lmk.PreviousCheckValue);
        Assert.Equal("08D7B4", lmk.Open(newBlock, "zpk", nextCheckValue).CheckValue);
        Assert.Equal("08D7B4", lmk.Open(oldBlock, "zpk", oldCheckValue).CheckValue);

        Assert.Equal(oldCheckValue, lmk.ErasePrevious());
        Assert.False(File.Exists(Path.Combine(_folder, "lmk.key.previous")));
        Assert.Throws<Mesh.Hsm.Crypto.HsmException>(() => lmk.Open(oldBlock, "zpk", oldCheckValue));
        Assert.Equal(nextCheckValue, Load().CheckValue);
    }

    [Fact]
    public void InterruptedRotation_IsPickedUpAtStart_AndFinishedWithTheSameNewLmk()
    {
        var lmk = Load();
        var (next, nextCheckValue) = lmk.PrepareRotation();
        var blockWrittenBeforeTheCrash = LocalMasterKey.SealUnder(next, Zpk);

        var restarted = Load();

        Assert.Equal("08D7B4", restarted.Open(blockWrittenBeforeTheCrash, "zpk", nextCheckValue).CheckValue);
        Assert.Equal(nextCheckValue, restarted.PrepareRotation().CheckValue);
    }

    [Fact]
    public void RotatingAgain_BeforeErasingThePrevious_IsRefused()
    {
        var lmk = Load();
        lmk.PrepareRotation();
        lmk.CommitRotation();
        Assert.Throws<Mesh.Hsm.Crypto.HsmException>(() => lmk.PrepareRotation());
    }
}
