using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.IssuerSim.Options;
using Mesh.IssuerSim.Processing;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.IssuerSim.Verification;

/// <summary>
/// The one-time codes the bank sends cardholders of credit cards that ask for one (UnionPay's SMS
/// verification, 3-D Secure's challenge). A purchase answered <c>1A</c> gets a six-digit code, sent to
/// the cardholder and kept only as its keyed hash (Hsm LookupHash under the bank's DEK, bound to that
/// purchase), for <see cref="BankOptions.OneTimeCodeMinutes"/>. The purchase sent again with the code
/// names the challenged one in field 90; the code is checked in one statement under the challenge's
/// row lock, so parallel guesses are counted one after another and never pass <see cref="WrongCodesMax"/>.
/// </summary>
public sealed class OneTimeCodes(NpgsqlDataSource db, HsmSession hsm, CardholderInbox inbox, IOptions<BankOptions> bank, TimeProvider time)
{
    public const int CodeDigits = 6;

    /// <summary>Wrong codes a purchase may try; the next is refused for good (75), even the right one.</summary>
    public const int WrongCodesMax = 3;

    /// <summary>Issues a code for the purchase with <paramref name="key"/> and sends it, once: a repeat of the purchase sends nothing new.</summary>
    public async Task IssueAsync(MessageKey key, byte[] panHash, string panMasked, long amountMinor, CancellationToken ct)
    {
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var now = time.GetUtcNow();
        var expiresAt = now.AddMinutes(bank.Value.OneTimeCodeMinutes);
        await using var insert = db.CreateCommand(
            """
            INSERT INTO otp_challenges (acquirer_id, stan, transmission, pan_hash, amount_minor, code_hash, expires_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
            """);
        BatchSql.Bind(insert, key.AcquirerId, key.Stan, key.Transmission, panHash, amountMinor, await HashAsync(key, code, ct), expiresAt, now);
        if (await insert.ExecuteNonQueryAsync(ct) == 1)
        {
            inbox.Deliver(new InboxMessage(panMasked, amountMinor, code,
                $"{bank.Value.Name}: your verification code for a payment of {amountMinor / 100}.{amountMinor % 100:D2} CNY with card {panMasked[^4..]} is {code}. "
                + $"It is valid for {bank.Value.OneTimeCodeMinutes} minutes. Never tell it to anyone.", now, expiresAt));
        }
    }

    /// <summary>Checks <paramref name="code"/> against the challenge of the purchase <paramref name="challenged"/>, for this card and amount.</summary>
    public async Task<OneTimeCodeCheck> CheckAsync(MessageKey challenged, byte[] panHash, long amountMinor, string code, CancellationToken ct)
    {
        var hash = await HashAsync(challenged, code, ct);
        var now = time.GetUtcNow();
        await using var check = db.CreateCommand(
            """
            UPDATE otp_challenges SET wrong_codes = wrong_codes + CASE WHEN code_hash = $5 THEN 0 ELSE 1 END,
                                      used_at = CASE WHEN code_hash = $5 THEN $6 END
            WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 AND pan_hash = $4 AND amount_minor = $8
              AND used_at IS NULL AND expires_at > $6 AND wrong_codes < $7
            RETURNING used_at IS NOT NULL, wrong_codes
            """);
        BatchSql.Bind(check, challenged.AcquirerId, challenged.Stan, challenged.Transmission, panHash, hash, now, WrongCodesMax, amountMinor);
        await using (var row = await check.ExecuteReaderAsync(ct))
        {
            if (await row.ReadAsync(ct))
            {
                return row.GetBoolean(0) ? OneTimeCodeCheck.Right
                    : row.GetInt32(1) >= WrongCodesMax ? OneTimeCodeCheck.TriesExceeded
                    : OneTimeCodeCheck.Wrong;
            }
        }
        await using var spent = db.CreateCommand(
            "SELECT wrong_codes >= $5 FROM otp_challenges WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 AND pan_hash = $4");
        BatchSql.Bind(spent, challenged.AcquirerId, challenged.Stan, challenged.Transmission, panHash, WrongCodesMax);
        return await spent.ExecuteScalarAsync(ct) is true ? OneTimeCodeCheck.TriesExceeded : OneTimeCodeCheck.Unusable;
    }

    /// <summary>Whether <paramref name="code"/> has the form of a code this bank sends.</summary>
    public static bool IsWellFormed(string code) => code.Length == CodeDigits && code.All(char.IsAsciiDigit);

    /// <summary>The code's keyed hash, bound to the purchase it was sent for: the database alone cannot try the million codes.</summary>
    private async Task<byte[]> HashAsync(MessageKey challenged, string code, CancellationToken ct) =>
        (await hsm.LookupHashAsync(new LookupHashRequest
        {
            DekId = bank.Value.DekId,
            Data = ByteString.CopyFrom(Encoding.ASCII.GetBytes($"otp|{challenged.AcquirerId}|{challenged.Stan}|{challenged.Transmission}|{code}")),
        }, ct)).LookupHash.ToByteArray();
}
