using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Safety;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Npgsql;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// A console's sessions in PostgreSQL (<c>console_sessions</c>), for the cookie authentication of one
/// realm. The browser's cookie holds (sealed by Data Protection) only the session's key, 32 random
/// bytes; the table keeps only its SHA-256, with who signed in and when. Every request reads the row
/// and moves its idle clock in one statement, which finds nothing once the session has been idle for
/// <see cref="ConsoleAccounts.IdleTimeout"/> or open for <see cref="ConsoleAccounts.SessionMax"/>: so
/// a revoked session (its row deleted) is refused at once on every replica, and the timeouts do not
/// depend on the cookie. The merchant realm never accepts a platform operator's row, nor the operator realm a merchant's.
/// </summary>
public sealed class ConsoleTicketStore(NpgsqlDataSource db, TimeProvider time, string scheme) : ITicketStore
{
    private const int KeyBytes = 32;
    /// <summary>A key is 43 base64url characters; anything longer is not one of ours and is not hashed.</summary>
    private const int KeyCharsMax = 64;
    private readonly bool _platform = scheme == ConsoleSchemes.Operator;

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var user = ticket.Principal;
        var (realm, operatorId, role) = (user.FindFirstValue(ConsoleClaims.Realm)!, user.FindFirstValue(ConsoleClaims.Operator)!, user.FindFirstValue(ClaimTypes.Role)!);
        Invariant.Holds((realm == ConsoleRoles.Platform) == _platform, "a console session is stored in its own realm");
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow();
        await using var store = db.CreateBatch();
        // The operator's sessions that have ended go with each new one: the table holds no more than live sessions and the last few.
        store.BatchCommands.Add(BatchSql.Command(
            "DELETE FROM console_sessions WHERE merchant_id = $1 AND operator_id = $2 AND (last_seen_at <= $3 OR created_at <= $4)",
            realm, operatorId, now - ConsoleAccounts.IdleTimeout, now - ConsoleAccounts.SessionMax));
        store.BatchCommands.Add(BatchSql.Command(
            "INSERT INTO console_sessions (session_hash, merchant_id, operator_id, role, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
            Hash(key), realm, operatorId, role, now));
        await store.ExecuteNonQueryAsync();
        return key;
    }

    /// <summary>The session's row is all there is to renew: each request already moves its idle clock.</summary>
    public Task RenewAsync(string key, AuthenticationTicket ticket) => Task.CompletedTask;

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > KeyCharsMax)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var hash = Hash(key);
        await using var touch = db.CreateCommand(
            """
            UPDATE console_sessions SET last_seen_at = $2 WHERE session_hash = $1 AND last_seen_at > $3 AND created_at > $4
            RETURNING merchant_id, operator_id, role, created_at
            """);
        BatchSql.Bind(touch, hash, now, now - ConsoleAccounts.IdleTimeout, now - ConsoleAccounts.SessionMax);
        await using var row = await touch.ExecuteReaderAsync();
        if (!await row.ReadAsync() || (row.GetString(0) == ConsoleRoles.Platform) != _platform)
        {
            return null;
        }
        var created = row.GetFieldValue<DateTimeOffset>(3);
        var principal = ConsoleClaims.Principal(scheme, row.GetString(0), row.GetString(1), row.GetString(2), Convert.ToHexStringLower(hash));
        return new AuthenticationTicket(principal, new AuthenticationProperties { IssuedUtc = created, ExpiresUtc = created + ConsoleAccounts.SessionMax }, scheme);
    }

    public async Task RemoveAsync(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > KeyCharsMax)
        {
            return;
        }
        await using var remove = db.CreateCommand("DELETE FROM console_sessions WHERE session_hash = $1");
        BatchSql.Bind(remove, Hash(key));
        await remove.ExecuteNonQueryAsync();
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.ASCII.GetBytes(key));
}
