using System.Collections.Frozen;
using System.Globalization;
using Mesh.Contracts.Hsm;
using Mesh.Hsm.Crypto;
using PinBlockFormat = Mesh.Hsm.Crypto.PinBlockFormat;

namespace Mesh.Hsm.Keys;

/// <summary>
/// Who may use a key, and how: each owner (a caller of the Hsm, by name) with the uses it may make
/// of the key, and for a PIN key the PIN block formats it may carry (in or out of a translation).
/// It travels in the key block's authenticated header (as TR-31's key usage and mode of use do), so
/// it cannot be changed without the LMK. A key with no owners serves no command. A key received in
/// a TR-31 block keeps, for its life, the uses the block's mode of use and exportability forbid
/// (<see cref="Forbidden"/>): no owner, the operator included, ever makes them.
/// </summary>
public sealed class KeyPolicy
{
    public const int OwnersMax = 8;
    public const int CallerNameLengthMax = 48;
    private const string PinBlockFormatsEntry = "#pin=";
    private const string ForbiddenEntry = "#forbid=";

    public static readonly KeyPolicy None = new(FrozenDictionary<string, FrozenSet<KeyUse>>.Empty, null, FrozenSet<KeyUse>.Empty);

    private readonly FrozenDictionary<string, FrozenSet<KeyUse>> _owners;

    private readonly FrozenSet<PinBlockFormat>? _pinBlockFormats;
    private readonly FrozenSet<KeyUse> _forbidden;

    private KeyPolicy(FrozenDictionary<string, FrozenSet<KeyUse>> owners, FrozenSet<PinBlockFormat>? pinBlockFormats, FrozenSet<KeyUse> forbidden)
    {
        _owners = owners;
        _pinBlockFormats = pinBlockFormats;
        _forbidden = forbidden;
    }

    /// <summary>Uses no one may make of the key, whatever its owners are given: what the TR-31 block it arrived in forbade.</summary>
    public IReadOnlySet<KeyUse> Forbidden => _forbidden;

    /// <summary>
    /// The same policy with <paramref name="uses"/> forbidden for good: taken from every owner, and
    /// kept through any later change of owners (<see cref="KeepingForbiddenOf"/>).
    /// </summary>
    public KeyPolicy Forbidding(IEnumerable<KeyUse> uses)
    {
        var forbidden = Forbidden.Concat(uses).ToFrozenSet();
        return new KeyPolicy(_owners.ToFrozenDictionary(o => o.Key, o => o.Value.Except(forbidden).ToFrozenSet(), StringComparer.Ordinal), _pinBlockFormats, forbidden);
    }

    /// <summary>This policy, with what <paramref name="current"/> forbids still forbidden: a new statement of owners never widens a key beyond its block.</summary>
    public KeyPolicy KeepingForbiddenOf(KeyPolicy current) => current.Forbidden.Count == 0 ? this : Forbidding(current.Forbidden);

    /// <summary>The PIN block formats the key's policy names, or null where it names none (the key's algorithm then decides: <see cref="HeldKey.PinBlockFormats"/>).</summary>
    public IReadOnlySet<PinBlockFormat>? PinBlockFormats => _pinBlockFormats;

