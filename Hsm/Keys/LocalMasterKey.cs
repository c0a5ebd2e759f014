using System.Security.Cryptography;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Options;
using Mesh.ServiceDefaults.Safety;
using Microsoft.Extensions.Options;

namespace Mesh.Hsm.Keys;

/// <summary>
/// The local master key: an AES-256 key that protects every other key at rest. It comes from a
/// secret (configuration) or a file kept outside the database; in development a random one is
/// created at first start. The key itself is never logged or returned; only its check value is.
/// With a file, the LMK can be rotated: the new one is written beside it (<c>.next</c>), the key
/// blocks are re-encrypted, then it becomes current and the old one <c>.previous</c> until erased.
/// </summary>
public sealed class LocalMasterKey
{
    public const int KeyBytes = 32;
    private readonly HsmOptions _options;
    private readonly ILogger<LocalMasterKey> _logger;
    private readonly Lock _rotation = new();
    private Lmk _current;
    private Lmk? _previous;
    private Lmk? _next;

    public LocalMasterKey(IOptions<HsmOptions> options, ILogger<LocalMasterKey> logger)
    {
        _options = options.Value;
        _logger = logger;
        _current = new Lmk(Load(_options, logger));
        if (_options.LmkHex is null && File.Exists(PreviousPath))
        {
            _previous = new Lmk(ReadKeyFile(PreviousPath));
        }
        if (_options.LmkHex is null && File.Exists(NextPath))
        {
            // A rotation stopped between its steps: some blocks may be sealed under the next LMK already.
            _next = new Lmk(ReadKeyFile(NextPath));
            logger.LogWarning("An interrupted LMK rotation to {Next} is pending; run RotateLmk again to finish it", _next.CheckValue);
        }
        logger.LogInformation("LMK loaded, check value {LmkCheckValue}", _current.CheckValue);
    }

    public string CheckValue => _current.CheckValue;

    public string? PreviousCheckValue => _previous?.CheckValue;

    public string Algorithm => "AES-256";

    public bool CanRotate => _options.LmkHex is null && _options.LmkPath is not null;

    private string NextPath => _options.LmkPath + ".next";

    private string PreviousPath => _options.LmkPath + ".previous";

    public byte[] Seal(HeldKey key) => KeyBlock.Seal(_current.Key, key);

    /// <summary>Opens a block sealed under the LMK with that check value: the current one, or the previous during a rotation.</summary>
    public HeldKey Open(ReadOnlySpan<byte> block, string keyId, string lmkCheckValue)
    {
        var lmk = Find(lmkCheckValue) ?? throw new HsmException(HsmErrorCode.VerificationFailure, $"key {keyId} is sealed under an LMK this Hsm does not hold ({lmkCheckValue})");
        return KeyBlock.Open(lmk.Key, block, keyId);
    }

    /// <summary>
    /// Step 1 of a rotation: the new LMK, written to <c>.next</c> before any key block uses it, so
    /// that a crash between the database commit and <see cref="CommitRotation"/> loses nothing. A
    /// pending one from an interrupted rotation is reused.
    /// </summary>
    internal (byte[] Next, string CheckValue) PrepareRotation()
    {
        if (!CanRotate)
        {
            throw new HsmException(HsmErrorCode.CommandDisabled, "the LMK comes from a secret store: rotate it there");
        }
        lock (_rotation)
        {
            if (_previous is not null)
            {
                throw new HsmException(HsmErrorCode.InvalidInput, "erase the previous LMK before rotating again");
            }
            if (_next is null)
            {
                WriteKeyFile(NextPath, RandomNumberGenerator.GetBytes(KeyBytes));
                _next = new Lmk(ReadKeyFile(NextPath));
            }
            return (_next.Key, _next.CheckValue);
        }
    }

    /// <summary>Seals a key under the LMK being rotated to (step 1½: re-encryption).</summary>
    internal static byte[] SealUnder(byte[] lmk, HeldKey key) => KeyBlock.Seal(lmk, key);

    /// <summary>Step 2, after the key blocks are committed under the new LMK: it becomes current.</summary>
    internal void CommitRotation()
    {
        lock (_rotation)
        {
            File.Move(_options.LmkPath!, PreviousPath);
            File.Move(NextPath, _options.LmkPath!);
            _previous = _current;
            _current = _next!;
            _next = null;
            _logger.LogWarning("LMK rotated: check value {Previous} → {Current}", _previous.CheckValue, _current.CheckValue);
        }
    }

    /// <summary>Erases the previous LMK (overwritten, then deleted).</summary>
    internal string ErasePrevious()
    {
        lock (_rotation)
        {
            var previous = _previous ?? throw new HsmException(HsmErrorCode.InvalidInput, "there is no previous LMK to erase");
            File.WriteAllBytes(PreviousPath, new byte[KeyBytes]);
            File.Delete(PreviousPath);
            CryptographicOperations.ZeroMemory(previous.Key);
            _previous = null;
            _logger.LogWarning("Previous LMK {Erased} erased", previous.CheckValue);
            return previous.CheckValue;
        }
    }

    private Lmk? Find(string checkValue)
    {
        var current = _current;
        if (current.CheckValue == checkValue)
        {
            return current;
        }
        var previous = _previous;
        if (previous?.CheckValue == checkValue)
        {
            return previous;
        }
        var next = _next;
        return next?.CheckValue == checkValue ? next : null;
    }

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
            WriteKeyFile(path, RandomNumberGenerator.GetBytes(KeyBytes));
            logger.LogWarning("Created a new development LMK at {LmkPath}", path);
        }
        return ReadKeyFile(path);
    }

    private static byte[] ReadKeyFile(string path)
    {
        var key = File.ReadAllBytes(path);
        if (key.Length != KeyBytes)
        {
            throw new InvalidOperationException($"The LMK file {path} holds {key.Length} bytes, expected {KeyBytes}");
        }
        return key;
    }

    private static void WriteKeyFile(string path, byte[] key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var file = new FileStream(path, options);
        file.Write(key);
        file.Flush(flushToDisk: true);
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

    private sealed class Lmk
    {
        public Lmk(byte[] key)
        {
            Invariant.Holds(key.Length == KeyBytes, "an LMK is an AES-256 key");
            Key = key;
            CheckValue = KeyCheckValue.Aes(key);
        }

        public byte[] Key { get; }

        public string CheckValue { get; }
    }
}
