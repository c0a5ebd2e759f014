using System.Security.Cryptography;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Mesh.Hsm.Commands;

/// <summary>A0, A4, BU, FA and export: keys come into being, are checked and travel under a ZMK; zone keys change online.</summary>
public sealed class KeyManagement(IKeyStore keys, TimeProvider? clock = null)
{
    public const int ComponentsMin = 2;
    public const int ComponentsMax = 3;
    private readonly TimeProvider _time = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _slotChanges = new(1, 1);

    /// <summary>
    /// A0 mode 1: a new version of a zone key, generated inside the Hsm as the key id's pending
    /// version (accepted, not yet used) and returned only under the link's ZMK, with its check value:
    /// what the key-issuing end of a link sends in a key change.
    /// </summary>
    public async Task<(HeldKey Key, string? KeyBlock, byte[]? Cryptogram)> GenerateVersionAsync(string keyId, string zmkId, bool asKeyBlock, CancellationToken ct)
    {
        var zmk = await RequireAsync(zmkId, KeyType.Zmk, ct);
        var current = await keys.GetAsync(keyId, ct);
        if (current.Type is not (KeyType.Zpk or KeyType.Zak))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {current.Type} does not change online: only zone keys (ZPK, ZAK) do");
        }
        if (StrengthBits(zmk.Algorithm) < StrengthBits(current.Algorithm))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {zmk.Algorithm} ZMK is weaker than the {current.Algorithm} key it would carry");
        }
        if (zmk.IsAes != asKeyBlock)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, zmk.IsAes
                ? "an AES ZMK carries TR-31 key blocks only: a bare cryptogram binds no key type"
                : "TR-31 version D needs an AES ZMK");
        }
        var value = RandomNumberGenerator.GetBytes(HeldKey.LengthOf(current.Algorithm));
        if (!IsAes(current.Algorithm))
        {
            BlockCiphers.SetOddParity(value);
        }
        CheckHalvesDiffer(current.Algorithm, value);
        var slot = await ChangeSlotAsync(keyId, s => s.WithPending(new HeldKey(keyId, current.Type, current.Algorithm, value), _time.GetUtcNow()), ct);
        var pending = slot.Pending!;
        return asKeyBlock ? (pending, Tr31KeyBlock.Wrap(zmk, pending, 'E'), null) : (pending, null, Wrap(zmk, pending.Value));
    }

    /// <summary>
    /// The pending version with that check value becomes the key id's current one; the version it
    /// replaces is accepted for <paramref name="grace"/> more (at most <see cref="KeySlot.GraceMax"/>), then refused.
    /// </summary>
    public Task<KeySlot> ActivateVersionAsync(string keyId, string checkValue, TimeSpan grace, CancellationToken ct)
    {
        if (grace < TimeSpan.Zero || grace > KeySlot.GraceMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a grace window is 0 to {KeySlot.GraceMax.TotalSeconds:0} seconds");
        }
        var retiresAt = _time.GetUtcNow() + grace;
        return ChangeSlotAsync(keyId, s => s.Activate(checkValue.ToUpperInvariant(), retiresAt), ct);
    }

    /// <summary>The pending version with that check value dropped: a key change the other end refused changes nothing.</summary>
    public Task<KeySlot> DiscardVersionAsync(string keyId, string checkValue, CancellationToken ct) =>
        ChangeSlotAsync(keyId, s => s.Discard(checkValue.ToUpperInvariant()), ct);

    /// <summary>The key id's versions.</summary>
    public Task<KeySlot> GetSlotAsync(string keyId, CancellationToken ct) => keys.GetSlotAsync(keyId, ct);

    /// <summary>Every version of a key of <paramref name="type"/> that a MAC or PIN block may be under now (<see cref="KeySlot.AcceptedAt"/>).</summary>
    public async Task<IReadOnlyList<HeldKey>> AcceptedAsync(string keyId, KeyType type, CancellationToken ct)
    {
        var slot = await keys.GetSlotAsync(keyId, ct);
        if (slot.Current.Type != type)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"key {keyId} is a {slot.Current.Type}, this command needs a {type}");
        }
        return slot.AcceptedAt(_time.GetUtcNow());
    }

    /// <summary>One change of a key id's versions at a time (the Hsm is one process); the slot read, changed and saved.</summary>
    private async Task<KeySlot> ChangeSlotAsync(string keyId, Func<KeySlot, KeySlot> change, CancellationToken ct)
    {
        await _slotChanges.WaitAsync(ct);
        try
        {
            var slot = await keys.GetSlotAsync(keyId, ct);
            var changed = change(slot);
            return ReferenceEquals(changed, slot) ? slot : await keys.SaveSlotAsync(changed, ct);
        }
        finally
        {
            _slotChanges.Release();
        }
    }

    public async Task<HeldKey> GenerateAsync(string keyId, KeyType type, KeyAlgorithm algorithm, CancellationToken ct, KeyPolicy? policy = null)
    {
        CheckType(type, algorithm);
        if (KeyPairs.IsKeyPair(algorithm) != type is KeyType.Signing or KeyType.PinTransport or KeyType.Envelope)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {type} is not a {algorithm} key");
        }
        byte[] value;
        if (KeyPairs.IsKeyPair(algorithm))
        {
            value = KeyPairs.Generate(algorithm);
        }
        else
        {
            value = RandomNumberGenerator.GetBytes(HeldKey.LengthOf(algorithm));
            if (!IsAes(algorithm))
            {
                BlockCiphers.SetOddParity(value);
            }
        }
        return await StoreNewAsync(new HeldKey(keyId, type, algorithm, value, policy), ct);
    }

    public async Task<HeldKey> FormFromComponentsAsync(string keyId, KeyType type, KeyAlgorithm algorithm, IReadOnlyList<byte[]> components, CancellationToken ct,
        KeyPolicy? policy = null)
    {
        CheckType(type, algorithm);
        var length = HeldKey.LengthOf(algorithm);
        if (components.Count is < ComponentsMin or > ComponentsMax || components.Any(c => c.Length != length))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"{ComponentsMin} or {ComponentsMax} components of {length} bytes each");
        }
        var value = new byte[length];
        foreach (var component in components)
        {
            if (!IsAes(algorithm) && !BlockCiphers.HasOddParity(component))
            {
                throw new HsmException(HsmErrorCode.KeyParity, "a component does not have odd parity");
            }
            for (var i = 0; i < length; i++)
            {
                value[i] ^= component[i];
            }
        }
        if (!IsAes(algorithm))
        {
            // XOR of an odd number of odd-parity components keeps odd parity; of two, it must be set again.
            BlockCiphers.SetOddParity(value);
        }
        CheckHalvesDiffer(algorithm, value);
        return await StoreNewAsync(new HeldKey(keyId, type, algorithm, value, policy), ct, sameValueOnly: true);
    }

    /// <summary>
    /// FA: a key received under a ZMK, held under <paramref name="policy"/> (no owners when none is
    /// given). A TR-31 block's mode of use and exportability narrow that policy for good: the uses
    /// they leave out are taken from every owner and forbidden (<see cref="KeyPolicy.Forbidding"/>).
    /// As the <paramref name="nextVersion"/> of a key id already held, it becomes that id's pending
    /// version, under the current version's policy (<see cref="KeySlot.WithPending"/>).
    /// </summary>
    public async Task<HeldKey> ImportAsync(string keyId, KeyType type, KeyAlgorithm algorithm, string zmkId, byte[] cryptogram, string expectedCheckValue,
        CancellationToken ct, KeyPolicy? policy = null, string? keyBlock = null, bool nextVersion = false)
    {
        CheckType(type, algorithm);
        var zmk = await RequireAsync(zmkId, KeyType.Zmk, ct);
        if (zmk.IsAes && keyBlock is not { Length: > 0 })
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "an AES ZMK carries TR-31 key blocks only: a bare cryptogram binds no key type");
        }
        var (value, forbidden) = keyBlock is { Length: > 0 }
            ? cryptogram.Length == 0 ? Tr31KeyBlock.Unwrap(zmk, keyBlock, type, algorithm) : throw new HsmException(HsmErrorCode.InvalidInput, "a key block or a cryptogram, not both")
            : new Tr31KeyBlock.Unwrapped(Unwrap(zmk, cryptogram, HeldKey.LengthOf(algorithm)), new HashSet<KeyUse>());
        if (!IsAes(algorithm) && !BlockCiphers.HasOddParity(value))
        {
            throw new HsmException(HsmErrorCode.KeyParity, "the imported key does not have odd parity");
        }
        CheckHalvesDiffer(algorithm, value);
        var key = new HeldKey(keyId, type, algorithm, value, (policy ?? KeyPolicy.None).Forbidding(forbidden));
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(key.CheckValue), System.Text.Encoding.ASCII.GetBytes(expectedCheckValue.ToUpperInvariant())))
        {
            throw new HsmException(HsmErrorCode.VerificationFailure, "the key's check value is not the one announced");
        }
        if (!nextVersion)
        {
            return await StoreNewAsync(key, ct, sameValueOnly: true);
        }
        CheckPinBlockFormats(key);
        if ((await keys.TypesWithCheckValueAsync(key.CheckValue, key.KeyId, ct)).Any(t => t != key.Type.ToString()))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"the Hsm already holds this key (check value {key.CheckValue}) as another type");
        }
        var slot = await ChangeSlotAsync(keyId, s => s.WithPending(key, _time.GetUtcNow()), ct);
        return slot.Pending ?? slot.Current;
    }

    public async Task<(byte[] Cryptogram, string CheckValue)> ExportAsync(string keyId, string zmkId, CancellationToken ct)
    {
        var (zmk, key) = await ExportableAsync(keyId, zmkId, ct);
        if (zmk.IsAes)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "an AES ZMK carries TR-31 key blocks only: a bare cryptogram binds no key type");
        }
        return (Wrap(zmk, key.Value), key.CheckValue);
    }

    /// <summary>The key as a TR-31 version D key block under an AES ZMK, with its check value.</summary>
    public async Task<(string KeyBlock, string CheckValue)> ExportKeyBlockAsync(string keyId, string zmkId, CancellationToken ct)
    {
        var (zmk, key) = await ExportableAsync(keyId, zmkId, ct);
        return (Tr31KeyBlock.Wrap(zmk, key), key.CheckValue);
    }

    private async Task<(HeldKey Zmk, HeldKey Key)> ExportableAsync(string keyId, string zmkId, CancellationToken ct)
    {
        var zmk = await RequireAsync(zmkId, KeyType.Zmk, ct);
        var key = await keys.GetAsync(keyId, ct);
        if (key.Type is not (KeyType.Zpk or KeyType.Zak or KeyType.Tak or KeyType.Tpk))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {key.Type} never leaves the Hsm: only zone and terminal keys are exported");
        }
        if (StrengthBits(zmk.Algorithm) < StrengthBits(key.Algorithm))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {zmk.Algorithm} ZMK is weaker than the {key.Algorithm} key it would carry");
        }
        return (zmk, key);
    }

    /// <summary>The security strength of a symmetric key (NIST SP 800-57): 2-key 3DES 80 bits, 3-key 112.</summary>
    internal static int StrengthBits(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.Tdes2Key => 80,
        KeyAlgorithm.Tdes3Key => 112,
        KeyAlgorithm.Aes128 => 128,
        KeyAlgorithm.Aes256 => 256,
        _ => 0,
    };

    /// <summary>A 3DES key with two equal adjacent halves is single DES in effect: refused (15).</summary>
    private static void CheckHalvesDiffer(KeyAlgorithm algorithm, byte[] value)
    {
        if (algorithm == KeyAlgorithm.Tdes2Key && value.AsSpan(0, 8).SequenceEqual(value.AsSpan(8, 8))
            || algorithm == KeyAlgorithm.Tdes3Key && (value.AsSpan(0, 8).SequenceEqual(value.AsSpan(8, 8)) || value.AsSpan(8, 8).SequenceEqual(value.AsSpan(16, 8))))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "a 3DES key with equal halves is single DES and is refused");
        }
    }

    /// <summary>
    /// Provisioning states each working key's policy: a key that exists with another policy (or an
    /// M1 block, which had none) is re-sealed with the stated one, less the uses its TR-31 block forbade.
    /// </summary>
    public async Task<HeldKey> EnsurePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct)
    {
        // A key received in a TR-31 block keeps what its block forbade, whatever provisioning states.
        var kept = policy.KeepingForbiddenOf(key.Policy);
        return key.Policy.SameAs(kept) ? key : await keys.ChangePolicyAsync(key, kept, ct);
    }

    public Task<HeldKey> GetAsync(string keyId, CancellationToken ct) => keys.GetAsync(keyId, ct);

    /// <summary>A held key of the type a command needs; another type is error 04.</summary>
    /// <summary>
    /// A rotation of a platform key pair (signing, PIN transport, envelope): a new pair of the same
    /// algorithm, generated here, becomes current; the replaced one is accepted for
    /// <paramref name="overlap"/> (at most <see cref="KeySlot.OverlapMax"/>). Made once: naming the
    /// version that was already replaced answers the slot as it is.
    /// </summary>
    public async Task<KeySlot> RotatePairAsync(string keyId, string currentCheckValue, TimeSpan overlap, CancellationToken ct)
    {
        if (overlap < TimeSpan.Zero || overlap > KeySlot.OverlapMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"an overlap is 0 to {KeySlot.OverlapMax.TotalSeconds:0} seconds");
        }
        var current = await keys.GetAsync(keyId, ct);
        if (current.Type is not (KeyType.Signing or KeyType.PinTransport or KeyType.Envelope))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a {current.Type} is not a platform key pair: only signing, PIN transport and envelope keys rotate");
        }
        var value = KeyPairs.Generate(current.Algorithm);
        return await ChangeSlotAsync(keyId, slot =>
        {
            var now = _time.GetUtcNow();
            if (string.Equals(slot.PreviousAt(now)?.CheckValue, currentCheckValue, StringComparison.OrdinalIgnoreCase))
            {
                return slot; // rotated already: the same command again is answered as done
            }
            if (!string.Equals(slot.Current.CheckValue, currentCheckValue, StringComparison.OrdinalIgnoreCase))
            {
                throw new HsmException(HsmErrorCode.InvalidInput, $"{keyId}'s current version is {slot.Current.CheckValue}, not {currentCheckValue}");
            }
            return slot.Rotate(new HeldKey(keyId, current.Type, current.Algorithm, value), now, now + overlap);
        }, ct);
    }

    /// <summary>The version of a key pair of <paramref name="type"/> with <paramref name="checkValue"/>: current, or previous until it retires (<see cref="KeySlot.VersionAt"/>).</summary>
    public async Task<HeldKey> RequireVersionAsync(string keyId, KeyType type, string checkValue, CancellationToken ct)
    {
        var slot = await keys.GetSlotAsync(keyId, ct);
        if (slot.Current.Type != type)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"key {keyId} is a {slot.Current.Type}, this command needs a {type}");
        }
        return slot.VersionAt(checkValue, _time.GetUtcNow());
    }

    public async Task<HeldKey> RequireAsync(string keyId, KeyType type, CancellationToken ct)
    {
        var key = await keys.GetAsync(keyId, ct);
        if (key.Type != type)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"key {keyId} is a {key.Type}, this command needs a {type}");
        }
        return key;
    }

    /// <summary>3DES ZMK: ECB (X9.17 style); AES ZMK: AES key wrap (RFC 3394).</summary>
    internal static byte[] Wrap(HeldKey zmk, byte[] key)
    {
        if (!zmk.IsAes)
        {
            return BlockCiphers.EncryptBlocks(zmk.Value, key);
        }
        var wrap = new AesWrapEngine();
        wrap.Init(true, new KeyParameter(zmk.Value));
        return wrap.Wrap(key, 0, key.Length);
    }

    internal static byte[] Unwrap(HeldKey zmk, byte[] cryptogram, int length)
    {
        try
        {
            if (!zmk.IsAes)
            {
                var clear = BlockCiphers.DecryptBlocks(zmk.Value, cryptogram);
                return clear.Length == length ? clear : throw new HsmException(HsmErrorCode.InvalidInput, "the cryptogram is not of the key's length");
            }
            var wrap = new AesWrapEngine();
            wrap.Init(false, new KeyParameter(zmk.Value));
            var key = wrap.Unwrap(cryptogram, 0, cryptogram.Length);
            return key.Length == length ? key : throw new HsmException(HsmErrorCode.InvalidInput, "the cryptogram is not of the key's length");
        }
        catch (Exception ex) when (ex is ArgumentException or Org.BouncyCastle.Crypto.InvalidCipherTextException)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "the cryptogram cannot be unwrapped under that ZMK");
        }
    }

    /// <summary>
    /// Stores a key under a new id. The same id asked again gives the key it holds (generation at
    /// every start is idempotent); a key made from given material (imported, formed from components)
    /// must be the very key the id holds, or the id is taken (error K2), never silently the old key.
    /// </summary>
    private async Task<HeldKey> StoreNewAsync(HeldKey key, CancellationToken ct, bool sameValueOnly = false)
    {
        CheckPinBlockFormats(key);
        if (sameValueOnly && (await keys.TypesWithCheckValueAsync(key.CheckValue, key.KeyId, ct)).Any(t => t != key.Type.ToString()))
        {
            // Key separation: one key value serves one type. A ZAK brought in again as a ZPK would let
            // PIN blocks be encrypted under the MAC key and compared with MACs of guessed PINs.
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"the Hsm already holds this key (check value {key.CheckValue}) as another type");
        }
        var stored = await keys.AddAsync(key, ct);
        if (stored.Type != key.Type || stored.Algorithm != key.Algorithm)
        {
            throw new HsmException(HsmErrorCode.KeyExists, $"key id {key.KeyId} is taken by a {stored.Type}");
        }
        if (sameValueOnly && !CryptographicOperations.FixedTimeEquals(stored.Value, key.Value))
        {
            throw new HsmException(HsmErrorCode.KeyExists, $"key id {key.KeyId} holds another key (check value {stored.CheckValue})");
        }
        return stored;
    }

    /// <summary>Only a PIN key names PIN block formats, and only those its algorithm can make (4 for AES; 0, 1, 3 for 3DES).</summary>
    private static void CheckPinBlockFormats(HeldKey key)
    {
        if (key.Policy.PinBlockFormats is not { } formats)
        {
            return;
        }
        if (key.Type is not (KeyType.Zpk or KeyType.Tpk))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a {key.Type} carries no PIN blocks: its policy names no PIN block format");
        }
        if (formats.Any(f => (f == Crypto.PinBlockFormat.Iso4) != key.IsAes))
        {
            throw new HsmException(HsmErrorCode.InvalidPinBlockFormat, $"a {key.Algorithm} ZPK carries {(key.IsAes ? "format 4 only" : "formats 0, 1 and 3 only")}");
        }
    }

    private static bool IsAes(KeyAlgorithm algorithm) => algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256;

    private static void CheckType(KeyType type, KeyAlgorithm algorithm)
    {
        if (type == KeyType.Unspecified || !Enum.IsDefined(type))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, "unknown key type");
        }
        if (!KeyPairs.IsKeyPair(algorithm))
        {
            _ = HeldKey.LengthOf(algorithm);
        }
    }
}
