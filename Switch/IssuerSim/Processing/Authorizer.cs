using System.Globalization;
using System.Security.Cryptography;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Safety;
using Npgsql;

namespace Mesh.IssuerSim.Processing;

/// <summary>The key of a message the switch sent: acquirer, STAN and transmission time.</summary>
public readonly record struct MessageKey(string AcquirerId, string Stan, string Transmission);

/// <summary>What a financial message asks of the bank.</summary>
public enum FinancialKind
{
    /// <summary>0200, processing code 00: debit the account now.</summary>
    Purchase,

    /// <summary>0100, processing code 03: hold the amount for a later completion.</summary>
    PreAuthorization,

    /// <summary>0200 with condition code 06 and field 90: release the pre-authorization's hold, debit the final amount.</summary>
    Completion,

    /// <summary>0220/0221, processing code 20, field 90: credit back part or all of a purchase.</summary>
    Refund,
}

/// <summary>
/// A financial message for the bank to decide. Purchases and pre-authorizations name the card by
/// its keyed hash and say whether the PIN was right; completions and refunds name their original.
/// </summary>
public sealed record FinancialRequest(FinancialKind Kind, MessageKey Key, long AmountMinor, byte[]? PanHash = null, string? Expiry = null,
    bool PinVerified = false, MessageKey? Original = null);

/// <summary>The bank's answer: field 39, and field 38 when approved.</summary>
public readonly record struct Decision(string ResponseCode, string? AuthCode);

/// <summary>
/// The bank's decisions on financial messages and the durable effects they have, each in one
/// transaction of two round trips: one read that locks what it decides on, one batch of writes.
/// A message seen before gets its first answer; a reversal undoes exactly what its message posted.
/// </summary>
public sealed class Authorizer(NpgsqlDataSource db, TimeProvider time)
{
    public const int WrongPinsMax = 3;
    private const string UniqueViolation = "23505";
    private const int AttemptsMax = 3;

