using System.Collections.Concurrent;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;

namespace Mesh.Hsm.Tests;

/// <summary>Unit-test double of the hsmdb key store; the real one is exercised end to end.</summary>
internal sealed class InMemoryKeyStore : IKeyStore
{
    private readonly ConcurrentDictionary<string, HeldKey> _keys = new();

    public Task<HeldKey> GetAsync(string keyId, CancellationToken ct) =>
        _keys.TryGetValue(keyId, out var key) ? Task.FromResult(key) : throw new HsmException(HsmErrorCode.KeyNotFound, $"no key {keyId}");

    public Task<HeldKey> AddAsync(HeldKey key, CancellationToken ct) => Task.FromResult(_keys.GetOrAdd(key.KeyId, key));

    public Task<HeldKey> ChangePolicyAsync(HeldKey key, KeyPolicy policy, CancellationToken ct) =>
        Task.FromResult(_keys[key.KeyId] = key.WithPolicy(policy));

    public Task<IReadOnlyList<string>> TypesWithCheckValueAsync(string checkValue, string keyId, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>([.. _keys.Values.Where(k => k.KeyId != keyId && k.CheckValue == checkValue).Select(k => k.Type.ToString()).Distinct()]);

    public Task<long> CountAsync(CancellationToken ct) => Task.FromResult((long)_keys.Count);

    public Task<long> ResealAllAsync(Func<HeldKey, byte[]> seal, string lmkCheckValue, CancellationToken ct) => Task.FromResult(0L);

    public Task<long> CountSealedUnderAsync(string lmkCheckValue, CancellationToken ct) => Task.FromResult(0L);
}
