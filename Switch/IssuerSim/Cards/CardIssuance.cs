using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;
using Mesh.IssuerSim.Options;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.IssuerSim.Cards;

/// <summary>A test card as the bank publishes it to developers (development only): test numbers, never real ones.</summary>
public sealed record PublishedTestCard(string Pan, string Expiry, string Pin, string Cvv2, string Outcome, string Product, bool OtpRequired);

/// <summary>
/// Issues the bank's test cards at start: each gets an account; a debit card a Visa PVV made in the
/// Hsm from its PIN, so that the PIN itself is stored nowhere; a credit card no PIN at all (its CVV2
/// is the Hsm's under the bank's CVK, computed when it is checked or published, stored nowhere).
/// Cards already issued are left alone.
/// </summary>
public sealed class CardIssuance(NpgsqlDataSource db, Hsm.HsmClient hsm, HsmSession session, IOptions<BankOptions> bank, ILogger<CardIssuance> logger)
{
    public const int Pvki = 1;

    public async Task IssueTestCardsAsync(CancellationToken ct)
    {
        var options = bank.Value;
        var issued = 0;
        foreach (var card in AllTestCards(options).Concat(TestCards.ForLoad(options.Bins[0], options.LoadTestCards)))
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
            var pvv = card.Product == CardProduct.Credit ? null : await PvvAsync(card, ct);
            await using var batch = db.CreateBatch();
            // A credit card's account is its credit line, apart from any debit card's.
            var accountId = card.Product == CardProduct.Credit ? $"{options.Id}-c{card.Pan[^8..]}" : $"{options.Id}-{card.Pan[^8..]}";
            batch.BatchCommands.Add(Command("INSERT INTO accounts (account_id, currency, balance_minor) VALUES (@a, 'CNY', @b) ON CONFLICT DO NOTHING",
                ("a", accountId), ("b", card.BalanceMinor)));
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO cards (pan_hash, pan_masked, expiry, status, pvv, pvki, pin_length, account_id, daily_limit_minor, product, otp_required)
                VALUES (@h, @m, @e, @s, @p, @k, @n, @a, @l, @c, @o) ON CONFLICT DO NOTHING
                """,
                ("h", panHash), ("m", Pan.Mask(card.Pan)), ("e", card.Expiry), ("s", card.Status), ("p", (object?)pvv ?? DBNull.Value),
                ("k", (short)Pvki), ("n", (short)Math.Max(card.Pin.Length, 4)), ("a", accountId), ("l", card.DailyLimitMinor),
                ("c", card.Product == CardProduct.Credit ? "credit" : "debit"), ("o", card.OtpRequired)));
            await batch.ExecuteNonQueryAsync(ct);
            issued++;
        }
        logger.LogInformation("Bank {BankId}: {Issued} test cards issued", options.Id, issued);
    }

    /// <summary>The published test cards: debit from the first BIN, credit from the first credit BIN (if the bank has one).</summary>
    private static IEnumerable<TestCard> AllTestCards(BankOptions options) =>
        TestCards.For(options.Bins[0]).Concat(options.CreditBins.Count > 0 ? TestCards.ForCredit(options.CreditBins[0]) : []);

    private async Task<string> PvvAsync(TestCard card, CancellationToken ct)
    {
        var options = bank.Value;
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
        return pvv.Value;
    }

    /// <summary>Service code of a CVV2, the value printed on the back of the card.</summary>
    public const string Cvv2ServiceCode = "000";

    /// <summary>The bank's published test cards with the CVV2 each carries under this bank's CVK (which differs per installation).</summary>
    public async Task<IReadOnlyList<PublishedTestCard>> PublishedTestCardsAsync(CancellationToken ct)
    {
        var published = new List<PublishedTestCard>();
        foreach (var card in AllTestCards(bank.Value))
        {
            var cvv = await hsm.GenerateCvvAsync(new GenerateCvvRequest { CvkId = bank.Value.CvkId, Pan = card.Pan, Expiry = card.Expiry, ServiceCode = Cvv2ServiceCode },
                cancellationToken: ct);
            published.Add(new PublishedTestCard(card.Pan, card.Expiry, card.Pin, cvv.Cvv, card.Outcome.ToString(),
                card.Product == CardProduct.Credit ? "credit" : "debit", card.OtpRequired));
        }
        return published;
    }

    /// <summary>Whether a CVV2 sent with a purchase is the card's, checked in the Hsm under the bank's CVK.</summary>
    public async Task<bool> Cvv2IsRightAsync(string pan, string expiry, string cvv2, CancellationToken ct)
    {
        try
        {
            await hsm.VerifyCvvAsync(new VerifyCvvRequest { CvkId = bank.Value.CvkId, Pan = pan, Expiry = expiry, ServiceCode = Cvv2ServiceCode, Cvv = cvv2 },
                cancellationToken: ct);
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return false;
        }
    }

    public async Task<byte[]> PanHashAsync(string pan, CancellationToken ct) =>
        (await session.LookupHashAsync(PanHashRequest(pan), ct)).LookupHash.ToByteArray();

    /// <summary>The Hsm command for the card number's keyed hash under the bank's DEK: how the bank finds a card.</summary>
    public LookupHashRequest PanHashRequest(string pan) => new() { DekId = bank.Value.DekId, Data = ByteString.CopyFrom(Encoding.ASCII.GetBytes(pan)) };

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
