using Grpc.Core;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Options;
using Mesh.Iso8583.Messages;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Acquiring;

/// <summary>
/// Which cards are credit cards (paid with expiry and CVV2 instead of a PIN): the credit BIN prefixes the
/// switch has from the banks (<c>ListCardProducts</c>), asked again every <see cref="RefreshAfter"/>. When the
/// switch cannot be asked, the last answer stands (none before the first: every card is then asked for its PIN,
/// and a credit card's bank declines it without its CVV2, charging nothing).
/// </summary>
public sealed class CardProducts(CardSwitch.CardSwitchClient cardSwitch, IOptions<GatewayOptions> options, TimeProvider time, ILogger<CardProducts> logger)
{
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile IReadOnlyList<string> _creditPrefixes = [];
    private DateTimeOffset _askedAt = DateTimeOffset.MinValue;

    /// <summary>The credit BIN prefixes, for the page to show the CVV2 field as the card number is typed.</summary>
    public async Task<IReadOnlyList<string>> CreditPrefixesAsync(CancellationToken ct)
    {
        if (time.GetUtcNow() - _askedAt >= RefreshAfter && await _refresh.WaitAsync(0, ct))
        {
            try
            {
                var reply = await cardSwitch.ListCardProductsAsync(new ListCardProductsRequest(),
                    deadline: time.GetUtcNow().UtcDateTime.AddMilliseconds(options.Value.SwitchDeadlineMs), cancellationToken: ct);
                _creditPrefixes = [.. reply.CreditPrefixes];
                _askedAt = time.GetUtcNow();
            }
            catch (RpcException ex)
            {
                logger.LogWarning("The switch did not say which BINs are credit ({Status}); the last answer stands", ex.StatusCode);
            }
            finally
            {
                _refresh.Release();
            }
        }
        return _creditPrefixes;
    }

    public async Task<bool> IsCreditAsync(Pan pan, CancellationToken ct)
    {
        var digits = pan.Reveal();
        return (await CreditPrefixesAsync(ct)).Any(prefix => digits.StartsWith(prefix, StringComparison.Ordinal));
    }
}
