using System.Globalization;
using System.Security.Cryptography;
using Mesh.Iso8583.Messages;
using Npgsql;

namespace Mesh.IssuerSim.Processing;

/// <summary>The key of a message the switch sent: acquirer, STAN and transmission time.</summary>
public readonly record struct MessageKey(string AcquirerId, string Stan, string Transmission);

/// <summary>The bank's decision on a purchase, and the durable effects it has.</summary>
public sealed class Authorizer(NpgsqlDataSource db, TimeProvider time)
{
    public const int WrongPinsMax = 3;

    /// <summary>
    /// Decides a purchase whose PIN has been checked, in one transaction: card status, expiry,
    /// daily limit, available balance, then a hold. A message seen before gets its first answer.
    /// </summary>
    public async Task<(string ResponseCode, string? AuthCode)> AuthorizeAsync(MessageKey key, byte[] panHash, string expiry, long amountMinor,
        bool pinVerified, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await PreviousAnswerAsync(connection, tx, key, ct) is { } previous)
        {
            return previous;
        }
        var (code, accountId) = await DecideAsync(connection, tx, panHash, expiry, amountMinor, pinVerified, ct);
        string? authCode = null;
        var now = time.GetUtcNow();
        if (pinVerified && code != "75")
        {
            await ExecuteAsync(connection, tx, "UPDATE cards SET wrong_pin_count = 0 WHERE pan_hash = @h AND wrong_pin_count > 0", ct, ("h", panHash));
        }
        if (code == ResponseCodes.Approved)
        {
            authCode = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
            await ExecuteAsync(connection, tx, "UPDATE accounts SET held_minor = held_minor + @amount WHERE account_id = @account",
                ct, ("amount", amountMinor), ("account", accountId!));
            await ExecuteAsync(connection, tx,
                "INSERT INTO postings (account_id, kind, amount_minor, acquirer_id, stan, transmission, created_at) VALUES (@account, 'hold', @amount, @acq, @stan, @tx, @at)",
                ct, ("account", accountId!), ("amount", amountMinor), ("acq", key.AcquirerId), ("stan", key.Stan), ("tx", key.Transmission), ("at", now));
        }
        await ExecuteAsync(connection, tx,
            """
            INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, account_id, amount_minor, response_code, auth_code, created_at)
            VALUES (@acq, @stan, @tx, @hash, @account, @amount, @code, @auth, @at)
            """,
            ct, ("acq", key.AcquirerId), ("stan", key.Stan), ("tx", key.Transmission), ("hash", panHash), ("account", (object?)accountId ?? DBNull.Value),
            ("amount", amountMinor), ("code", code), ("auth", (object?)authCode ?? DBNull.Value), ("at", now));
        await tx.CommitAsync(ct);
        return (code, authCode);
    }

    /// <summary>
    /// Reverses an authorization (0420/0421): its hold is released once, however often the advice
    /// is repeated; an advice for an authorization never seen is acknowledged and remembered, so a
    /// late original is refused instead of debiting.
    /// </summary>
    public async Task ReverseAsync(MessageKey original, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        await using (var find = new NpgsqlCommand(
            "SELECT account_id, amount_minor, response_code, reversed_at FROM authorizations WHERE acquirer_id = @acq AND stan = @stan AND transmission = @tx FOR UPDATE",
            connection, tx))
        {
            Bind(find, ("acq", original.AcquirerId), ("stan", original.Stan), ("tx", original.Transmission));
            await using var row = await find.ExecuteReaderAsync(ct);
            if (!await row.ReadAsync(ct))
            {
                await row.DisposeAsync();
                await ExecuteAsync(connection, tx,
                    """
                    INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, amount_minor, response_code, reversed_at, created_at)
                    VALUES (@acq, @stan, @tx, '\x'::bytea, 0, '12', @at, @at)
                    """,
                    ct, ("acq", original.AcquirerId), ("stan", original.Stan), ("tx", original.Transmission), ("at", now));
                await tx.CommitAsync(ct);
                return;
            }
            var accountId = row.IsDBNull(0) ? null : row.GetString(0);
            var amount = row.GetInt64(1);
            var approved = row.GetString(2) == ResponseCodes.Approved;
            var alreadyReversed = !row.IsDBNull(3);
            await row.DisposeAsync();
            if (alreadyReversed)
            {
                return;
            }
            if (approved && accountId is not null)
            {
                await ExecuteAsync(connection, tx, "UPDATE accounts SET held_minor = held_minor - @amount WHERE account_id = @account",
                    ct, ("amount", amount), ("account", accountId));
                await ExecuteAsync(connection, tx,
                    "INSERT INTO postings (account_id, kind, amount_minor, acquirer_id, stan, transmission, created_at) VALUES (@account, 'hold_release', @amount, @acq, @stan, @tx, @at)",
                    ct, ("account", accountId), ("amount", -amount), ("acq", original.AcquirerId), ("stan", original.Stan), ("tx", original.Transmission), ("at", now));
            }
            await ExecuteAsync(connection, tx, "UPDATE authorizations SET reversed_at = @at WHERE acquirer_id = @acq AND stan = @stan AND transmission = @tx",
                ct, ("at", now), ("acq", original.AcquirerId), ("stan", original.Stan), ("tx", original.Transmission));
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>What the bank stored to check a card's PIN (Visa PVV and its key index), or null for an unknown card.</summary>
    public async Task<(string Pvv, int Pvki)?> PinCheckDataAsync(byte[] panHash, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT pvv, pvki FROM cards WHERE pan_hash = @h");
        command.Parameters.AddWithValue("h", panHash);
        await using var row = await command.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? (row.GetString(0), row.GetInt16(1)) : null;
    }

    /// <summary>Counts a wrong PIN on the card; true when the card has now had too many.</summary>
    public async Task<bool> CountWrongPinAsync(byte[] panHash, CancellationToken ct)
    {
        await using var command = db.CreateCommand("UPDATE cards SET wrong_pin_count = wrong_pin_count + 1 WHERE pan_hash = @h RETURNING wrong_pin_count");
        command.Parameters.AddWithValue("h", panHash);
        return await command.ExecuteScalarAsync(ct) is int count && count >= WrongPinsMax;
    }

    private async Task<(string Code, string? AccountId)> DecideAsync(NpgsqlConnection connection, NpgsqlTransaction tx, byte[] panHash, string expiry,
        long amountMinor, bool pinVerified, CancellationToken ct)
    {
        await using var find = new NpgsqlCommand(
            """
            SELECT c.status, c.expiry, c.account_id, c.daily_limit_minor, c.wrong_pin_count, a.balance_minor - a.held_minor,
                   (SELECT coalesce(sum(amount_minor), 0) FROM authorizations z
                     WHERE z.pan_hash = c.pan_hash AND z.response_code = '00' AND z.reversed_at IS NULL AND z.created_at >= @today)
            FROM cards c JOIN accounts a USING (account_id) WHERE c.pan_hash = @h FOR UPDATE OF a
            """, connection, tx);
        Bind(find, ("h", panHash), ("today", new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero)));
        await using var row = await find.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return ("14", null);
        }
        var status = row.GetString(0);
        var cardExpiry = row.GetString(1);
        var accountId = row.GetString(2);
        var limit = row.GetInt64(3);
        var wrongPins = row.GetInt32(4);
        var available = row.GetInt64(5);
        var spentToday = row.GetInt64(6);
        var code = status switch
        {
            "lost" => "41",
            "stolen" => "43",
            _ when wrongPins >= WrongPinsMax => "75",
            _ when !pinVerified => "55",
            _ when expiry != cardExpiry => "54",
            _ when IsExpired(cardExpiry) => "54",
            _ when spentToday + amountMinor > limit => "61",
            _ when amountMinor > available => "51",
            _ => ResponseCodes.Approved,
        };
        return (code, accountId);
    }

    private bool IsExpired(string yymm)
    {
        var now = time.GetUtcNow();
        var year = 2000 + int.Parse(yymm[..2], CultureInfo.InvariantCulture);
        var month = int.Parse(yymm[2..], CultureInfo.InvariantCulture);
        return year < now.Year || (year == now.Year && month < now.Month);
    }

    private static async Task<(string, string?)?> PreviousAnswerAsync(NpgsqlConnection connection, NpgsqlTransaction tx, MessageKey key, CancellationToken ct)
    {
        await using var find = new NpgsqlCommand(
            "SELECT response_code, auth_code, reversed_at FROM authorizations WHERE acquirer_id = @acq AND stan = @stan AND transmission = @tx",
            connection, tx);
        Bind(find, ("acq", key.AcquirerId), ("stan", key.Stan), ("tx", key.Transmission));
        await using var row = await find.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return null;
        }
        // A repeat gets the first answer; once reversed (or reversed before it arrived), a duplicate.
        return row.IsDBNull(2) ? (row.GetString(0), row.IsDBNull(1) ? null : row.GetString(1)) : ("94", null);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        Bind(command, parameters);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void Bind(NpgsqlCommand command, params (string Name, object Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
    }
}
