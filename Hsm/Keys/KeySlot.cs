using Mesh.Hsm.Crypto;

namespace Mesh.Hsm.Keys;

/// <summary>
/// One key id and the versions it holds while a zone key changes. <see cref="Current"/> makes every
/// PIN block and MAC; a <see cref="Pending"/> version (generated for, or received from, the other end
/// of a link, not yet in use here) and the <see cref="Previous"/> one, until it retires, are accepted
/// too: a MAC verifies and a PIN block is read under any of them, so traffic under either key goes
/// through while the two ends change over. All versions share one policy: a new version gets the
/// current one's owners and uses. A retired version serves nothing and is dropped at the next change.
/// </summary>
public sealed record KeySlot(HeldKey Current, HeldKey? Pending = null, HeldKey? Previous = null, DateTimeOffset? PreviousRetiresAt = null)
{
    /// <summary>The longest grace window a change may give the previous version.</summary>
    public static readonly TimeSpan GraceMax = TimeSpan.FromHours(24);

    public string KeyId => Current.KeyId;

    /// <summary>The previous version, while its grace window lasts.</summary>
    public HeldKey? PreviousAt(DateTimeOffset now) => Previous is not null && now < PreviousRetiresAt ? Previous : null;

    /// <summary>Every version a MAC or PIN block may be under now: current first, then pending, then previous until it retires.</summary>
    public IReadOnlyList<HeldKey> AcceptedAt(DateTimeOffset now)
    {
        var accepted = new List<HeldKey>(3) { Current };
        if (Pending is not null)
        {
            accepted.Add(Pending);
        }
        if (PreviousAt(now) is { } previous)
        {
            accepted.Add(previous);
        }
        return accepted;
    }

    /// <summary>
    /// <paramref name="next"/> as the pending version, under the current version's policy (narrowed by
    /// what its TR-31 block forbade). The same value again is the slot unchanged; another pending
    /// version is replaced (a change that never completed).
    /// </summary>
    public KeySlot WithPending(HeldKey next, DateTimeOffset now)
    {
        if (next.KeyId != Current.KeyId || next.Type != Current.Type || next.Algorithm != Current.Algorithm)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a new version of {KeyId} is a {Current.Type} ({Current.Algorithm})");
        }
        if (next.CheckValue == Current.CheckValue || next.CheckValue == Previous?.CheckValue)
        {
            if (next.CheckValue == Current.CheckValue && Pending is null)
            {
                return this; // already changed over: a repeated key change is answered as done
            }
            throw new HsmException(HsmErrorCode.InvalidInput, $"{KeyId} already had the key {next.CheckValue}: a new version is a new key");
        }
        if (next.CheckValue == Pending?.CheckValue)
        {
            return this;
        }
        var version = next.WithPolicy(Current.Policy.Forbidding(next.Policy.Forbidden));
        return this with { Pending = version, Previous = PreviousAt(now), PreviousRetiresAt = PreviousAt(now) is null ? null : PreviousRetiresAt };
    }

    /// <summary>
    /// The pending version with <paramref name="checkValue"/> becomes current; the current one is
    /// accepted until <paramref name="retiresAt"/>, then refused. Already current: unchanged (each end
    /// of a link that shares the slot activates it).
    /// </summary>
    public KeySlot Activate(string checkValue, DateTimeOffset retiresAt)
    {
        if (Current.CheckValue == checkValue)
        {
            return this;
        }
        if (Pending?.CheckValue != checkValue)
        {
            throw new HsmException(HsmErrorCode.KeyNotFound, $"{KeyId} has no pending version with check value {checkValue}");
        }
        return new KeySlot(Pending, null, Current, retiresAt);
    }

    /// <summary>The longest overlap a platform key pair's rotation may give the replaced version: merchants fetch its successor meanwhile.</summary>
    public static readonly TimeSpan OverlapMax = TimeSpan.FromDays(30);

    /// <summary>
    /// A key pair's rotation: <paramref name="next"/> (generated under the current version's policy)
    /// becomes current, and the current one is accepted until <paramref name="retiresAt"/>. Refused
    /// while an earlier previous version still overlaps: it would be retired before its time.
    /// </summary>
    public KeySlot Rotate(HeldKey next, DateTimeOffset now, DateTimeOffset retiresAt)
    {
        if (!Current.IsKeyPair || next.KeyId != Current.KeyId || next.Type != Current.Type || next.Algorithm != Current.Algorithm)
        {
            throw new HsmException(HsmErrorCode.InvalidKeyType, $"a new version of {KeyId} is a {Current.Type} key pair ({Current.Algorithm})");
        }
        if (PreviousAt(now) is { } previous)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"{KeyId}'s previous version {previous.CheckValue} overlaps until {PreviousRetiresAt:O}: rotate after it retires");
        }
        return new KeySlot(next.WithPolicy(Current.Policy), null, Current, retiresAt);
    }

    /// <summary>The version with <paramref name="checkValue"/> a key pair's command may use now: the current one, or the previous one until it retires; empty names the current one.</summary>
    public HeldKey VersionAt(string checkValue, DateTimeOffset now)
    {
        if (checkValue.Length == 0 || string.Equals(checkValue, Current.CheckValue, StringComparison.OrdinalIgnoreCase))
        {
            return Current;
        }
        return PreviousAt(now) is { } previous && string.Equals(checkValue, previous.CheckValue, StringComparison.OrdinalIgnoreCase)
            ? previous
            : throw new HsmException(HsmErrorCode.KeyNotFound, $"{KeyId} has no version {checkValue} in use: retired or unknown");
    }

    /// <summary>The pending version with <paramref name="checkValue"/> dropped (a change the other end refused); none: unchanged.</summary>
    public KeySlot Discard(string checkValue) => Pending?.CheckValue == checkValue ? this with { Pending = null } : this;

    /// <summary>Every version under another policy (provisioning, an operator).</summary>
    public KeySlot WithPolicy(KeyPolicy policy) =>
        new(Current.WithPolicy(policy), Pending?.WithPolicy(policy), Previous?.WithPolicy(policy), PreviousRetiresAt);
}
