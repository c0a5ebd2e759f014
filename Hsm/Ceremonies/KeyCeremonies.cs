using Mesh.Contracts.Hsm;
using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Crypto;
using Mesh.Hsm.Keys;
using Mesh.Hsm.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Hsm.Ceremonies;

/// <summary>
/// A4 under split knowledge and dual control: each key custodian, authenticated with its own
/// secret, submits one clear component; the Hsm holds it sealed under the LMK; when
/// <c>components_required</c> distinct custodians have submitted, the components are XORed into
/// the key (<see cref="KeyManagement.FormFromComponentsAsync"/>) and erased. No caller, the operator
/// included, can form a key alone, and a custodian cannot submit twice. A ceremony that does not
/// complete is aborted (<see cref="AbortAsync"/>) or expires (<see cref="CeremonyStore"/>,
/// <see cref="CeremonySweep"/>): its components are erased and its key id is free again.
/// </summary>
public sealed class KeyCeremonies(CeremonyStore ceremonies, KeyManagement keys, LocalMasterKey lmk, IOptions<HsmOptions> options)
{
    /// <summary>The custodians the Hsm knows: a ceremony cannot ask for more components than there are custodians to give them.</summary>
    private int Custodians => options.Value.Callers.Values.Count(c => CallerPolicy.Has(c.Role, CallerPolicy.Custodian));

    public async Task<SubmitKeyComponentReply> SubmitAsync(string custodian, SubmitKeyComponentRequest request, CancellationToken ct)
    {
        KeyStore.CheckKeyId(request.KeyId);
        if (request.ComponentsRequired < KeyManagement.ComponentsMin || request.ComponentsRequired > Math.Min(KeyManagement.ComponentsMax, Custodians))
        {
            throw new HsmException(HsmErrorCode.InvalidInput,
                $"a key is formed from {KeyManagement.ComponentsMin} to {Math.Min(KeyManagement.ComponentsMax, Custodians)} components (the custodians this Hsm has)");
        }
        if (request.KeyType == KeyType.Unspecified || !Enum.IsDefined(request.KeyType) || KeyPairs.IsKeyPair(request.Algorithm) || !Enum.IsDefined(request.Algorithm))
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, "components form symmetric keys of a known type");
        }
        var component = request.Component.ToByteArray();
        if (component.Length != HeldKey.LengthOf(request.Algorithm))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a component of a {request.Algorithm} key is {HeldKey.LengthOf(request.Algorithm)} bytes");
        }
        var isAes = request.Algorithm is KeyAlgorithm.Aes128 or KeyAlgorithm.Aes256;
        if (!isAes && !BlockCiphers.HasOddParity(component))
        {
            throw new HsmException(HsmErrorCode.KeyParity, "the component does not have odd parity");
        }
        var policy = KeyPolicy.FromProto(request.Owners, request.PinBlockFormats);
        var wanted = new Ceremony(request.KeyId, request.KeyType.ToString(), request.Algorithm.ToString(), policy.Encode(), request.ComponentsRequired);
        var sealedComponent = new SealedComponent(custodian,
            lmk.Seal(new HeldKey(ComponentId(request.KeyId, custodian), request.KeyType, request.Algorithm, component)), lmk.CheckValue);
        HeldKey? formed = null;
        var outcome = await ceremonies.SubmitAsync(wanted, sealedComponent, async (stored, all) =>
        {
            if (all.Count < stored.ComponentsRequired)
            {
                return false;
            }
            var clear = all.Select(c => lmk.Open(c.Block, ComponentId(stored.KeyId, c.Custodian), c.LmkCheckValue).Value).ToList();
            formed = await keys.FormFromComponentsAsync(request.KeyId, request.KeyType, request.Algorithm, clear, ct, policy);
            return true;
        }, ct);
        var reply = new SubmitKeyComponentReply
        {
            ComponentsReceived = outcome.Components.Count,
            ComponentsRequired = outcome.Stored.ComponentsRequired,
            ComponentCheckValue = isAes ? KeyCheckValue.Aes(component) : KeyCheckValue.TripleDes(component),
            ExpiresAtUnixMs = outcome.ExpiresAt.ToUnixTimeMilliseconds(),
            ExpiredComponentsErased = outcome.ExpiredComponentsErased,
        };
        if (formed is not null)
        {
            reply.Key = formed.ToInfo();
        }
        return reply;
    }

    /// <summary>Ends the ceremony for a key id without forming its key: its components are erased (K1 when none is under way).</summary>
    public async Task<AbortKeyCeremonyReply> AbortAsync(string keyId, CancellationToken ct)
    {
        KeyStore.CheckKeyId(keyId);
        var erased = await ceremonies.AbortAsync(keyId, ct) ?? throw new HsmException(HsmErrorCode.KeyNotFound, $"no key ceremony for {keyId} is under way");
        return new AbortKeyCeremonyReply { ComponentsErased = erased };
    }

    private static string ComponentId(string keyId, string custodian) => $"component:{keyId}:{custodian}";
}
