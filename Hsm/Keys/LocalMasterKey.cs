using System.Security.Cryptography;
using Mesh.Hsm.Options;
using Mesh.ServiceDefaults.Safety;
using Microsoft.Extensions.Options;

namespace Mesh.Hsm.Keys;

/// <summary>
/// The local master key: an AES-256 key that protects every other key at rest. It comes from a
/// secret (configuration) or a file kept outside the database; in development a random one is
/// created at first start. The key itself is never logged or returned; only its check value is.
/// </summary>
public sealed class LocalMasterKey
{
    public const int KeyBytes = 32;
    private readonly byte[] _key;

    public LocalMasterKey(IOptions<HsmOptions> options, ILogger<LocalMasterKey> logger)
    {
        _key = Load(options.Value, logger);
        Invariant.Holds(_key.Length == KeyBytes, "the LMK is an AES-256 key");
        CheckValue = KeyCheckValue.Aes(_key);
        logger.LogInformation("LMK loaded, check value {LmkCheckValue}", CheckValue);
    }

    public string CheckValue { get; }

    public string Algorithm => "AES-256";

    public byte[] Seal(HeldKey key) => KeyBlock.Seal(_key, key);

    public HeldKey Open(ReadOnlySpan<byte> block, string keyId) => KeyBlock.Open(_key, block, keyId);

    private static byte[] Load(HsmOptions options, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.LmkHex))
        {
            return ParseHex(options.LmkHex);
        }
        var path = options.LmkPath!;
        if (!File.Exists(path))
        {
            if (!options.CreateLmkIfMissing)
            {
                throw new InvalidOperationException($"No LMK at {path}, and creating one is not allowed outside development");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var created = RandomNumberGenerator.GetBytes(KeyBytes);
            using (var file = new FileStream(path, OwnerOnlyNewFile()))
            {
                file.Write(created);
            }
            logger.LogWarning("Created a new development LMK at {LmkPath}", path);
        }
        var key = File.ReadAllBytes(path);
        if (key.Length != KeyBytes)
        {
            throw new InvalidOperationException($"The LMK file {path} holds {key.Length} bytes, expected {KeyBytes}");
        }
        return key;
    }

    private static byte[] ParseHex(string hex)
    {
        try
        {
            var key = Convert.FromHexString(hex.Trim());
            return key.Length == KeyBytes ? key : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"Hsm:LmkHex must be {KeyBytes * 2} hex digits");
        }
    }

    private static FileStreamOptions OwnerOnlyNewFile()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }
}
