using System.Globalization;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;
using Mesh.ServiceDefaults.Database;
using Mesh.Switch.Journal;
using Mesh.Switch.Links;
using Mesh.Switch.Metrics;
using Mesh.Switch.Options;
using Mesh.Switch.Reversals;
using Mesh.Switch.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.Switch.Authorization;

/// <summary>
/// One acquirer request through the switch, in small steps: read it, check its MAC, route it by
/// BIN, refuse a duplicate, translate its PIN block to the issuer's zone, MAC it for the issuer,
/// send it, and bring the answer back MAC'd for the acquirer. Requests are purchases and
/// completions (0200), pre-authorizations (0100) and refunds (0220). An unknown outcome (no
/// answer, 91, 96) of a 0200 or 0100 is answered 91 and reversed with the issuer until
/// acknowledged; a refund whose answer never came is stored and repeated (0221) until the issuer
/// acknowledges it, and the acquirer is told it was accepted for delivery. A reversal (0420) from the
/// acquirer releases one of its approved pre-authorizations (a hold the merchant released or let
/// expire): the switch owes the issuer that reversal, queued and repeated until acknowledged, and
/// tells the acquirer it was accepted (00); a repeat gets the same answer.
/// </summary>
public sealed class AuthorizationFlow(
    IsoPackager packager,
    BinTable bins,
    IssuerLinks links,
    SecurityModule security,
    ReversalQueue reversals,
    MessageJournal journal,
    NpgsqlDataSource db,
    GroupCommit writes,
    SwitchMetrics metrics,
    IOptions<SwitchOptions> options,
    TimeProvider time,
    ILogger<AuthorizationFlow> logger)
{
    private const string UnknownOutcome = ResponseCodes.IssuerUnavailable;
    private const string NoSuchIssuer = "15";
    private static readonly int[] ForwardedFields =
        [IsoFields.Pan, IsoFields.ProcessingCode, IsoFields.AmountTransaction, IsoFields.TransmissionDateTime, IsoFields.Stan,
         IsoFields.LocalTime, IsoFields.LocalDate, IsoFields.ExpiryDate, IsoFields.MerchantType, IsoFields.PosEntryMode,
         IsoFields.PosConditionCode, IsoFields.AcquirerId, IsoFields.Rrn, IsoFields.AuthCode, IsoFields.TerminalId, IsoFields.MerchantId,
         IsoFields.Currency, IsoFields.AdditionalData, IsoFields.SecurityControl, IsoFields.OriginalDataElements];

    public async Task<byte[]> AuthorizeAsync(byte[] packed, CancellationToken ct)
    {
        var unpacked = packager.Unpack(packed);
        if (!unpacked.Ok)
        {
            logger.LogWarning("Format error from an acquirer: {Error}", unpacked.Error);
            var refusal = IsoServer.FormatErrorAnswer(unpacked.Partial) ?? new IsoMessage("0210").Set(IsoFields.ResponseCode, ResponseCodes.FormatError);
            return packager.Pack(refusal);
        }
        var request = unpacked.Message!;
        var (answer, issuer) = await DecideAsync(request, ct);
        metrics.Answered(issuer, request.Mti, answer.GetString(IsoFields.ResponseCode) ?? "none");
        return packager.Pack(answer);
    }

    /// <summary>The answer for the acquirer, and the issuer it was routed to (null when none).</summary>
    private async Task<(IsoMessage Answer, string? Issuer)> DecideAsync(IsoMessage request, CancellationToken ct)
    {
        if (request.Mti is not ("0200" or "0100" or "0220" or "0420"))
        {
            return (Answer(request, ResponseCodes.InvalidTransaction), null);
        }
        var acquirer = options.Value.Acquirers.FirstOrDefault(a => a.Id == request.GetString(IsoFields.AcquirerId));
        if (acquirer is null || !Has(request, IsoFields.Pan, IsoFields.AmountTransaction, IsoFields.TransmissionDateTime, IsoFields.Stan, IsoFields.Mac)
            || (IsAdvice(request) && !request.Has(IsoFields.OriginalDataElements)))
        {
            return (Answer(request, ResponseCodes.FormatError), null);
        }
        var zak = $"{acquirer.KeyPrefix}.zak";
        var issuerName = bins.Route(request.GetString(IsoFields.Pan)!);
        var link = issuerName is null ? null : links.Find(issuerName);
        // The request's MAC is checked, and its forward to the issuer prepared, in one Hsm round trip: the forward is wasted only
        // on a bad MAC or a duplicate, both rare.
        var forward = link is null ? null : Forward(request, acquirer, link);
        var inbound = await security.CheckAndForwardAsync(zak, request, forward, ct);
        if (!inbound.MacValid)
        {
            await journal.RecordAsync(acquirer.Id, request, null, ExchangeOutcome.Refused, 0, ct);
            return (await security.SignAsync(zak, Answer(request, "A0"), ct), null);
        }
        if (await ClaimAsync(request, link?.Name, zak, ct) is { } previous)
        {
            return (previous, link?.Name);
        }
        if (request.Mti == "0420")
        {
            var (release, releaseRecords) = await ReleaseHoldAsync(request, ct);
            await security.SignAsync(zak, release, ct);
            await RememberAsync(request, release, releaseRecords, ct);
            return (release, link?.Name);
        }
        // What the exchange leaves to record (journal, an advice owed) is written with the answer, in one round trip.
        var records = new List<NpgsqlBatchCommand>(2);
        var answer = link is null ? Answer(request, NoSuchIssuer)
            : inbound.PinRefused ? Answer(request, "55")
            : await ExchangeAsync(request, forward!.Message, link, zak, records, ct);
        // An answer that settles the issuer's outcome was MAC'd with the check of the issuer's MAC; the others are MAC'd here.
        if (!answer.Has(IsoFields.Mac))
        {
            await security.SignAsync(zak, answer, ct);
        }
        await RememberAsync(request, answer, records, ct);
        return (answer, link?.Name);
    }

    /// <summary>The request as the issuer gets it: the acquirer's fields, the switch as forwarder; its PIN block and MAC come from the Hsm.</summary>
    private SecurityModule.Forwarding Forward(IsoMessage request, AcquirerOptions acquirer, IssuerLink link)
    {
        var forward = new IsoMessage(request.Mti);
        foreach (var field in ForwardedFields)
        {
            if (request.GetString(field) is { } value)
            {
                forward.Set(field, value);
            }
        }
        forward.Set(IsoFields.ForwardingId, options.Value.InstitutionId).Set(IsoFields.ReceivingInstitution, link.BankId);
        return new SecurityModule.Forwarding(forward, $"{acquirer.KeyPrefix}.zpk", link.ZpkId, link.ZakId, request.GetString(IsoFields.Pan)!);
    }

    private async Task<IsoMessage> ExchangeAsync(IsoMessage request, IsoMessage forward, IssuerLink link, string acquirerZakId,
        List<NpgsqlBatchCommand> records, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        IsoMessage issuerAnswer;
        try
        {
            issuerAnswer = await link.ExchangeAsync(forward, options.Value.AuthorizationTimeoutMs, ct);
        }
        catch (IsoLinkException)
        {
            // Never sent: nothing to reverse.
            records.Add(journal.Entry(link.Name, forward, null, ExchangeOutcome.LinkDown, Elapsed(started)));
            metrics.IssuerExchange(link.Name, "link_down", time.GetElapsedTime(started));
            return Answer(request, UnknownOutcome);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException)
        {
            records.Add(journal.Entry(link.Name, forward, null, ExchangeOutcome.Timeout, Elapsed(started)));
            metrics.IssuerExchange(link.Name, ex is TimeoutException ? "timeout" : "link_lost", time.GetElapsedTime(started));
            return OutcomeUnknown(request, forward, link, ex is TimeoutException ? "no answer in time" : "link lost with the request in flight", records);
        }
        records.Add(journal.Entry(link.Name, forward, issuerAnswer, ExchangeOutcome.Answered, Elapsed(started)));
        metrics.IssuerExchange(link.Name, "answered", time.GetElapsedTime(started));
        var code = issuerAnswer.GetString(IsoFields.ResponseCode);
        if (code is null)
        {
            return OutcomeUnknown(request, forward, link, "answer without a response code: outcome unknown", records);
        }
        // Field 100 tells the acquirer which bank answered: settlement books the bank's receivable on it.
        var answer = Answer(request, code).Set(IsoFields.ReceivingInstitution, link.BankId);
        if (issuerAnswer.GetString(IsoFields.AuthCode) is { } authCode)
        {
            answer.Set(IsoFields.AuthCode, authCode);
        }
        if (!ReversalProtocol.SettlesTheOutcome(code, await security.CheckAnswerAndSignAsync(link.ZakId, issuerAnswer, acquirerZakId, answer, ct)))
        {
            return OutcomeUnknown(request, forward, link, $"answer {code} or a bad MAC: outcome unknown", records);
        }
        return answer;
    }

    /// <summary>
    /// A request whose outcome is unknown: a purchase or pre-authorization is reversed (91 to the
    /// acquirer); a refund is an advice the switch now owes the issuer, repeated until acknowledged,
    /// so the acquirer is told it was accepted (00, without an authorization code).
    /// </summary>
    private IsoMessage OutcomeUnknown(IsoMessage request, IsoMessage forward, IssuerLink link, string reason, List<NpgsqlBatchCommand> records)
    {
        records.Add(reversals.Enqueue(link.Name, forward, reason));
        return Answer(request, IsAdvice(request) ? ResponseCodes.Approved : UnknownOutcome);
    }

    private static bool IsAdvice(IsoMessage request) => request.Mti is "0220" or "0420";

    /// <summary>Field 39 when a reversal names no approved pre-authorization of its acquirer's.</summary>
    private const string UnableToLocateOriginal = "25";

    /// <summary>
    /// An acquirer's reversal of its pre-authorization (field 90: <c>0100</c>, STAN, transmission time, acquirer): the hold,
    /// approved by its issuer, is owed a 0420 that the reversal queue repeats until the issuer acknowledges it (queued with the
    /// answer, in one transaction). 25 when there is no such approved pre-authorization of this acquirer's; a hold the switch
    /// is already reversing is not queued twice.
    /// </summary>
    private async Task<(IsoMessage Answer, List<NpgsqlBatchCommand> Records)> ReleaseHoldAsync(IsoMessage request, CancellationToken ct)
    {
        var records = new List<NpgsqlBatchCommand>(2);
        var original = request.GetString(IsoFields.OriginalDataElements)!;
        var acquirerId = request.GetString(IsoFields.AcquirerId)!;
        if (original is not { Length: 42 } || !original.StartsWith("0100", StringComparison.Ordinal)
            || original[20..31].TrimStart('0') != acquirerId.TrimStart('0'))
        {
            return (Answer(request, UnableToLocateOriginal), records);
        }
        await using var find = db.CreateCommand(
            """
            SELECT issuer, amount_minor, coalesce(processing_code, '030000'), coalesce(currency, '156') FROM authorizations
            WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3 AND mti = '0100' AND response_code = '00' AND issuer IS NOT NULL
            """);
        BatchSql.Bind(find, acquirerId, original[4..10], original[10..20]);
        await using var row = await find.ExecuteReaderAsync(ct);
        if (!await row.ReadAsync(ct))
        {
            return (Answer(request, UnableToLocateOriginal), records);
        }
        var hold = new IsoMessage("0100")
            .Set(IsoFields.AcquirerId, acquirerId)
            .Set(IsoFields.Stan, original[4..10])
            .Set(IsoFields.TransmissionDateTime, original[10..20])
            .Set(IsoFields.AmountTransaction, row.GetInt64(1).ToString("D12", CultureInfo.InvariantCulture))
            .Set(IsoFields.ProcessingCode, row.GetString(2))
            .Set(IsoFields.Currency, row.GetString(3));
        records.Add(reversals.Enqueue(row.GetString(0), hold, "the acquirer released its pre-authorization"));
        return (Answer(request, ResponseCodes.Approved), records);
    }

    /// <summary>
    /// The first request with this acquirer, STAN and transmission time is claimed; a repeat gets
    /// the stored answer, or 94 while the first is still being decided. Never a second authorization.
    /// Another message under a key already claimed (its type, processing code, amount, currency or card
    /// differ) is no repeat: it is answered 30 and neither forwarded nor given the first one's answer.
    /// </summary>
    private async Task<IsoMessage?> ClaimAsync(IsoMessage request, string? issuer, string zak, CancellationToken ct)
    {
        var panMasked = Pan.Mask(request.GetString(IsoFields.Pan)!);
        var amountMinor = long.Parse(request.GetString(IsoFields.AmountTransaction)!, CultureInfo.InvariantCulture);
        var processingCode = request.GetString(IsoFields.ProcessingCode) ?? "000000";
        var currency = request.GetString(IsoFields.Currency) ?? "156";
        var claim = BatchSql.Command(
            """
            INSERT INTO authorizations (acquirer_id, stan, transmission, issuer, pan_masked, amount_minor, created_at, mti, processing_code, currency, original_data)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING
            """,
            request.GetString(IsoFields.AcquirerId)!, request.GetString(IsoFields.Stan)!, request.GetString(IsoFields.TransmissionDateTime)!, issuer,
            panMasked, amountMinor, time.GetUtcNow(), request.Mti, processingCode, currency, request.GetString(IsoFields.OriginalDataElements));
        await writes.ExecuteAsync([claim], ct);
        if (claim.RecordsAffected == 1)
        {
            return null;
        }
        await using var stored = db.CreateCommand(
            """
            SELECT answer, response_code, (mti, processing_code, amount_minor, currency, pan_masked) IS NOT DISTINCT FROM (@mti, @pc, @amount, @currency, @pan)
            FROM authorizations WHERE acquirer_id = @acq AND stan = @stan AND transmission = @tx
            """);
        Bind(stored, request);
        stored.Parameters.AddWithValue("mti", request.Mti);
        stored.Parameters.AddWithValue("pc", processingCode);
        stored.Parameters.AddWithValue("amount", amountMinor);
        stored.Parameters.AddWithValue("currency", currency);
        stored.Parameters.AddWithValue("pan", panMasked);
        await using var row = await stored.ExecuteReaderAsync(ct);
        var (answer, code, same) = await row.ReadAsync(ct)
            ? (row.IsDBNull(0) ? null : row.GetFieldValue<byte[]>(0), row.IsDBNull(1) ? null : row.GetString(1), row.GetBoolean(2))
            : (null, null, true);
        if (!same)
        {
            logger.LogWarning("STAN {Stan} at {Transmission} is reused by {Acquirer} for another message: answered {Code}",
                request.GetString(IsoFields.Stan), request.GetString(IsoFields.TransmissionDateTime), request.GetString(IsoFields.AcquirerId), ResponseCodes.FormatError);
            return await security.SignAsync(zak, Answer(request, ResponseCodes.FormatError), ct);
        }
        if (answer is not null && packager.Unpack(answer) is { Ok: true } previous)
        {
            logger.LogInformation("Duplicate of STAN {Stan}: the stored answer is replayed", request.GetString(IsoFields.Stan));
            return previous.Message;
        }
        // Decided without an answer to replay (a switch that stopped with the request at the bank:
        // the sweep answered it and queued its advice), or still being decided (94: ask again later).
        logger.LogInformation("Duplicate of STAN {Stan}: answered {Code}", request.GetString(IsoFields.Stan), code ?? ResponseCodes.DuplicateTransmission);
        return await security.SignAsync(zak, Answer(request, code ?? ResponseCodes.DuplicateTransmission), ct);
    }

    /// <summary>The answer, with what the exchange left to record, in one transaction (grouped with other requests'), before the acquirer hears it.</summary>
    private async Task RememberAsync(IsoMessage request, IsoMessage answer, List<NpgsqlBatchCommand> records, CancellationToken ct)
    {
        records.Add(BatchSql.Command(
            "UPDATE authorizations SET response_code = $4, answer = $5, answered_at = $6 WHERE acquirer_id = $1 AND stan = $2 AND transmission = $3",
            request.GetString(IsoFields.AcquirerId)!, request.GetString(IsoFields.Stan)!, request.GetString(IsoFields.TransmissionDateTime)!,
            answer.GetString(IsoFields.ResponseCode)!, packager.Pack(answer), time.GetUtcNow()));
        await writes.ExecuteAsync(records, ct);
    }

    private static void Bind(NpgsqlCommand command, IsoMessage request)
    {
        command.Parameters.AddWithValue("acq", request.GetString(IsoFields.AcquirerId)!);
        command.Parameters.AddWithValue("stan", request.GetString(IsoFields.Stan)!);
        command.Parameters.AddWithValue("tx", request.GetString(IsoFields.TransmissionDateTime)!);
    }

    private static bool Has(IsoMessage message, params int[] fields) => fields.All(message.Has);

    private static readonly int[] AnsweredFields =
        [IsoFields.ProcessingCode, IsoFields.PosConditionCode, IsoFields.AmountTransaction, IsoFields.TransmissionDateTime, IsoFields.Stan,
         IsoFields.AcquirerId, IsoFields.Rrn, IsoFields.TerminalId, IsoFields.MerchantId, IsoFields.Currency];

    /// <summary>The 0210 for the acquirer: its own fields echoed, with field 39.</summary>
    private static IsoMessage Answer(IsoMessage request, string responseCode) => IsoMessage.AnswerTo(request, responseCode, AnsweredFields);

    private double Elapsed(long started) => time.GetElapsedTime(started).TotalMilliseconds;
}
