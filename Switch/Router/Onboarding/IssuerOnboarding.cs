using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;
using Mesh.Switch.Links;
using Mesh.Switch.Options;
using Mesh.Switch.Routing;

namespace Mesh.Switch.Onboarding;

/// <summary>
/// Brings a bank at the end of a link into service: its ZPK and ZAK, under the ZMK the platform
/// and the bank formed at their key ceremony, go into the Hsm against the check values the bank
/// announced (the keys are never in clear outside the Hsm), and only then are its BIN ranges
/// routed to it, so no card is sent to a bank whose keys the switch does not hold.
/// </summary>
public sealed class IssuerOnboarding(IssuerLinks links, BinTable bins, Hsm.HsmClient hsm, ILogger<IssuerOnboarding> logger)
{
    public const int BinsMax = 50;
    public const int BinDigitsMin = 6;
    public const int BinDigitsMax = 11;
    public const int CryptogramBytes = 16;
    public const int KeyBlockCharsMax = 512;

    public async Task<LinkState> OnboardAsync(OnboardIssuerRequest request, CancellationToken ct)
    {
        var link = links.Find(request.Issuer) ?? throw Invalid($"no link named '{request.Issuer}'; ListLinks names them");
        var prefixes = request.Bins.Select(b => b.Trim()).ToList();
        if (prefixes.Count is 0 or > BinsMax || prefixes.Any(b => b.Length is < BinDigitsMin or > BinDigitsMax || !b.All(char.IsAsciiDigit))
            || prefixes.Distinct(StringComparer.Ordinal).Count() != prefixes.Count)
        {
            throw Invalid($"1 to {BinsMax} distinct BIN prefixes of {BinDigitsMin} to {BinDigitsMax} digits");
        }
        CheckKey(link, "zpk", request.Zpk);
        CheckKey(link, "zak", request.Zak);
        var routes = bins.Routes;
        if (prefixes.FirstOrDefault(p => routes.TryGetValue(p, out var issuer) && issuer != link.Name) is { } taken)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{taken} is routed to {routes[taken]}"));
        }
        var zpk = await ImportAsync(link, "ZPK", link.ZpkId, KeyType.Zpk, request.Zpk, ct);
        var zak = await ImportAsync(link, "ZAK", link.ZakId, KeyType.Zak, request.Zak, ct);
        if (await bins.RouteAllAsync(prefixes, link.Name, ct) is { } conflict)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, conflict));
        }
        logger.LogInformation("Onboarded {Issuer} (bank {BankId}): ZPK {ZpkCheckValue}, ZAK {ZakCheckValue}, BINs {Bins}",
            link.Name, link.BankId, zpk, zak, string.Join(",", prefixes));
        return await StateOfAsync(link, 0, ct);
    }

    /// <summary>A link as the consoles show it: signed on, echo latency, its keys' check values and its routes.</summary>
    public async Task<LinkState> StateOfAsync(IssuerLink link, long reversalsPending, CancellationToken ct)
    {
        var state = new LinkState
        {
            Issuer = link.Name,
            BankId = link.BankId,
            SignedOn = link.IsSignedOn,
            LastEchoLatencyMs = link.LastEchoLatencyMs,
            ReversalsPending = reversalsPending,
            ZpkCheckValue = await CheckValueAsync(link.ZpkId, ct),
            ZakCheckValue = await CheckValueAsync(link.ZakId, ct),
            ZmkId = link.ZmkId,
        };
        state.Bins.AddRange(bins.Routes.Where(r => r.Value == link.Name).Select(r => r.Key).Order(StringComparer.Ordinal));
        return state;
    }

    private async Task<string> CheckValueAsync(string keyId, CancellationToken ct)
    {
        try
        {
            return (await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId }, cancellationToken: ct)).CheckValue;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return "";
        }
    }

    private async Task<string> ImportAsync(IssuerLink link, string what, string keyId, KeyType type, ZoneKeyUnderZmk key, CancellationToken ct)
    {
        try
        {
            var imported = await hsm.ImportKeyAsync(new ImportKeyRequest
            {
                KeyId = keyId,
                KeyType = type,
                Algorithm = KeyAlgorithm.Tdes2Key,
                ZmkId = link.ZmkId,
                Cryptogram = key.Cryptogram,
                KeyBlock = key.KeyBlock,
                ExpectedCheckValue = key.CheckValue,
            }, cancellationToken: ct);
            return imported.CheckValue;
        }
        catch (RpcException ex) when (ex.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled))
        {
            // The Hsm's reason (no such ZMK, a check value that does not match, an id holding another key) is the operator's to act on.
            logger.LogWarning("The {What} of {Issuer} was not imported: {Reason}", what, link.Name, ex.Status.Detail);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the {what} was not imported: {ex.Status.Detail}"));
        }
    }

    /// <summary>
    /// A zone key as the link takes it: a TR-31 key block (the Hsm checks its header and
    /// authenticator), or a bare cryptogram only on a link configured for that form.
    /// </summary>
    private static void CheckKey(IssuerLink link, string field, ZoneKeyUnderZmk? key)
    {
        if (key is null || key.CheckValue.Length != 6 || !key.CheckValue.All(char.IsAsciiHexDigit))
        {
            throw Invalid($"{field}: a key under the ZMK and a 6-hex-digit check value");
        }
        var form = link.KeyExchange == KeyExchangeForms.Cryptogram
            ? key.Cryptogram.Length == CryptogramBytes && key.KeyBlock.Length == 0
            : key.Cryptogram.Length == 0 && key.KeyBlock.Length is > 0 and <= KeyBlockCharsMax && key.KeyBlock.All(char.IsAsciiLetterOrDigit);
        if (!form)
        {
            throw Invalid(link.KeyExchange == KeyExchangeForms.Cryptogram
                ? $"{field}: {link.Name} takes its zone keys as {CryptogramBytes}-byte cryptograms under the ZMK"
                : $"{field}: {link.Name} takes its zone keys as TR-31 key blocks (version D) under the ZMK, at most {KeyBlockCharsMax} characters");
        }
    }

    private static RpcException Invalid(string detail) => new(new Status(StatusCode.InvalidArgument, detail));
}
