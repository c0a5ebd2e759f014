using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Merchants;

/// <summary>
/// The addresses a merchant registered at onboarding (<c>returnUrlPrefixes</c>) that a NetPay
/// order's <c>BgRetUrl</c> and <c>PageRetUrl</c> must lie under. NetPay's ChkValue does not cover
/// those two fields, so whoever carries the form (the consumer's browser) could otherwise point the
/// notification and the signed answer anywhere. An address is under a prefix when it has the same
/// scheme, host and port, and its path is the prefix's path or continues it past a <c>/</c>. A
/// merchant that registered none may send neither field: failing closed is the safe default.
/// </summary>
public static class ReturnUrlPrefixes
{
    public const int PrefixesMax = 10;
    public const int PrefixCharsMax = 200;

    /// <summary>True when <paramref name="prefix"/> is an absolute http(s) address without credentials, query or fragment.</summary>
    public static bool IsValidPrefix(string? prefix) =>
        prefix is { Length: > 0 and <= PrefixCharsMax } && Uri.TryCreate(prefix, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) && uri.UserInfo.Length == 0 && uri.Query.Length == 0
        && uri.Fragment.Length == 0 && !HasEscapedSeparators(uri);

    /// <summary>
    /// What is wrong with a set of prefixes, or null when it may be registered: at most
    /// <see cref="PrefixesMax"/>, each valid, and https only for a merchant notified by the https protocol.
    /// </summary>
    public static Words? Refusal(IReadOnlyCollection<string> prefixes, string notificationProtocol)
    {
        if (prefixes.Count > PrefixesMax || !prefixes.All(IsValidPrefix))
        {
            return new Words("at most {0} absolute http(s) addresses of at most {1} characters, without credentials, query or fragment, "
                + "that NetPay's BgRetUrl and PageRetUrl must lie under", PrefixesMax, PrefixCharsMax);
        }
        return notificationProtocol == "https" && prefixes.Any(p => !p.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            ? new Words("https addresses only: the https notification protocol never sends to http")
            : null;
    }

    /// <summary>True when <paramref name="url"/> lies under one of <paramref name="prefixes"/>.</summary>
    public static bool IsUnderAny(string url, IReadOnlyList<string> prefixes) => prefixes.Any(p => IsUnder(url, p));

    public static bool IsUnder(string url, string prefix)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || !Uri.TryCreate(prefix, UriKind.Absolute, out var under)
            || address.UserInfo.Length > 0 || HasEscapedSeparators(address))
        {
            return false;
        }
        if (address.Scheme != under.Scheme || !string.Equals(address.IdnHost, under.IdnHost, StringComparison.OrdinalIgnoreCase) || address.Port != under.Port)
        {
            return false;
        }
        // Uri has already removed dot segments, so "/netpay/../admin" is "/admin" here.
        var (path, root) = (address.AbsolutePath, under.AbsolutePath);
        return root.EndsWith('/')
            ? path.StartsWith(root, StringComparison.Ordinal)
            : path == root || path.StartsWith(root + "/", StringComparison.Ordinal);
    }

    /// <summary>An encoded dot, slash or backslash in the path: a server may decode it into a path that leaves the prefix.</summary>
    private static bool HasEscapedSeparators(Uri uri) =>
        uri.AbsolutePath.Contains("%2e", StringComparison.OrdinalIgnoreCase) || uri.AbsolutePath.Contains("%2f", StringComparison.OrdinalIgnoreCase)
        || uri.AbsolutePath.Contains("%5c", StringComparison.OrdinalIgnoreCase) || uri.OriginalString.Contains('\\', StringComparison.Ordinal);
}