    /// <summary>The same owners, and these PIN block formats (at least one, each a known one).</summary>
    public KeyPolicy WithPinBlockFormats(IEnumerable<PinBlockFormat> formats)
    {
        var set = formats.ToFrozenSet();
        if (set.Count == 0 || set.Any(f => !Enum.IsDefined(f)))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "a PIN key's policy names at least one known PIN block format");
        }
        return new KeyPolicy(_owners, set, _forbidden);
    }

    public IEnumerable<string> Owners => _owners.Keys.Order(StringComparer.Ordinal);

    public bool IsOwnedBy(string caller) => _owners.ContainsKey(caller);

    public bool Allows(string caller, KeyUse use) => _owners.TryGetValue(caller, out var uses) && uses.Contains(use);

    public IReadOnlySet<KeyUse> UsesOf(string caller) => _owners.TryGetValue(caller, out var uses) ? uses : FrozenSet<KeyUse>.Empty;

    /// <summary>A policy from owners and their uses; an unknown use, a bad caller name or too many owners is error 15.</summary>
    public static KeyPolicy Of(IEnumerable<(string Caller, IEnumerable<KeyUse> Uses)> owners)
    {
        var map = new Dictionary<string, HashSet<KeyUse>>(StringComparer.Ordinal);
        foreach (var (caller, uses) in owners)
        {
            CheckCallerName(caller);
            if (!map.TryGetValue(caller, out var set))
            {
                map[caller] = set = [];
            }
            foreach (var use in uses)
            {
                if (use == KeyUse.Unspecified || !Enum.IsDefined(use))
                {
                    throw new HsmException(HsmErrorCode.InvalidInput, $"unknown key use {(int)use}");
                }
                set.Add(use);
            }
        }
        if (map.Count > OwnersMax)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"a key has at most {OwnersMax} owners");
        }
        return new KeyPolicy(map.ToFrozenDictionary(o => o.Key, o => o.Value.ToFrozenSet(), StringComparer.Ordinal), null, FrozenSet<KeyUse>.Empty);
    }

    public static KeyPolicy FromProto(IEnumerable<KeyOwner> owners) => Of(owners.Select(o => (o.Caller, (IEnumerable<KeyUse>)o.Uses)));

    /// <summary>Owners and, when any are named, the PIN block formats of a request.</summary>
    public static KeyPolicy FromProto(IEnumerable<KeyOwner> owners, IReadOnlyCollection<Contracts.Hsm.PinBlockFormat> pinBlockFormats)
    {
        var policy = FromProto(owners);
        return pinBlockFormats.Count == 0 ? policy : policy.WithPinBlockFormats(pinBlockFormats.Select(f => (PinBlockFormat)f));
    }

    public IEnumerable<KeyOwner> ToProto() =>
        Owners.Select(o => new KeyOwner { Caller = o, Uses = { _owners[o].Order() } });

    /// <summary>The same uses for other owners: an imported zone key serves both ends of the ZMK's link.</summary>
    public KeyPolicy For(IEnumerable<string> callers, params KeyUse[] uses) => Of(callers.Select(c => (c, (IEnumerable<KeyUse>)uses)));

    /// <summary>
    /// Header form, e.g. <c>gateway=1.3.4;switch=2.3.4;#pin=0.3;#forbid=2.17</c>: owners in order,
    /// uses by number, then the PIN block formats when the policy names them and the forbidden uses
    /// when there are any (<c>#</c> is never in a caller's name).
    /// </summary>
    public string Encode()
    {
        var entries = Owners.Select(o => $"{o}={Numbers(_owners[o].Order().Select(u => (int)u))}");
        if (PinBlockFormats is { } formats)
        {
            entries = entries.Append(PinBlockFormatsEntry + Numbers(formats.Order().Select(f => (int)f)));
        }
        if (Forbidden.Count > 0)
        {
            entries = entries.Append(ForbiddenEntry + Numbers(Forbidden.Order().Select(u => (int)u)));
        }
        return string.Join(';', entries);
    }

    private static string Numbers(IEnumerable<int> numbers) => string.Join('.', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)));

    public static KeyPolicy Decode(string text)
    {
        if (text.Length == 0)
        {
            return None;
        }
        var entries = text.Split(';');
        var formats = entries.Where(e => e.StartsWith(PinBlockFormatsEntry, StringComparison.Ordinal)).ToArray();
        var forbidden = entries.Where(e => e.StartsWith(ForbiddenEntry, StringComparison.Ordinal)).ToArray();
        var owners = Of(entries.Where(e => !e.StartsWith('#')).Select(owner =>
        {
            var parts = owner.Split('=');
            if (parts.Length != 2)
            {
                throw new HsmException(HsmErrorCode.InvalidInput, "key block policy malformed");
            }
            return (parts[0], parts[1].Length == 0
                ? Enumerable.Empty<KeyUse>()
                : parts[1].Split('.').Select(u => (KeyUse)int.Parse(u, NumberStyles.None, CultureInfo.InvariantCulture)));
        }));
        if (formats.Length > 1 || forbidden.Length > 1 || entries.Count(e => e.StartsWith('#')) != formats.Length + forbidden.Length)
        {
            throw new HsmException(HsmErrorCode.InvalidInput, "key block policy malformed");
        }
        var withFormats = formats.Length == 0 ? owners : owners.WithPinBlockFormats(formats[0][PinBlockFormatsEntry.Length..].Split('.')
            .Select(f => (PinBlockFormat)int.Parse(f, NumberStyles.None, CultureInfo.InvariantCulture)));
        return forbidden.Length == 0 ? withFormats : withFormats.Forbidding(forbidden[0][ForbiddenEntry.Length..].Split('.')
            .Select(u => (KeyUse)int.Parse(u, NumberStyles.None, CultureInfo.InvariantCulture)));
    }

    public bool SameAs(KeyPolicy other) => Encode() == other.Encode();

    public override string ToString() => Encode();

    private static void CheckCallerName(string caller)
    {
        if (string.IsNullOrEmpty(caller) || caller.Length > CallerNameLengthMax
            || caller.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.')))
        {
            throw new HsmException(HsmErrorCode.InvalidInput, $"an owner is a caller name of 1 to {CallerNameLengthMax} of a-z 0-9 - _ .");
        }
    }
}
