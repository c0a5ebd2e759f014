using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Gateway.Consoles;

public static class ConsoleRoles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Viewer = "viewer";
    public static readonly string[] All = [Admin, Operator, Viewer];

    /// <summary>The realm (in place of a merchant id) of the platform's own operators, and their roles.</summary>
    public const string Platform = "platform";
    public const string PlatformAdmin = "platform-admin";
    public const string PlatformOperator = "platform-operator";
    public static readonly string[] PlatformRoles = [PlatformAdmin, PlatformOperator];

    public static bool MayRefund(string role) => role is Admin or Operator;
}

/// <summary>Who is signed in: their merchant (or the platform), their operator id and role, and an antiforgery token for the page's forms.</summary>
public sealed record ConsoleSession(string MerchantId, string OperatorId, string Role, string CsrfToken);

/// <summary>
/// The merchant console's people and sessions. Passwords are hashed with PBKDF2-SHA256 at
/// <see cref="Pbkdf2Iterations"/> iterations and a salt of their own; <see cref="FailuresBeforeLockout"/>
/// wrong passwords in a row lock the operator out for <see cref="LockoutFor"/>. A session
/// (<see cref="ConsoleTicketStore"/>) ends after <see cref="IdleTimeout"/> without a request or
/// <see cref="SessionMax"/> in all, or when an admin revokes it. Logins, refunds and setting changes
/// are written to the audit log with the trace id.
/// </summary>
public sealed class ConsoleAccounts(NpgsqlDataSource db, TimeProvider time, ILogger<ConsoleAccounts> logger)
{
    public const int Pbkdf2Iterations = 600_000;
    public const int PasswordCharsMin = 12;
    public const int PasswordCharsMax = 128;
    public const int FailuresBeforeLockout = 5;
    public static readonly TimeSpan LockoutFor = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan SessionMax = TimeSpan.FromHours(8);
    /// <summary>Passwords hashed at once; a login that waits longer than <see cref="HashingWaitMax"/> for its turn is told the console is busy.</summary>
    public const int HashingAtOnceMax = 2;
    public static readonly TimeSpan HashingWaitMax = TimeSpan.FromSeconds(10);
    private const int SaltBytes = 16;
    private readonly SemaphoreSlim _hashing = new(HashingAtOnceMax, HashingAtOnceMax);
    private const int HashBytes = 32;

    public enum LogIn
    {
        Ok,
        Wrong,
        Locked,
    }

