using System.Collections.Concurrent;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Testing;

/// <summary>Unit-test double of the hsmdb key store; the real one is exercised end to end.</summary>
public sealed class InMemoryKeyStore : IKeyStore
{
    private readonly ConcurrentDictionary<string, KeySlot> _keys = new();

    public async Task<HeldKey> GetAsync(string keyId, CancellationToken ct) => (await GetSlotAsync(keyId, ct)).Current;

    public Task<KeySlot> GetSlotAsync(string keyId, CancellationToken ct) =>
        _keys.TryGetValue(keyId, out var slot) ? Task.FromResult(slot) : throw new HsmException(HsmErrorCode.KeyNotFound, $"no key {keyId}");

    public Task<KeySlot> SaveSlotAsync(KeySlot slot, CancellationToken ct) => Task.FromResult(_keys[slot.KeyId] = slot);

    public Task<HeldKey> AddAsync(HeldKey key, CancellationToken ct) => Task.FromResult(_keys.GetOrAdd(key.KeyId, new KeySlot(key)).Current);

    public Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct) =>
        Task.FromResult((_keys[key.KeyId] = _keys[key.KeyId].WithPolicy(policy)).Current);

    public Task<IReadOnlyList<string>> TypesWithCheckValueAsync(string checkValue, string keyId, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>([.. _keys.Values.Where(s => s.KeyId != keyId)
            .Where(s => checkValue == s.Current.CheckValue || checkValue == s.Pending?.CheckValue || checkValue == s.Previous?.CheckValue)
            .Select(s => s.Current.Type.ToString()).Distinct()]);

    public Task<long> CountAsync(CancellationToken ct) => Task.FromResult((long)_keys.Count);

    public Task<long> ResealAllAsync(Func<HeldKey, byte[]> seal, string lmkCheckValue, CancellationToken ct) => Task.FromResult(0L);

    public Task<long> CountSealedUnderAsync(string lmkCheckValue, CancellationToken ct) => Task.FromResult(0L);
}
