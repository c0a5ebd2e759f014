using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Database;
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

/// <summary>What became of the one-time code a purchase sent again after a <c>1A</c> carried.</summary>
public enum OneTimeCodeCheck
{
    /// <summary>The code the bank sent for that purchase, for this card and amount, in time: used now, once.</summary>
    Right,
    /// <summary>Another code, with tries left.</summary>
    Wrong,
    /// <summary>A wrong code that used the last try, or any code after it: the purchase is refused for good.</summary>
    TriesExceeded,
    /// <summary>No such challenge for this card and amount, expired, or its code already used.</summary>
    Unusable,
}

/// <summary>
/// A financial message for the bank to decide. Purchases and pre-authorizations name the card by
/// its keyed hash and say whether the PIN was right (a credit card has none: it counts as right), the
/// CVV2 when one was sent, and the one-time code when one was; completions and refunds name their original.
/// </summary>
public sealed record FinancialRequest(FinancialKind Kind, MessageKey Key, long AmountMinor, byte[]? PanHash = null, string? Expiry = null,
    bool PinVerified = false, MessageKey? Original = null, bool CvvRejected = false, OneTimeCodeCheck? OneTimeCode = null);

/// <summary>What the bank stored to verify a card's holder: a debit card's PVV, key index and PIN length; whether it is a credit card.</summary>
public sealed record CardCheckData(string? Pvv, int Pvki, int PinLength, bool Credit);

/// <summary>The bank's answer: field 39, and field 38 when approved.</summary>
public readonly record struct Decision(string ResponseCode, string? AuthCode);

/// <summary>
/// The bank's decisions on financial messages and their durable effects. The messages in flight
/// are decided together, in one transaction of three round trips: one read that locks every card,
/// account and original they touch (cards in a fixed order, so groups never deadlock on each
/// other), the decisions in arrival order in memory (two purchases on one card see each other),
/// one batch of set-based writes, one commit. A message seen before gets its first answer. A group
/// that fails is decided again, one message at a time.
/// </summary>
public sealed class Authorizer : IAsyncDisposable
{
    public const int WrongPinsMax = 3;
    public const int GroupMax = 256;
    public const int DecidersMax = 2;
    public const int PinCheckCacheMax = 100_000;
    private const int AttemptsMax = 3;

    private readonly NpgsqlDataSource _db;
    private readonly TimeProvider _time;
    private readonly MicroBatcher<FinancialRequest, Decision> _groups;
    private readonly ConcurrentDictionary<string, CardCheckData> _pinChecks = new(StringComparer.Ordinal);

    public Authorizer(NpgsqlDataSource db, TimeProvider time, ILogger<Authorizer> logger)
    {
        _db = db;
        _time = time;
        // A duplicate decided concurrently elsewhere, a deadlock with a reversal, a lost
        // connection: the group is decided again one message at a time, and a message alone up to
        // three times, where the next attempt finds what the other did.
        _groups = new MicroBatcher<FinancialRequest, Decision>(DecideGroupAsync, GroupMax, DecidersMax, attemptsAlone: 3,
            regrouped: (count, ex) => logger.LogInformation("{Count} decisions are decided again: {Reason}", count, ex.Message));
    }

    public async Task<Decision> DecideAsync(FinancialRequest request, CancellationToken ct)
    {
        Invariant.Holds(request.AmountMinor >= 0, "an amount is never negative");
        return await _groups.SubmitAsync(request, ct);
    }

    private async Task<IReadOnlyList<Decision>> DecideGroupAsync(IReadOnlyList<FinancialRequest> requests)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var now = _time.GetUtcNow();
        var state = await ReadAsync(connection, tx, requests);

