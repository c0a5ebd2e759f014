using Mesh.ServiceDefaults.Database;
using Npgsql;

namespace Mesh.Switch.Authorization;

/// <summary>An acquirer request's claim: its key (acquirer, STAN, transmission time) and what is needed to reverse it if never answered.</summary>
public sealed record Claim(string AcquirerId, string Stan, string Transmission, string? Issuer, string PanMasked, long AmountMinor,
    DateTimeOffset At, string Mti, string ProcessingCode, string Currency, string? OriginalData);

/// <summary>
/// The claims of concurrent requests, made together: one multi-row insert (and one commit) per
/// group. The first claim of a key wins, even within one group; the rest are duplicates.
/// </summary>
public sealed class Claims(NpgsqlDataSource db) : IAsyncDisposable
{
    public const int GroupMax = 256;
    public const int WritersMax = 2;

    private readonly MicroBatcher<Claim, bool> _batcher = new(group => ClaimGroupAsync(db, group), GroupMax, WritersMax);

    /// <summary>True when this request is the first with its key, and durable as claimed.</summary>
    public Task<bool> ClaimAsync(Claim claim, CancellationToken ct) => _batcher.SubmitAsync(claim, ct);

    private static async Task<IReadOnlyList<bool>> ClaimGroupAsync(NpgsqlDataSource db, IReadOnlyList<Claim> group)
    {
        await using var insert = db.CreateCommand(
            """
            INSERT INTO authorizations (acquirer_id, stan, transmission, issuer, pan_masked, amount_minor, created_at, mti, processing_code, currency, original_data)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[])
            ON CONFLICT DO NOTHING
            RETURNING acquirer_id, stan, transmission
            """);
        foreach (var column in new object[]
        {
            group.Select(c => c.AcquirerId).ToArray(), group.Select(c => c.Stan).ToArray(), group.Select(c => c.Transmission).ToArray(),
            group.Select(c => c.Issuer).ToArray(), group.Select(c => c.PanMasked).ToArray(), group.Select(c => c.AmountMinor).ToArray(),
            group.Select(c => c.At).ToArray(), group.Select(c => c.Mti).ToArray(), group.Select(c => c.ProcessingCode).ToArray(),
            group.Select(c => c.Currency).ToArray(), group.Select(c => c.OriginalData).ToArray(),
        })
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = column });
        }
        var inserted = new HashSet<(string, string, string)>();
        await using (var rows = await insert.ExecuteReaderAsync())
        {
            while (await rows.ReadAsync())
            {
                inserted.Add((rows.GetString(0), rows.GetString(1), rows.GetString(2)));
            }
        }
        // A key inserted by this group belongs to the first of its claims here; a second one is a duplicate.
        return group.Select(c => inserted.Remove((c.AcquirerId, c.Stan, c.Transmission))).ToArray();
    }

    public ValueTask DisposeAsync() => _batcher.DisposeAsync();
}
