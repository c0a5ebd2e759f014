using System.Text;
using Google.Protobuf;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;
using Mesh.IssuerSim.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.IssuerSim.Cards;

/// <summary>
/// Issues the bank's test cards at start: each gets an account, and a Visa PVV made in the Hsm
/// from its PIN, so that the PIN itself is stored nowhere. Cards already issued are left alone.
/// </summary>
public sealed class CardIssuance(NpgsqlDataSource db, Hsm.HsmClient hsm, HsmSession session, IOptions<BankOptions> bank, ILogger<CardIssuance> logger)
{
    public const int Pvki = 1;

    public async Task IssueTestCardsAsync(CancellationToken ct)
    {
        var options = bank.Value;
        var issued = 0;
        foreach (var card in TestCards.For(options.Bins[0]).Concat(TestCards.ForLoad(options.Bins[0], options.LoadTestCards)))
        {
            var panHash = await PanHashAsync(card.Pan, ct);
            await using (var exists = db.CreateCommand("SELECT 1 FROM cards WHERE pan_hash = @h"))
            {
                exists.Parameters.AddWithValue("h", panHash);
                if (await exists.ExecuteScalarAsync(ct) is not null)
                {
                    continue;
                }
            }
            var block = await hsm.EncryptClearPinAsync(new EncryptClearPinRequest
            {
                ZpkId = options.ZpkId,
                Pin = card.Pin,
                Format = PinBlockFormat.Iso0,
                Pan = card.Pan,
            }, cancellationToken: ct);
            var pvv = await hsm.GeneratePinVerificationValueAsync(new GeneratePinVerificationValueRequest
            {
                ZpkId = options.ZpkId,
                PinBlock = block.PinBlock,
                Format = PinBlockFormat.Iso0,
                Pan = card.Pan,
                Verification = new PinVerificationData { Method = PinVerificationMethod.VisaPvv, PvkId = options.PvkId, Pvki = Pvki },
            }, cancellationToken: ct);
            await using var batch = db.CreateBatch();
            var accountId = $"{options.Id}-{card.Pan[^8..]}";
            batch.BatchCommands.Add(Command("INSERT INTO accounts (account_id, currency, balance_minor) VALUES (@a, 'CNY', @b) ON CONFLICT DO NOTHING",
                ("a", accountId), ("b", card.BalanceMinor)));
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO cards (pan_hash, pan_masked, expiry, status, pvv, pvki, account_id, daily_limit_minor)
                VALUES (@h, @m, @e, @s, @p, @k, @a, @l) ON CONFLICT DO NOTHING
                """,
                ("h", panHash), ("m", Pan.Mask(card.Pan)), ("e", card.Expiry), ("s", card.Status), ("p", pvv.Value),
                ("k", (short)Pvki), ("a", accountId), ("l", card.DailyLimitMinor)));
            await batch.ExecuteNonQueryAsync(ct);
            issued++;
        }
        logger.LogInformation("Bank {BankId}: {Issued} test cards issued", options.Id, issued);
    }

    public async Task<byte[]> PanHashAsync(string pan, CancellationToken ct) =>
        (await session.LookupHashAsync(new LookupHashRequest { DekId = bank.Value.DekId, Data = ByteString.CopyFrom(Encoding.ASCII.GetBytes(pan)) },
            ct)).LookupHash.ToByteArray();

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