        var decisions = new Decision[requests.Count];
        var postings = new List<(string AccountId, string Kind, long BalanceDelta, long HeldDelta, MessageKey Key)>();
        var inserted = new List<(FinancialRequest Request, string? AccountId, Decision Decision)>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (state.Previous.TryGetValue(request.Key, out var previous))
            {
                decisions[i] = previous;
                continue;
            }
            var effects = request.Kind switch
            {
                FinancialKind.Purchase or FinancialKind.PreAuthorization => DecideWithCard(request, state, now),
                FinancialKind.Completion => DecideCompletion(request, state),
                FinancialKind.Refund => DecideRefund(request, state),
                _ => new Effects("12"),
            };
            var authCode = effects.ResponseCode == ResponseCodes.Approved
                ? RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture)
                : null;
            decisions[i] = new Decision(effects.ResponseCode, authCode);
            state.Previous[request.Key] = decisions[i];
            inserted.Add((request, effects.AccountId, decisions[i]));
            if (effects.ResponseCode == ResponseCodes.Approved && effects.AccountId is { } accountId)
            {
                var account = state.Accounts[accountId];
                foreach (var posting in effects.Postings)
                {
                    account.BalanceMinor += posting.BalanceDeltaMinor;
                    account.HeldMinor += posting.HeldDeltaMinor;
                    postings.Add((accountId, posting.Kind, posting.BalanceDeltaMinor, posting.HeldDeltaMinor, request.Key));
                }
                Invariant.Holds(account.HeldMinor >= 0 && account.HeldMinor <= account.BalanceMinor, "an account never holds more than its balance");
            }
        }

        await WriteAsync(connection, tx, state, postings, inserted, now);
        await tx.CommitAsync();
        return decisions;
    }

    private static async Task<GroupState> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<FinancialRequest> requests)
    {
        var state = new GroupState();
        var panHashes = requests.Where(r => r.PanHash is not null).Select(r => r.PanHash!).ToArray();
        var originals = requests.Where(r => r.Original is not null).Select(r => r.Original!.Value).Distinct().ToArray();
        await using var read = new NpgsqlBatch(connection, tx);
        read.BatchCommands.Add(BatchSql.Command(
            """
            SELECT z.acquirer_id, z.stan, z.transmission, z.response_code, z.auth_code, z.reversed_at IS NOT NULL
            FROM authorizations z JOIN unnest($1::text[], $2::text[], $3::text[]) k(acquirer_id, stan, transmission) USING (acquirer_id, stan, transmission)
            """,
            requests.Select(r => r.Key.AcquirerId).ToArray(), requests.Select(r => r.Key.Stan).ToArray(), requests.Select(r => r.Key.Transmission).ToArray()));
        read.BatchCommands.Add(BatchSql.Command(
            """
            SELECT c.pan_hash, c.account_id, c.status, c.expiry, c.daily_limit_minor, c.wrong_pin_count, c.spent_on, c.spent_today_minor, a.balance_minor, a.held_minor,
                   c.product = 'credit', c.otp_required
            FROM cards c JOIN accounts a USING (account_id) WHERE c.pan_hash = ANY($1) ORDER BY c.pan_hash FOR UPDATE
            """, BatchSql.ByteaArray(panHashes)));
        read.BatchCommands.Add(BatchSql.Command(
            """
            SELECT o.acquirer_id, o.stan, o.transmission, o.kind, o.response_code, o.amount_minor, o.reversed_at IS NOT NULL, o.completed_at IS NOT NULL,
                   o.refunded_minor, o.account_id, a.balance_minor, a.held_minor
            FROM authorizations o JOIN accounts a USING (account_id)
                 JOIN unnest($1::text[], $2::text[], $3::text[]) k(acquirer_id, stan, transmission) USING (acquirer_id, stan, transmission)
            ORDER BY o.acquirer_id, o.stan, o.transmission FOR UPDATE OF o, a
            """,
            originals.Select(k => k.AcquirerId).ToArray(), originals.Select(k => k.Stan).ToArray(), originals.Select(k => k.Transmission).ToArray()));
        await using var rows = await read.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            // A repeat gets the first answer; once reversed (or reversed before it arrived), a duplicate.
            state.Previous[new MessageKey(rows.GetString(0), rows.GetString(1), rows.GetString(2))] = rows.GetBoolean(5)
                ? new Decision("94", null)
                : new Decision(rows.GetString(3), rows.IsDBNull(4) ? null : rows.GetString(4));
        }
        await rows.NextResultAsync();
        while (await rows.ReadAsync())
        {
            var accountId = rows.GetString(1);
            state.Cards[Convert.ToHexString(rows.GetFieldValue<byte[]>(0))] = new CardState
            {
                AccountId = accountId,
                Status = rows.GetString(2),
                Expiry = rows.GetString(3),
                DailyLimitMinor = rows.GetInt64(4),
                WrongPins = rows.GetInt32(5),
                SpentOn = rows.IsDBNull(6) ? null : rows.GetFieldValue<DateOnly>(6),
                SpentTodayMinor = rows.GetInt64(7),
                Credit = rows.GetBoolean(10),
                OtpRequired = rows.GetBoolean(11),
            };
            state.Accounts.TryAdd(accountId, new AccountState { BalanceMinor = rows.GetInt64(8), HeldMinor = rows.GetInt64(9) });
        }
        await rows.NextResultAsync();
        while (await rows.ReadAsync())
        {
            var accountId = rows.GetString(9);
            state.Originals[new MessageKey(rows.GetString(0), rows.GetString(1), rows.GetString(2))] = new OriginalState
            {
                Kind = rows.GetString(3),
                ResponseCode = rows.GetString(4),
                AmountMinor = rows.GetInt64(5),
                Reversed = rows.GetBoolean(6),
                Completed = rows.GetBoolean(7),
                RefundedMinor = rows.GetInt64(8),
                AccountId = accountId,
            };
            state.Accounts.TryAdd(accountId, new AccountState { BalanceMinor = rows.GetInt64(10), HeldMinor = rows.GetInt64(11) });
        }
        return state;
    }

    /// <summary>One batch of set-based writes: cards, accounts and originals to their final state, the postings and the answers.</summary>
    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, GroupState state,
        List<(string AccountId, string Kind, long BalanceDelta, long HeldDelta, MessageKey Key)> postings,
        List<(FinancialRequest Request, string? AccountId, Decision Decision)> inserted, DateTimeOffset now)
    {
        await using var write = new NpgsqlBatch(connection, tx);
        var cards = state.Cards.Where(c => c.Value.Changed).ToArray();
        if (cards.Length > 0)
        {
            write.BatchCommands.Add(BatchSql.Command(
                """
                UPDATE cards c SET wrong_pin_count = u.wrong_pins, spent_on = u.spent_on, spent_today_minor = u.spent
                FROM unnest($1::bytea[], $2::int[], $3::date[], $4::bigint[]) u(pan_hash, wrong_pins, spent_on, spent) WHERE c.pan_hash = u.pan_hash
                """,
                BatchSql.ByteaArray(cards.Select(c => Convert.FromHexString(c.Key)).ToArray()), cards.Select(c => c.Value.WrongPins).ToArray(),
                cards.Select(c => c.Value.SpentOn).ToArray(), cards.Select(c => c.Value.SpentTodayMinor).ToArray()));
        }
        var accounts = postings.Select(p => p.AccountId).Distinct().ToArray();
        if (accounts.Length > 0)
        {
            write.BatchCommands.Add(BatchSql.Command(
                """
                UPDATE accounts a SET balance_minor = u.balance, held_minor = u.held
                FROM unnest($1::text[], $2::bigint[], $3::bigint[]) u(account_id, balance, held) WHERE a.account_id = u.account_id
                """,
                accounts, accounts.Select(a => state.Accounts[a].BalanceMinor).ToArray(), accounts.Select(a => state.Accounts[a].HeldMinor).ToArray()));
            write.BatchCommands.Add(BatchSql.Command(
                """
                INSERT INTO postings (account_id, kind, balance_delta_minor, held_delta_minor, acquirer_id, stan, transmission, created_at)
                SELECT u.*, $8 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[]) u
                """,
                postings.Select(p => p.AccountId).ToArray(), postings.Select(p => p.Kind).ToArray(), postings.Select(p => p.BalanceDelta).ToArray(),
                postings.Select(p => p.HeldDelta).ToArray(), postings.Select(p => p.Key.AcquirerId).ToArray(), postings.Select(p => p.Key.Stan).ToArray(),
                postings.Select(p => p.Key.Transmission).ToArray(), now));
        }
        var originals = state.Originals.Where(o => o.Value.Changed).ToArray();
        if (originals.Length > 0)
        {
            write.BatchCommands.Add(BatchSql.Command(
                """
                UPDATE authorizations z SET completed_at = CASE WHEN u.completed THEN coalesce(z.completed_at, $5) END, refunded_minor = u.refunded
                FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $6::bigint[]) u(acquirer_id, stan, transmission, completed, refunded)
                WHERE (z.acquirer_id, z.stan, z.transmission) = (u.acquirer_id, u.stan, u.transmission)
                """,
                originals.Select(o => o.Key.AcquirerId).ToArray(), originals.Select(o => o.Key.Stan).ToArray(), originals.Select(o => o.Key.Transmission).ToArray(),
                originals.Select(o => o.Value.Completed).ToArray(), now, originals.Select(o => o.Value.RefundedMinor).ToArray()));
        }
        if (inserted.Count > 0)
        {
            write.BatchCommands.Add(BatchSql.Command(
                """
                INSERT INTO authorizations (acquirer_id, stan, transmission, pan_hash, account_id, amount_minor, response_code, auth_code, created_at,
                                            kind, original_acquirer_id, original_stan, original_transmission)
                SELECT u.acquirer_id, u.stan, u.transmission, u.pan_hash, u.account_id, u.amount, u.code, u.auth, $13, u.kind, u.oacq, u.ostan, u.otx
                FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                     u(acquirer_id, stan, transmission, pan_hash, account_id, amount, code, auth, kind, oacq, ostan, otx)
                """,
                inserted.Select(x => x.Request.Key.AcquirerId).ToArray(), inserted.Select(x => x.Request.Key.Stan).ToArray(),
                inserted.Select(x => x.Request.Key.Transmission).ToArray(), BatchSql.ByteaArray(inserted.Select(x => x.Request.PanHash ?? []).ToArray()),
                inserted.Select(x => x.AccountId).ToArray(), inserted.Select(x => x.Request.AmountMinor).ToArray(),
                inserted.Select(x => x.Decision.ResponseCode).ToArray(), inserted.Select(x => x.Decision.AuthCode).ToArray(),
                inserted.Select(x => KindColumn(x.Request.Kind)).ToArray(), inserted.Select(x => x.Request.Original?.AcquirerId).ToArray(),
                inserted.Select(x => x.Request.Original?.Stan).ToArray(), inserted.Select(x => x.Request.Original?.Transmission).ToArray(), now));
        }
        await write.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A purchase or pre-authorization: the card's status, PIN tries, expiry, CVV2, one-time code, daily limit and
    /// available funds, in that order. A credit card has no PIN; one that asks for a one-time code answers 1A
    /// until the purchase comes again with the right code.
    /// </summary>
    private Effects DecideWithCard(FinancialRequest request, GroupState state, DateTimeOffset now)
    {
        if (!state.Cards.TryGetValue(Convert.ToHexString(request.PanHash!), out var card))
        {
            return new Effects("14");
        }
        var account = state.Accounts[card.AccountId];
        var today = DateOnly.FromDateTime(now.UtcDateTime);
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
            _ when request.Expiry != card.Expiry || IsExpired(card.Expiry, now) => "54",
            _ when request.CvvRejected => ResponseCodes.Cvv2Failure,
            _ when card.Credit && request.OneTimeCode == OneTimeCodeCheck.Wrong => ResponseCodes.WrongOneTimeCode,
            _ when card.Credit && request.OneTimeCode == OneTimeCodeCheck.TriesExceeded => ResponseCodes.TriesExceeded,
            _ when card.Credit && request.OneTimeCode == OneTimeCodeCheck.Unusable => "05",
            _ when card.Credit && card.OtpRequired && request.OneTimeCode != OneTimeCodeCheck.Right => ResponseCodes.AuthenticationRequired,
            _ when spentToday + request.AmountMinor > card.DailyLimitMinor => "61",
            _ when request.AmountMinor > account.BalanceMinor - account.HeldMinor => "51",
            _ => ResponseCodes.Approved,
        };
        if (wrongPins != card.WrongPins)
        {
            card.WrongPins = wrongPins;
            card.Changed = true;
        }
        if (code != ResponseCodes.Approved)
        {
            return new Effects(code, card.AccountId);
        }
        card.SpentOn = today;
        card.SpentTodayMinor = spentToday + request.AmountMinor;
        card.Changed = true;
        return new Effects(code, card.AccountId, request.Kind == FinancialKind.Purchase
            ? [new Posting("debit", -request.AmountMinor, 0)]
            : [new Posting("hold", 0, request.AmountMinor)]);
    }

    /// <summary>A completion: an approved pre-authorization, not reversed nor completed, for at most its amount.</summary>
    private static Effects DecideCompletion(FinancialRequest request, GroupState state)
    {
        if (!state.Originals.TryGetValue(request.Original!.Value, out var original)
            || original is not { Kind: "preauth", ResponseCode: ResponseCodes.Approved, Reversed: false, Completed: false })
        {
            return new Effects("12");
        }
        var account = state.Accounts[original.AccountId];
        if (request.AmountMinor > original.AmountMinor)
        {
            return new Effects("13", original.AccountId);
        }
        if (request.AmountMinor > account.BalanceMinor - (account.HeldMinor - original.AmountMinor))
        {
            return new Effects("51", original.AccountId);
        }
        original.Completed = true;
        original.Changed = true;
        return new Effects(ResponseCodes.Approved, original.AccountId,
            [new Posting("hold_release", 0, -original.AmountMinor), new Posting("debit", -request.AmountMinor, 0)]);
    }

    /// <summary>A refund: of an approved purchase or completion, not reversed, for at most what is left unrefunded.</summary>
    private static Effects DecideRefund(FinancialRequest request, GroupState state)
    {
        if (!state.Originals.TryGetValue(request.Original!.Value, out var original)
            || original is not { Kind: "purchase" or "completion", ResponseCode: ResponseCodes.Approved, Reversed: false })
        {
            return new Effects("12");
        }
        if (request.AmountMinor == 0 || request.AmountMinor > original.AmountMinor - original.RefundedMinor)
        {
            return new Effects("13", original.AccountId);
        }
        original.RefundedMinor += request.AmountMinor;
        original.Changed = true;
        return new Effects(ResponseCodes.Approved, original.AccountId, [new Posting("credit", request.AmountMinor, 0)]);
    }

    /// <summary>
    /// What the bank stored to check a card's holder (Visa PVV, its key index, the PIN's length; or that it is a
    /// credit card), or null for an unknown card. A card's PVV and product never change here (there is no PIN
    /// change), so they are read once and kept, up to <see cref="PinCheckCacheMax"/> cards.
    /// </summary>
    public async Task<CardCheckData?> CardCheckDataAsync(byte[] panHash, CancellationToken ct)
    {
        var key = Convert.ToHexString(panHash);
        if (_pinChecks.TryGetValue(key, out var known))
        {
            return known;
        }
        await using var command = _db.CreateCommand("SELECT pvv, pvki, pin_length, product = 'credit' FROM cards WHERE pan_hash = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = panHash });
        await using var row = await command.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return null;
        }
        var stored = new CardCheckData(row.IsDBNull(0) ? null : row.GetString(0), row.GetInt16(1), row.GetInt16(2), row.GetBoolean(3));
        if (_pinChecks.Count < PinCheckCacheMax)
        {
            _pinChecks.TryAdd(key, stored);
        }
        return stored;
    }

    private static bool IsExpired(string yymm, DateTimeOffset now)
    {
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

    /// <summary>Whether the bank has already decided the message with this key (a repeat gets its first answer, and checks nothing again).</summary>
    public async Task<bool> HasDecidedAsync(MessageKey key, CancellationToken ct)
    {
        await using var command = _db.CreateCommand("SELECT 1 FROM authorizations WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3");
        BatchSql.Bind(command, key.AcquirerId, key.Stan, key.Transmission);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    public ValueTask DisposeAsync() => _groups.DisposeAsync();

    /// <summary>What one group's read locked, changed in memory as its messages are decided in order.</summary>
    private sealed class GroupState
    {
        public Dictionary<MessageKey, Decision> Previous { get; } = [];
        public Dictionary<string, CardState> Cards { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, AccountState> Accounts { get; } = new(StringComparer.Ordinal);
        public Dictionary<MessageKey, OriginalState> Originals { get; } = [];
    }

    private sealed class CardState
    {
        public required string AccountId { get; init; }
        public required string Status { get; init; }
        public required string Expiry { get; init; }
        public required long DailyLimitMinor { get; init; }
        public int WrongPins { get; set; }
        public DateOnly? SpentOn { get; set; }
        public long SpentTodayMinor { get; set; }
        public required bool Credit { get; init; }
        public required bool OtpRequired { get; init; }
        public bool Changed { get; set; }
    }

    private sealed class AccountState
    {
        public long BalanceMinor { get; set; }
        public long HeldMinor { get; set; }
    }

    private sealed class OriginalState
    {
        public required string Kind { get; init; }
        public required string ResponseCode { get; init; }
        public required long AmountMinor { get; init; }
        public required bool Reversed { get; init; }
        public required string AccountId { get; init; }
        public bool Completed { get; set; }
        public long RefundedMinor { get; set; }
        public bool Changed { get; set; }
    }

    private sealed record Posting(string Kind, long BalanceDeltaMinor, long HeldDeltaMinor);

    private sealed record Effects(string ResponseCode, string? AccountId = null, Posting[]? PostingsOrNone = null)
    {
        public Posting[] Postings => PostingsOrNone ?? [];
    }
}
