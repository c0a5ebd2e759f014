using System.Xml.Linq;
using Mesh.ServiceDefaults.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption;
using Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Gateway.Payments;

/// <summary>
/// The key ring of the payment pages' session tokens: ASP.NET Core Data Protection's keys, kept in
/// gatewaydb (<c>page_token_keys</c>) so every replica of the gateway opens what any other sealed.
/// Data Protection rotates them (<see cref="KeyLifetime"/>; a new key is made before the current one
/// ends, while the old keys still open what they sealed) and never writes key material to the log.
/// </summary>
public sealed class PageTokenKeyRing(NpgsqlDataSource db) : IXmlRepository
{
    /// <summary>How long a key seals new tokens. A token lives minutes, so a week keeps few keys in use at once.</summary>
    public static readonly TimeSpan KeyLifetime = TimeSpan.FromDays(7);

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var all = db.CreateCommand("SELECT xml FROM page_token_keys ORDER BY stored_at");
        using var row = all.ExecuteReader();
        var keys = new List<XElement>();
        while (row.Read())
        {
            keys.Add(XElement.Parse(row.GetString(0)));
        }
        return keys;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        using var store = db.CreateCommand("INSERT INTO page_token_keys (key_name, xml, stored_at) VALUES ($1, $2, now()) ON CONFLICT (key_name) DO NOTHING");
        BatchSql.Bind(store, friendlyName, element.ToString(SaveOptions.DisableFormatting));
        store.ExecuteNonQuery();
    }
}

public static class PageTokenKeyRingExtensions
{
    /// <summary>Lock id for the first key: two replicas starting at once make one key between them, not one each.</summary>
    private const long FirstKeyLock = 0x4d65736850616765; // "MeshPage"

    /// <summary>Data Protection for the payment pages' tokens: AES-256-GCM, keys in gatewaydb, rotated weekly.</summary>
    public static void AddPageTokenProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDataProtection()
            .SetApplicationName("mesh-gateway")
            .SetDefaultKeyLifetime(PageTokenKeyRing.KeyLifetime)
            .UseCryptographicAlgorithms(new AuthenticatedEncryptorConfiguration
            {
                EncryptionAlgorithm = EncryptionAlgorithm.AES_256_GCM,
                ValidationAlgorithm = ValidationAlgorithm.HMACSHA256,
            });
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new PageTokenKeyRing(sp.GetRequiredService<NpgsqlDataSource>())));
    }

    /// <summary>
    /// Before the gateway serves a page: the key ring has a key that seals now, made under an
    /// advisory lock, so replicas that start together share it instead of each making its own. The
    /// lock is the transaction's: through a pooler in transaction mode a session's lock and its
    /// unlock could reach different server connections, and the lock would outlive the gateway.
    /// </summary>
    public static async Task EnsurePageTokenKeyAsync(this WebApplication app)
    {
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var keys = app.Services.GetRequiredService<IKeyManager>();
        var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            BatchSql.Bind(take, FirstKeyLock);
            await take.ExecuteNonQueryAsync();
        }
        if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
        {
            keys.CreateNewKey(now, now + PageTokenKeyRing.KeyLifetime);
        }
        await transaction.CommitAsync();
    }
}