    /// <summary>Adds an operator; false if the merchant already has one by that id.</summary>
    public async Task<bool> AddUserAsync(string merchantId, string operatorId, string role, string password, CancellationToken ct)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        await using var insert = db.CreateCommand(
            """
            INSERT INTO console_users (merchant_id, operator_id, role, password_hash, password_salt, iterations, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """);
        BatchSql.Bind(insert, merchantId, operatorId, role, Hash(password, salt, Pbkdf2Iterations), salt, Pbkdf2Iterations, time.GetUtcNow());
        return await insert.ExecuteNonQueryAsync(ct) == 1;
    }

    public sealed record User(string OperatorId, string Role, DateTimeOffset? LockedUntil, DateTimeOffset CreatedAt);

    public async Task<List<User>> UsersAsync(string merchantId, CancellationToken ct)
    {
        await using var list = db.CreateCommand(
            "SELECT operator_id, role, locked_until, created_at FROM console_users WHERE merchant_id = $1 ORDER BY operator_id LIMIT 1000");
        BatchSql.Bind(list, merchantId);
        await using var row = await list.ExecuteReaderAsync(ct);
        var users = new List<User>();
        while (await row.ReadAsync(ct))
        {
            users.Add(new User(row.GetString(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetFieldValue<DateTimeOffset>(2), row.GetFieldValue<DateTimeOffset>(3)));
        }
        return users;
    }

    /// <summary>
    /// Checks a login; on success the operator's role, to sign them in with. Each attempt is reserved before the
    /// password is hashed: one atomic update counts it as a failure (and locks the operator out when
    /// it is the <see cref="FailuresBeforeLockout"/>th in a row) unless the operator is locked, and
    /// only a reserved attempt is hashed; a right password then clears the count. So however many
    /// guesses race each other, across replicas too, at most <see cref="FailuresBeforeLockout"/> are
    /// evaluated and the rest are refused as locked. Passwords are hashed outside any transaction, at
    /// most <see cref="HashingAtOnceMax"/> at a time (a burst of logins cannot take every core or
    /// every connection). Null when the console is too busy.
    /// </summary>
    public async Task<(LogIn Outcome, string? Role)?> LogInAsync(string merchantId, string operatorId, string password, CancellationToken ct)
    {
        // The turn to hash comes first, so that no attempt is reserved and then left unevaluated.
        if (!await _hashing.WaitAsync(HashingWaitMax, ct))
        {
            return null;
        }
        (string Role, byte[] Hash, byte[] Salt, int Iterations, bool LocksIfWrong)? user;
        bool matches;
        try
        {
            user = await ReserveAttemptAsync(merchantId, operatorId, time.GetUtcNow(), ct);
            if (user is null && await LockedUntilAsync(merchantId, operatorId, ct) is { } lockedUntil)
            {
                await AuditAsync(merchantId, operatorId, "login-refused", $"locked until {lockedUntil:O}", ct);
                return (LogIn.Locked, null);
            }
            // A missing operator costs the same hashing as a wrong password, so the time taken tells nothing.
            var hash = Hash(password, user?.Salt ?? new byte[SaltBytes], user?.Iterations ?? Pbkdf2Iterations);
            matches = user is { } found && CryptographicOperations.FixedTimeEquals(hash, found.Hash);
        }
        finally
        {
            _hashing.Release();
        }
        if (!matches)
        {
            if (user is not { } wrong)
            {
                return (LogIn.Wrong, null);
            }
            await AuditAsync(merchantId, operatorId, "login-failed",
                wrong.LocksIfWrong ? $"wrong password; locked for {LockoutFor.TotalMinutes} minutes" : "wrong password", ct);
            logger.LogWarning("Console login of {OperatorId} at merchant {MerchantId} failed{Locked}", operatorId, merchantId,
                wrong.LocksIfWrong ? "; locked out" : "");
            return (wrong.LocksIfWrong ? LogIn.Locked : LogIn.Wrong, null);
        }
        await using var start = db.CreateBatch();
        start.BatchCommands.Add(BatchSql.Command("UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE merchant_id = $1 AND operator_id = $2",
            merchantId, operatorId));
        start.BatchCommands.Add(AuditCommand(merchantId, operatorId, "login", "signed in", time.GetUtcNow()));
        await start.ExecuteNonQueryAsync(ct);
        return (LogIn.Ok, user!.Value.Role);
    }

    /// <summary>
    /// Counts an attempt as a failure before it is evaluated, unless the operator is locked out: the
    /// operator's hash, salt and iterations, and whether this attempt locks the operator out if the
    /// password is wrong. Null when there is no such operator or it is locked. A lockout that has run
    /// out starts the count again.
    /// </summary>
    private async Task<(string Role, byte[] Hash, byte[] Salt, int Iterations, bool LocksIfWrong)?> ReserveAttemptAsync(string merchantId,
        string operatorId, DateTimeOffset now, CancellationToken ct)
    {
        await using var reserve = db.CreateCommand(
            """
            UPDATE console_users SET
                failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins ELSE 0 END + 1,
                locked_until = CASE WHEN (CASE WHEN locked_until IS NULL THEN failed_logins ELSE 0 END) + 1 >= $3 THEN $4 END
            WHERE merchant_id = $1 AND operator_id = $2 AND (locked_until IS NULL OR locked_until <= $5)
            RETURNING role, password_hash, password_salt, iterations, locked_until IS NOT NULL
            """);
        BatchSql.Bind(reserve, merchantId, operatorId, FailuresBeforeLockout, now + LockoutFor, now);
        await using var row = await reserve.ExecuteReaderAsync(ct);
        return await row.ReadAsync(ct)
            ? (row.GetString(0), row.GetFieldValue<byte[]>(1), row.GetFieldValue<byte[]>(2), row.GetInt32(3), row.GetBoolean(4))
            : null;
    }

    /// <summary>Until when an operator is locked out; null when there is no such operator (or it is not locked).</summary>
    private async Task<DateTimeOffset?> LockedUntilAsync(string merchantId, string operatorId, CancellationToken ct)
    {
        await using var find = db.CreateCommand("SELECT locked_until FROM console_users WHERE merchant_id = $1 AND operator_id = $2");
        BatchSql.Bind(find, merchantId, operatorId);
        return await find.ExecuteScalarAsync(ct) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// Ends every session of an operator of <paramref name="realm"/> (a merchant id, or the platform) at once, on every replica (each
    /// request reads its session's row); audited as done by <paramref name="by"/>. The number of sessions ended.
    /// </summary>
    public async Task<int> RevokeSessionsAsync(ConsoleSession by, string realm, string operatorId, CancellationToken ct)
    {
        await using var revoke = db.CreateBatch();
        revoke.BatchCommands.Add(BatchSql.Command("DELETE FROM console_sessions WHERE merchant_id = $1 AND operator_id = $2", realm, operatorId));
        revoke.BatchCommands.Add(AuditCommand(by.MerchantId, by.OperatorId, "sessions-revoked",
            realm == by.MerchantId ? $"every session of {operatorId}" : $"every session of {realm}/{operatorId}", time.GetUtcNow()));
        return await revoke.ExecuteNonQueryAsync(ct) - 1;
    }

    /// <summary>Who has a live session, in either console: one row an operator, the most recently seen first.</summary>
    public sealed record SignedIn(string Realm, string OperatorId, string Role, int Sessions, DateTimeOffset LastSeenAt);

    public async Task<List<SignedIn>> SignedInAsync(int rowsMax, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var list = db.CreateCommand(
            """
            SELECT merchant_id, operator_id, max(role), count(*)::int, max(last_seen_at) FROM console_sessions
            WHERE last_seen_at > $1 AND created_at > $2 GROUP BY merchant_id, operator_id ORDER BY max(last_seen_at) DESC LIMIT $3
            """);
        BatchSql.Bind(list, now - IdleTimeout, now - SessionMax, rowsMax);
        await using var row = await list.ExecuteReaderAsync(ct);
        var signedIn = new List<SignedIn>();
        while (await row.ReadAsync(ct))
        {
            signedIn.Add(new SignedIn(row.GetString(0), row.GetString(1), row.GetString(2), row.GetInt32(3), row.GetFieldValue<DateTimeOffset>(4)));
        }
        return signedIn;
    }

    public Task AuditAsync(ConsoleSession session, string action, string detail, CancellationToken ct) =>
        AuditAsync(session.MerchantId, session.OperatorId, action, detail, ct);

    public async Task AuditAsync(string merchantId, string operatorId, string action, string detail, CancellationToken ct)
    {
        await using var audit = db.CreateBatch();
        audit.BatchCommands.Add(AuditCommand(merchantId, operatorId, action, detail, time.GetUtcNow()));
        await audit.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlBatchCommand AuditCommand(string merchantId, string operatorId, string action, string detail, DateTimeOffset at) =>
        BatchSql.Command("INSERT INTO console_audit (merchant_id, operator_id, action, detail, trace_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
            merchantId, operatorId, action, detail, Activity.Current?.TraceId.ToString(), at);

    /// <summary>PBKDF2 with HMAC-SHA256 (RFC 8018) of the password's UTF-8, 32 bytes.</summary>
    public static byte[] Hash(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
}
