using Mesh.Switch.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Switch.Routing;

/// <summary>
/// BIN routing: the longest prefix of the card number in <c>bin_routes</c> names the issuer. The
/// table lives in switchdb, is filled from the issuers' configured BINs at first start, changed
/// through the admin RPCs, and held in memory between changes. Which prefixes are credit cards comes
/// from the banks' configuration (<see cref="IssuerLinkOptions.CreditBins"/>), routed or not yet.
/// </summary>
public sealed class BinTable(NpgsqlDataSource db, IOptions<SwitchOptions> options)
{
    public const int RoutesMax = 100_000;
    private volatile IReadOnlyDictionary<string, string> _routes = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Routes => _routes;

    /// <summary>The card number prefixes whose cards are credit cards.</summary>
    public IReadOnlyList<string> CreditPrefixes { get; } = [.. options.Value.Issuers.SelectMany(i => i.CreditBins).Distinct(StringComparer.Ordinal)];

    public async Task SeedAndLoadAsync(CancellationToken ct)
    {
        foreach (var issuer in options.Value.Issuers)
        {
            foreach (var bin in issuer.Bins)
            {
                await using var insert = db.CreateCommand("INSERT INTO bin_routes (prefix, issuer) VALUES (@p, @i) ON CONFLICT DO NOTHING");
                insert.Parameters.AddWithValue("p", bin);
                insert.Parameters.AddWithValue("i", issuer.Name);
                await insert.ExecuteNonQueryAsync(ct);
            }
        }
        await ReloadAsync(ct);
    }

    public async Task ReloadAsync(CancellationToken ct)
    {
        var routes = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var select = db.CreateCommand($"SELECT prefix, issuer FROM bin_routes LIMIT {RoutesMax}");
        await using var rows = await select.ExecuteReaderAsync(ct);
        while (await rows.ReadAsync(ct))
        {
            routes[rows.GetString(0)] = rows.GetString(1);
        }
        _routes = routes;
    }

    /// <summary>The issuer for a card number, or null when no prefix matches (response 15).</summary>
    public string? Route(string pan)
    {
        var routes = _routes;
        for (var length = Math.Min(11, pan.Length); length >= 1; length--)
        {
            if (routes.TryGetValue(pan[..length], out var issuer))
            {
                return issuer;
            }
        }
        return null;
    }

    public async Task SetAsync(string prefix, string issuer, CancellationToken ct)
    {
        await using var upsert = db.CreateCommand("INSERT INTO bin_routes (prefix, issuer) VALUES (@p, @i) ON CONFLICT (prefix) DO UPDATE SET issuer = excluded.issuer");
        upsert.Parameters.AddWithValue("p", prefix);
        upsert.Parameters.AddWithValue("i", issuer);
        await upsert.ExecuteNonQueryAsync(ct);
        await ReloadAsync(ct);
    }

    /// <summary>Routes every prefix to the issuer in one transaction; a prefix routed to another issuer stops all of them.</summary>
    public async Task<string?> RouteAllAsync(IReadOnlyList<string> prefixes, string issuer, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var taken = new NpgsqlCommand("SELECT prefix, issuer FROM bin_routes WHERE prefix = ANY(@p) AND issuer <> @i ORDER BY prefix LIMIT 1 FOR UPDATE", connection, transaction))
        {
            taken.Parameters.AddWithValue("p", prefixes.ToArray());
            taken.Parameters.AddWithValue("i", issuer);
            await using var row = await taken.ExecuteReaderAsync(ct);
            if (await row.ReadAsync(ct))
            {
                return $"{row.GetString(0)} is routed to {row.GetString(1)}";
            }
        }
        await using (var insert = new NpgsqlCommand("INSERT INTO bin_routes (prefix, issuer) SELECT unnest(@p), @i ON CONFLICT (prefix) DO NOTHING", connection, transaction))
        {
            insert.Parameters.AddWithValue("p", prefixes.ToArray());
            insert.Parameters.AddWithValue("i", issuer);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        await ReloadAsync(ct);
        return null;
    }

    public async Task DeleteAsync(string prefix, CancellationToken ct)
    {
        await using var delete = db.CreateCommand("DELETE FROM bin_routes WHERE prefix = @p");
        delete.Parameters.AddWithValue("p", prefix);
        await delete.ExecuteNonQueryAsync(ct);
        await ReloadAsync(ct);
    }
}