    public async Task<Decision> DecideAsync(FinancialRequest request, CancellationToken ct)
    {
        Invariant.Holds(request.AmountMinor >= 0, "an amount is never negative");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await DecideOnceAsync(request, ct);
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation && attempt < AttemptsMax)
            {
                // The same message decided concurrently: the next attempt finds its answer.
            }
        }
    }

    private async Task<Decision> DecideOnceAsync(FinancialRequest request, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);

        Decision? previous = null;
        CardState? card = null;
        OriginalState? original = null;
        await using (var read = new NpgsqlBatch(connection, tx))
        {
            read.BatchCommands.Add(Sql("SELECT response_code, auth_code, reversed_at IS NOT NULL FROM authorizations WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                request.Key.AcquirerId, request.Key.Stan, request.Key.Transmission));
            if (request.PanHash is { } panHash)
            {
                read.BatchCommands.Add(Sql(
                    """
                    SELECT c.account_id, c.status, c.expiry, c.daily_limit_minor, c.wrong_pin_count, c.spent_on, c.spent_today_minor, a.balance_minor, a.held_minor
                    FROM cards c JOIN accounts a USING (account_id) WHERE c.pan_hash = $1 FOR UPDATE
                    """, panHash));
            }
            if (request.Original is { } key)
            {
                read.BatchCommands.Add(Sql(
                    """
                    SELECT o.kind, o.response_code, o.amount_minor, o.reversed_at IS NOT NULL, o.completed_at IS NOT NULL, o.refunded_minor, o.account_id, a.balance_minor, a.held_minor
                    FROM authorizations o JOIN accounts a USING (account_id)
                    WHERE o.acquirer_id = $1 AND o.stan = $2 AND o.transmission = $3 FOR UPDATE
                    """, key.AcquirerId, key.Stan, key.Transmission));
            }
            await using var rows = await read.ExecuteReaderAsync(ct);
            if (await rows.ReadAsync(ct))
            {
                // A repeat gets the first answer; once reversed (or reversed before it arrived), a duplicate.
                previous = rows.GetBoolean(2) ? new Decision("94", null) : new Decision(rows.GetString(0), rows.IsDBNull(1) ? null : rows.GetString(1));
            }
            if (request.PanHash is not null)
            {
                await rows.NextResultAsync(ct);
                if (await rows.ReadAsync(ct))
                {
                    card = new CardState(rows.GetString(0), rows.GetString(1), rows.GetString(2), rows.GetInt64(3), rows.GetInt32(4),
                        rows.IsDBNull(5) ? null : rows.GetFieldValue<DateOnly>(5), rows.GetInt64(6), rows.GetInt64(7), rows.GetInt64(8));
                }
            }
            if (request.Original is not null)
            {
                await rows.NextResultAsync(ct);
                if (await rows.ReadAsync(ct))
                {
                    original = new OriginalState(rows.GetString(0), rows.GetString(1), rows.GetInt64(2), rows.GetBoolean(3), rows.GetBoolean(4),
                        rows.GetInt64(5), rows.GetString(6), rows.GetInt64(7), rows.GetInt64(8));
                }
            }
        }
        if (previous is { } answered)
        {
            return answered;
        }

        var effects = request.Kind switch
        {
            FinancialKind.Purchase or FinancialKind.PreAuthorization => DecideWithCard(request, card, today),
            FinancialKind.Completion => DecideCompletion(request, original),
            FinancialKind.Refund => DecideRefund(request, original),
            _ => new Effects("12"),
        };
        var authCode = effects.ResponseCode == ResponseCodes.Approved
            ? RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture)
            : null;

        await using (var write = new NpgsqlBatch(connection, tx))
        {
            var key = request.Key;
            if (effects.Card is { } cardUpdate)
            {
                write.BatchCommands.Add(Sql("UPDATE cards SET wrong_pin_count = $2, spent_on = $3, spent_today_minor = $4 WHERE pan_hash = $1",
                    request.PanHash!, cardUpdate.WrongPins, (object?)cardUpdate.SpentOn ?? DBNull.Value, cardUpdate.SpentTodayMinor));
            }
            if (effects.ResponseCode == ResponseCodes.Approved && effects.AccountId is { } account)
            {
                var balanceDelta = effects.Postings.Sum(p => p.BalanceDeltaMinor);
                var heldDelta = effects.Postings.Sum(p => p.HeldDeltaMinor);
                write.BatchCommands.Add(Sql("UPDATE accounts SET balance_minor = balance_minor + $2, held_minor = held_minor + $3 WHERE account_id = $1",
                    account, balanceDelta, heldDelta));
                foreach (var posting in effects.Postings)
                {
                    write.BatchCommands.Add(Sql(
                        "INSERT INTO postings (account_id, kind, balance_delta_minor, held_delta_minor, acquirer_id, stan, transmission, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        account, posting.Kind, posting.BalanceDeltaMinor, posting.HeldDeltaMinor, key.AcquirerId, key.Stan, key.Transmission, now));
                }
                if (request.Original is { } originalKey)
                {
                    write.BatchCommands.Add(request.Kind == FinancialKind.Completion
                        ? Sql("UPDATE authorizations SET completed_at = $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                            originalKey.AcquirerId, originalKey.Stan, originalKey.Transmission, now)
                        : Sql("UPDATE authorizations SET refunded_minor = refunded_minor + $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                            originalKey.AcquirerId, originalKey.Stan, originalKey.Transmission, request.AmountMinor));
                }
            }
            write.BatchCommands.Add(Sql(
                """
                INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, account_id, amount_minor, response_code, auth_code, created_at,
                                            kind, original_acquirer_id, original_stan, original_transmission)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                """,
                key.AcquirerId, key.Stan, key.Transmission, request.PanHash ?? [], (object?)effects.AccountId ?? DBNull.Value, request.AmountMinor,
                effects.ResponseCode, (object?)authCode ?? DBNull.Value, now, KindColumn(request.Kind),
                (object?)request.Original?.AcquirerId ?? DBNull.Value, (object?)request.Original?.Stan ?? DBNull.Value, (object?)request.Original?.Transmission ?? DBNull.Value));
            await write.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new Decision(effects.ResponseCode, authCode);
    }

    /// <summary>A purchase or pre-authorization: the card's status, PIN tries, expiry, daily limit and available funds, in that order.</summary>
    private Effects DecideWithCard(FinancialRequest request, CardState? card, DateOnly today)
    {
        if (card is null)
        {
            return new Effects("14");
        }
        var wrongPins = card.WrongPins;
        if (card.Status == "active" && wrongPins < WrongPinsMax)
        {
            wrongPins = request.PinVerified ? 0 : wrongPins + 1;
        }
        var spentToday = card.SpentOn == today ? card.SpentTodayMinor : 0;
        var code = card.Status switch
        {
            "lost" => "41",
            "stolen" => "43",
            _ when wrongPins >= WrongPinsMax => "75",
            _ when !request.PinVerified => "55",
            _ when request.Expiry != card.Expiry || IsExpired(card.Expiry) => "54",
            _ when spentToday + request.AmountMinor > card.DailyLimitMinor => "61",
            _ when request.AmountMinor > card.BalanceMinor - card.HeldMinor => "51",
            _ => ResponseCodes.Approved,
        };
        var approved = code == ResponseCodes.Approved;
        var cardUpdate = new CardUpdate(wrongPins, approved ? today : card.SpentOn, approved ? spentToday + request.AmountMinor : card.SpentTodayMinor);
        Posting[] postings = request.Kind == FinancialKind.Purchase
            ? [new Posting("debit", -request.AmountMinor, 0)]
            : [new Posting("hold", 0, request.AmountMinor)];
        return new Effects(code, card.AccountId, cardUpdate, approved ? postings : []);
    }

    /// <summary>A completion: an approved pre-authorization, not reversed nor completed, for at most its amount.</summary>
    private static Effects DecideCompletion(FinancialRequest request, OriginalState? original)
    {
        if (original is not { Kind: "preauth", ResponseCode: ResponseCodes.Approved, Reversed: false, Completed: false })
        {
            return new Effects("12");
        }
        if (request.AmountMinor > original.AmountMinor)
        {
            return new Effects("13", original.AccountId);
        }
        if (request.AmountMinor > original.BalanceMinor - (original.HeldMinor - original.AmountMinor))
        {
            return new Effects("51", original.AccountId);
        }
        return new Effects(ResponseCodes.Approved, original.AccountId, null,
            [new Posting("hold_release", 0, -original.AmountMinor), new Posting("debit", -request.AmountMinor, 0)]);
    }

    /// <summary>A refund: of an approved purchase or completion, not reversed, for at most what is left unrefunded.</summary>
    private static Effects DecideRefund(FinancialRequest request, OriginalState? original)
    {
        if (original is not { Kind: "purchase" or "completion", ResponseCode: ResponseCodes.Approved, Reversed: false })
        {
            return new Effects("12");
        }
        if (request.AmountMinor == 0 || request.AmountMinor > original.AmountMinor - original.RefundedMinor)
        {
            return new Effects("13", original.AccountId);
        }
        return new Effects(ResponseCodes.Approved, original.AccountId, null, [new Posting("credit", request.AmountMinor, 0)]);
    }

    /// <summary>
    /// Reverses a message (0420/0421): what it posted is posted back once, however often the advice
    /// is repeated; an advice for a message never seen is acknowledged and remembered, so a late
    /// original is refused instead of debiting.
    /// </summary>
    public async Task ReverseAsync(MessageKey reversed, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        ReversedState? state = null;
        var postings = new List<(string AccountId, long BalanceDelta, long HeldDelta)>();
        await using (var read = new NpgsqlBatch(connection, tx))
        {
            read.BatchCommands.Add(Sql(
                """
                SELECT kind, response_code, reversed_at IS NOT NULL, amount_minor, created_at, pan_hash, original_acquirer_id, original_stan, original_transmission
                FROM authorizations WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 FOR UPDATE
                """, reversed.AcquirerId, reversed.Stan, reversed.Transmission));
            read.BatchCommands.Add(Sql(
                "SELECT account_id, balance_delta_minor, held_delta_minor FROM postings WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 AND kind <> 'reversal'",
                reversed.AcquirerId, reversed.Stan, reversed.Transmission));
            await using var rows = await read.ExecuteReaderAsync(ct);
            if (await rows.ReadAsync(ct))
            {
                state = new ReversedState(rows.GetString(0), rows.GetString(1), rows.GetBoolean(2), rows.GetInt64(3), rows.GetFieldValue<DateTimeOffset>(4),
                    rows.GetFieldValue<byte[]>(5), rows.IsDBNull(6) ? null : new MessageKey(rows.GetString(6), rows.GetString(7), rows.GetString(8)));
            }
            await rows.NextResultAsync(ct);
            while (await rows.ReadAsync(ct))
            {
                postings.Add((rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2)));
            }
        }
        await using (var write = new NpgsqlBatch(connection, tx))
        {
            if (state is null)
            {
                write.BatchCommands.Add(Sql(
                    """
                    INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, amount_minor, response_code, reversed_at, created_at, kind)
                    VALUES ($1, $2, $3, '\x'::bytea, 0, '12', $4, $4, 'reversal_only')
                    """, reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
            }
            else if (!state.Reversed)
            {
                foreach (var account in postings.GroupBy(p => p.AccountId))
                {
                    write.BatchCommands.Add(Sql("UPDATE accounts SET balance_minor = balance_minor - $2, held_minor = held_minor - $3 WHERE account_id = $1",
                        account.Key, account.Sum(p => p.BalanceDelta), account.Sum(p => p.HeldDelta)));
                }
                foreach (var (accountId, balanceDelta, heldDelta) in postings)
                {
                    write.BatchCommands.Add(Sql(
                        "INSERT INTO postings (account_id, kind, balance_delta_minor, held_delta_minor, acquirer_id, stan, transmission, created_at) VALUES ($1, 'reversal', $2, $3, $4, $5, $6, $7)",
                        accountId, -balanceDelta, -heldDelta, reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
                }
                if (state.ResponseCode == ResponseCodes.Approved)
                {
                    AddUndo(write, state);
                }
                write.BatchCommands.Add(Sql("UPDATE authorizations SET reversed_at = $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    reversed.AcquirerId, reversed.Stan, reversed.Transmission, now));
            }
            if (write.BatchCommands.Count > 0)
            {
                await write.ExecuteNonQueryAsync(ct);
            }
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>What an approved message changed besides postings, put back: the card's spending today, a pre-authorization's completion, a purchase's refunded amount.</summary>
    private static void AddUndo(NpgsqlBatch write, ReversedState state)
    {
        switch (state.Kind)
        {
            case "purchase" or "preauth":
                write.BatchCommands.Add(Sql("UPDATE cards SET spent_today_minor = greatest(0, spent_today_minor - $2) WHERE pan_hash = $1 AND spent_on = $3",
                    state.PanHash, state.AmountMinor, DateOnly.FromDateTime(state.CreatedAt.UtcDateTime)));
                break;
            case "completion" when state.Original is { } preauth:
                write.BatchCommands.Add(Sql("UPDATE authorizations SET completed_at = NULL WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    preauth.AcquirerId, preauth.Stan, preauth.Transmission));
                break;
            case "refund" when state.Original is { } purchase:
                write.BatchCommands.Add(Sql("UPDATE authorizations SET refunded_minor = refunded_minor - $4 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
                    purchase.AcquirerId, purchase.Stan, purchase.Transmission, state.AmountMinor));
                break;
        }
    }

    /// <summary>What the bank stored to check a card's PIN (Visa PVV and its key index), or null for an unknown card.</summary>
    public async Task<(string Pvv, int Pvki)?> PinCheckDataAsync(byte[] panHash, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT pvv, pvki FROM cards WHERE pan_hash = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = panHash });
        await using var row = await command.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct) ? (row.GetString(0), row.GetInt16(1)) : null;
    }

    private bool IsExpired(string yymm)
    {
        var now = time.GetUtcNow();
        var year = 2000 + int.Parse(yymm[..2], CultureInfo.InvariantCulture);
        var month = int.Parse(yymm[2..], CultureInfo.InvariantCulture);
        return year < now.Year || (year == now.Year && month < now.Month);
    }

    private static string KindColumn(FinancialKind kind) => kind switch
    {
        FinancialKind.Purchase => "purchase",
        FinancialKind.PreAuthorization => "preauth",
        FinancialKind.Completion => "completion",
        _ => "refund",
    };

    private static NpgsqlBatchCommand Sql(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    private sealed record CardState(string AccountId, string Status, string Expiry, long DailyLimitMinor, int WrongPins, DateOnly? SpentOn,
        long SpentTodayMinor, long BalanceMinor, long HeldMinor);

    private sealed record OriginalState(string Kind, string ResponseCode, long AmountMinor, bool Reversed, bool Completed, long RefundedMinor,
        string AccountId, long BalanceMinor, long HeldMinor);

    private sealed record ReversedState(string Kind, string ResponseCode, bool Reversed, long AmountMinor, DateTimeOffset CreatedAt, byte[] PanHash,
        MessageKey? Original);

    private sealed record CardUpdate(int WrongPins, DateOnly? SpentOn, long SpentTodayMinor);

    private sealed record Posting(string Kind, long BalanceDeltaMinor, long HeldDeltaMinor);

    private sealed record Effects(string ResponseCode, string? AccountId = null, CardUpdate? Card = null, Posting[]? PostingsOrNone = null)
    {
        public Posting[] Postings => PostingsOrNone ?? [];
    }
}
