using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Payments;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The payment page's session as a sealed token: it opens only whole and unaltered, carries what
/// the page and the claim need, and expires by the clock.
/// </summary>
public sealed class PaymentSessionTokenTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly NpgsqlDataSource _unusedDatabase = NpgsqlDataSource.Create("Host=unused");
    private readonly IDataProtectionProvider _keys = new EphemeralDataProtectionProvider();

    private PaymentSessions Sessions(IDataProtectionProvider? keys = null) =>
        new(keys ?? _keys, _unusedDatabase, Microsoft.Extensions.Options.Options.Create(new GatewayOptions { PaymentSessionMinutes = 15 }), _time);

    private static Order OrderOf(int attempts, int wrongPins, string? gateId) =>
        new("808080000000001", "o-1", OrderProtocol.NetPay, 12_345, "156", "20261205", "0001", null, null, null, gateId, null, OrderStatus.Created, 1,
            attempts, null, null, 0, 0, Now, Now, null, null, null, null, Now.AddMinutes(30), wrongPins);

    [Fact]
    public void ASealedSession_OpensAsItWasSealed()
    {
        var sessions = Sessions();
        var session = sessions.Start(OrderOf(attempts: 2, wrongPins: 1, gateId: "0102"));

        var opened = sessions.Open(sessions.Seal(session));

        Assert.Equal(session, opened);
        Assert.Equal((2, 1, 12_345L, "156", "0102"), (opened!.OrderAttempt, opened.WrongPins, opened.AmountMinor, opened.Currency, opened.GateId));
        Assert.Equal(Now.AddMinutes(15), opened.ExpiresAt);
    }

    [Fact]
    public void EveryAlteredCharacter_OpensAsNothing()
    {
        var sessions = Sessions();
        var token = sessions.Seal(sessions.Start(OrderOf(1, 0, null)));

        for (var i = 0; i < token.Length; i++)
        {
            var altered = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.Null(sessions.Open(altered));
        }
        Assert.Null(sessions.Open(token[..^1]));
        Assert.Null(sessions.Open(""));
        Assert.Null(sessions.Open(new string('A', PaymentSessions.TokenCharsMax + 1)));
        Assert.Null(sessions.Open("not base64 at all!"));
    }

    [Fact]
    public void ATokenSealedWithOtherKeys_OpensAsNothing()
    {
        var token = Sessions(new EphemeralDataProtectionProvider()).Seal(Sessions().Start(OrderOf(1, 0, null)));

        Assert.Null(Sessions().Open(token));
    }

    [Fact]
    public void ASession_ExpiresAfterItsMinutes()
    {
        var sessions = Sessions();
        var session = sessions.Start(OrderOf(1, 0, null));

        _time.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        var before = sessions.IsExpired(session);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(before);
        Assert.True(sessions.IsExpired(session));
    }

    [Fact]
    public void AWrongPin_GivesThePinANewNonce_AndTheSessionKeepsItsCsrfToken()
    {
        var session = Sessions().Start(OrderOf(1, 0, null));

        var after = session.After(1);

        Assert.NotEqual(session.PinNonce, after.PinNonce);
        Assert.Equal(session.CsrfToken, after.CsrfToken);
        Assert.Equal(session.SessionId, after.SessionId);
    }

    public void Dispose() => _unusedDatabase.Dispose();
}
