using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.ServiceDefaults.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Payments;

/// <summary>
/// A consumer's visit to the payment page for one attempt of one order: what the page and its
/// submit need, carried by the page itself as a sealed token (<see cref="PaymentSessions"/>), not
/// kept in a database row. <see cref="WrongPins"/> is the order's count when the token was made: the
/// PIN's nonce changes with it, and the claim takes the order only at that count, so a form sent
/// before a wrong PIN cannot be sent again after it. <see cref="PinKeyCheckValue"/> is the version of the
/// PIN-transport key the page was given (empty until a page is shown).
/// </summary>
public sealed record PaymentSession(string SessionId, string MerchantId, string OrderId, int OrderAttempt, int WrongPins, long AmountMinor,
    string Currency, string? GateId, string CsrfToken, DateTimeOffset ExpiresAt, bool Hold = false, string PinKeyCheckValue = "")
{
    /// <summary>What the browser binds the sealed PIN to (its associated data): this visit at this count of wrong PINs.</summary>
    public string PinNonce => $"{SessionId}.{WrongPins.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The same visit after the order's wrong PINs reached <paramref name="wrongPins"/>.</summary>
    public PaymentSession After(int wrongPins) => this with { WrongPins = wrongPins };
}

/// <summary>
/// Payment sessions as tokens: the session is sealed with ASP.NET Core Data Protection (AES-256-GCM
/// under a key ring the gateway's replicas share in gatewaydb and rotate; see
/// <see cref="PageTokenKeyRing"/>), so the page's address and form carry it and nothing is written
/// when a page opens. A token that was not made here, or was altered, opens as nothing. The
/// order's row still decides whether the order can be paid (created, this attempt, this count of
/// wrong PINs, before its pay-by time); the session adds its own expiry
/// (<see cref="GatewayOptions.PaymentSessionMinutes"/>) and CSRF token.
/// </summary>
public sealed class PaymentSessions(IDataProtectionProvider protection, NpgsqlDataSource db, IOptions<GatewayOptions> options, TimeProvider time)
{
    /// <summary>The purpose the tokens are sealed for: a token of another purpose (or version of this format) does not open here.</summary>
    public const string Purpose = "Mesh.Gateway.PaymentSession.v1";

    /// <summary>The longest token accepted: longer input is refused before it is decoded.</summary>
    public const int TokenCharsMax = 512;

    private readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    /// <summary>A new visit to the page of <paramref name="order"/>, which the caller has found payable.</summary>
    public PaymentSession Start(Order order) =>
        new(Token(), order.MerchantId, order.OrderId, order.Attempts, order.WrongPins, order.AmountMinor, order.Currency, order.GateId, Token(),
            time.GetUtcNow().AddMinutes(options.Value.PaymentSessionMinutes), order.CaptureMode == CaptureMode.Hold);

    /// <summary>The token of <paramref name="session"/>, for the page's address.</summary>
    public string Seal(PaymentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(session.SessionId);
            writer.Write(session.MerchantId);
            writer.Write(session.OrderId);
            writer.Write(session.OrderAttempt);
            writer.Write(session.WrongPins);
            writer.Write(session.AmountMinor);
            writer.Write(session.Currency);
            writer.Write(session.GateId ?? "");
            writer.Write(session.CsrfToken);
            writer.Write(session.ExpiresAt.ToUnixTimeMilliseconds());
            writer.Write(session.Hold);
            writer.Write(session.PinKeyCheckValue);
        }
        return WebEncoders.Base64UrlEncode(_protector.Protect(buffer.ToArray()));
    }

    /// <summary>The session a token carries; null when the token is not one this gateway (or a replica) sealed, whole and unaltered.</summary>
    public PaymentSession? Open(string token)
    {
        if (token.Length is 0 or > TokenCharsMax)
        {
            return null;
        }
        try
        {
            using var reader = new BinaryReader(new MemoryStream(_protector.Unprotect(WebEncoders.Base64UrlDecode(token))), Encoding.UTF8);
            return new PaymentSession(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(),
                reader.ReadInt64(), reader.ReadString(), reader.ReadString() is { Length: > 0 } gateId ? gateId : null, reader.ReadString(),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64()), reader.ReadBoolean(), reader.ReadString());
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException or EndOfStreamException)
        {
            return null;
        }
    }

    public bool IsExpired(PaymentSession session) => session.ExpiresAt <= time.GetUtcNow();

    /// <summary>STANs drawn from the sequence at a time: a purchase takes one from memory instead of a round trip of its own.</summary>
    public const int StanBlockSize = 100;

    private readonly ConcurrentQueue<long> _stans = new();
    private readonly SemaphoreSlim _stanRefill = new(1, 1);

    /// <summary>
    /// The STAN of a new request, before it is signed. STANs are drawn from the sequence
    /// <see cref="StanBlockSize"/> at a time; a request never recorded, or a block left unused when
    /// the process stops, leaves a gap, as a switch expects. The sequence cycles through 1–999999.
    /// </summary>
    public async Task<long> NextStanAsync(CancellationToken ct)
    {
        for (var refills = 0; refills < 3; refills++)
        {
            if (_stans.TryDequeue(out var stan))
            {
                return stan;
            }
            await _stanRefill.WaitAsync(ct);
            try
            {
                if (_stans.IsEmpty)
                {
                    await using var next = db.CreateCommand("SELECT nextval('acquirer_stan') FROM generate_series(1, $1)");
                    BatchSql.Bind(next, StanBlockSize);
                    await using var row = await next.ExecuteReaderAsync(ct);
                    while (await row.ReadAsync(ct))
                    {
                        _stans.Enqueue(row.GetInt64(0));
                    }
                }
            }
            finally
            {
                _stanRefill.Release();
            }
        }
        throw new InvalidOperationException($"no STAN after drawing {StanBlockSize} three times: every one was taken by others");
    }

    private static string Token() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
}
