using Grpc.Core;
using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Messages;
using Mesh.Switch.Links;
using Mesh.Switch.Metrics;
using Mesh.Switch.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Switch.KeyChange;

/// <summary>What became of one key's change: its outcome, both check values, the bank's field 39.</summary>
public sealed record ZoneKeyChangeResult(string Key, string Outcome, string PreviousCheckValue, string CheckValue, string ResponseCode, string Detail);

/// <summary>The outcomes of a key change (<c>outcome</c> on the metric and in the audit rows).</summary>
public static class ZoneKeyChangeOutcomes
{
    /// <summary>Both ends use the new key; the previous one is accepted for the grace window.</summary>
    public const string Changed = "changed";

    /// <summary>The link has no zone keys yet (a bank not onboarded): nothing to change.</summary>
    public const string Skipped = "skipped";

    /// <summary>The bank answered 00 with a check value that is not the new key's: nothing changed.</summary>
    public const string CheckValueMismatch = "check_value_mismatch";

    /// <summary>The bank refused the new key (field 39 not 00): nothing changed.</summary>
    public const string Refused = "refused";

    /// <summary>The link was down or the bank never answered: nothing changed.</summary>
    public const string NoAnswer = "no_answer";

    /// <summary>The switch changed over, the bank did not confirm its own change-over: it may still MAC under the previous key, accepted until the window ends.</summary>
    public const string NotConfirmed = "not_confirmed";

    /// <summary>A scheduled change stopped on an error of the switch's own (its Hsm or database out of reach): see the warning logged.</summary>
    public const string Failed = "failed";
}

/// <summary>
/// The switch as the key-issuing side of each link changes the link's ZPK and ZAK without stopping
/// traffic (0800/101, field 48 as <see cref="KeyChangeData"/>): the Hsm generates the next version
/// and gives it only under the link's ZMK (A0 mode 1); the bank imports it as its next version and
/// answers 00 with the check value it computed; only when that is the new key's does the switch
/// change over (its Hsm makes the new version current, the old one accepted for the grace window),
/// then tells the bank to change over too. Anything else discards the new version: both ends keep
/// the current key, and the failure is counted, logged and audited. On a schedule per link
/// (<c>Switch:ZoneKeyChangeIntervalMinutes</c>, claimed by one replica) and on an operator's command.
/// </summary>
public sealed class ZoneKeyChanges(
    IssuerLinks links,
    Hsm.HsmClient hsm,
    ZoneKeyChangeStore store,
    SwitchMetrics metrics,
    IOptions<SwitchOptions> options,
    TimeProvider time,
    ILogger<ZoneKeyChanges> logger) : BackgroundService
{
    /// <summary>Sends of one step of a key change before its outcome is taken as no answer (the bank's side is idempotent).</summary>
    public const int StepAttemptsMax = 3;

    /// <summary>How often the schedule is looked at.</summary>
    public static readonly TimeSpan SchedulePoll = TimeSpan.FromMinutes(1);

    /// <summary>Changes the link's ZPK, then its ZAK. Null when another change of the link is under way.</summary>
    public async Task<IReadOnlyList<ZoneKeyChangeResult>?> ChangeAsync(IssuerLink link, int graceSeconds, string initiatedBy, CancellationToken ct)
    {
        await using var held = await store.TryLockAsync(link.Name, ct);
        if (held is null)
        {
            return null;
        }
        return
        [
            await ChangeKeyAsync(link, KeyChangeData.Zpk, link.ZpkId, graceSeconds, initiatedBy, ct),
            await ChangeKeyAsync(link, KeyChangeData.Zak, link.ZakId, graceSeconds, initiatedBy, ct),
        ];
    }

    private async Task<ZoneKeyChangeResult> ChangeKeyAsync(IssuerLink link, string key, string keyId, int graceSeconds, string initiatedBy, CancellationToken ct)
    {
        string previous;
        try
        {
            previous = (await hsm.KeyCheckValueAsync(new KeyCheckValueRequest { KeyId = keyId }, cancellationToken: ct)).CheckValue;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return new ZoneKeyChangeResult(key, ZoneKeyChangeOutcomes.Skipped, "", "", "", $"{link.Name} holds no {key} yet: the bank is not onboarded");
        }
        var tr31 = link.KeyExchange == KeyExchangeForms.Tr31;
        var next = await hsm.GenerateKeyVersionAsync(new GenerateKeyVersionRequest
        {
            KeyId = keyId,
            ZmkId = link.ZmkId,
            Format = tr31 ? KeyExchangeFormat.Tr31 : KeyExchangeFormat.Cryptogram,
        }, cancellationToken: ct);
        var offer = new KeyChangeData(key, next.CheckValue, graceSeconds, tr31 ? KeyChangeData.KeyBlockStep : KeyChangeData.CryptogramStep,
            tr31 ? next.KeyBlock : Convert.ToHexString(next.Cryptogram.Span));
        (string? Code, string? CheckValue) sent;
        try
        {
            sent = await SendAsync(link, offer, ct);
        }
        catch
        {
            // A change cut short (the caller gone, the link failing otherwise) leaves no pending key accepted behind it.
            await hsm.DiscardKeyVersionAsync(new DiscardKeyVersionRequest { KeyId = keyId, CheckValue = next.CheckValue }, cancellationToken: CancellationToken.None);
            throw;
        }
        var (code, answered) = sent;
        var outcome = code switch
        {
            null => ZoneKeyChangeOutcomes.NoAnswer,
            ResponseCodes.Approved when answered == next.CheckValue => ZoneKeyChangeOutcomes.Changed,
            ResponseCodes.Approved => ZoneKeyChangeOutcomes.CheckValueMismatch,
            _ => ZoneKeyChangeOutcomes.Refused,
        };
        string detail;
        if (outcome != ZoneKeyChangeOutcomes.Changed)
        {
            await hsm.DiscardKeyVersionAsync(new DiscardKeyVersionRequest { KeyId = keyId, CheckValue = next.CheckValue }, cancellationToken: CancellationToken.None);
            detail = outcome switch
            {
                ZoneKeyChangeOutcomes.NoAnswer => "the bank did not answer the key change",
                ZoneKeyChangeOutcomes.CheckValueMismatch => $"the bank answered check value {answered ?? "(none)"}, the new key's is {next.CheckValue}",
                _ => $"the bank refused the new key with {code}",
            };
            logger.LogWarning("Zone key change of the {Key} on {Issuer} failed ({Outcome}): {Detail}; both ends keep the current key {CheckValue}",
                key, link.Name, outcome, detail, previous);
        }
        else
        {
            await hsm.ActivateKeyVersionAsync(new ActivateKeyVersionRequest { KeyId = keyId, CheckValue = next.CheckValue, GraceSeconds = graceSeconds }, cancellationToken: ct);
            var (confirmed, _) = await SendAsync(link, offer with { Step = KeyChangeData.ActivateStep, KeyUnderZmk = "" }, ct);
            if (confirmed == ResponseCodes.Approved)
            {
                detail = $"{previous} accepted for {graceSeconds} s more";
                logger.LogInformation("Changed the {Key} on {Issuer} from {Previous} to {CheckValue}; the previous key is accepted for {GraceSeconds} s",
                    key, link.Name, previous, next.CheckValue, graceSeconds);
            }
            else
            {
                outcome = ZoneKeyChangeOutcomes.NotConfirmed;
                detail = $"the bank answered the change-over with {confirmed ?? "nothing"}: its MACs under {previous} are accepted for {graceSeconds} s; change the keys again";
                logger.LogWarning("The switch changed the {Key} on {Issuer} to {CheckValue}, the bank did not confirm: {Detail}", key, link.Name, next.CheckValue, detail);
            }
            code = confirmed ?? "";
        }
        metrics.ZoneKeyChange(link.Name, key, outcome);
        await store.RecordAsync(new ZoneKeyChangeRecord(link.Name, key, initiatedBy, outcome, previous, next.CheckValue, answered ?? "", code ?? "",
            graceSeconds, detail), CancellationToken.None);
        return new ZoneKeyChangeResult(key, outcome, previous, outcome is ZoneKeyChangeOutcomes.Changed or ZoneKeyChangeOutcomes.NotConfirmed ? next.CheckValue : previous,
            code ?? "", detail);
    }

    /// <summary>One step of a key change, sent again while unanswered (the bank's side is idempotent): field 39 and the check value answered; null, null for no answer.</summary>
    private async Task<(string? Code, string? CheckValue)> SendAsync(IssuerLink link, KeyChangeData step, CancellationToken ct)
    {
        for (var attempt = 1; attempt <= StepAttemptsMax; attempt++)
        {
            try
            {
                var request = link.NetworkManagement(NetworkManagementCodes.KeyChange).Set(IsoFields.AdditionalData, step.Format());
                var answer = await link.ExchangeAsync(request, options.Value.EchoTimeoutMs, ct);
                return (answer.GetString(IsoFields.ResponseCode), KeyChangeData.CheckValueAnswered(answer.GetString(IsoFields.AdditionalData), step.Key));
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or IsoLinkException or ObjectDisposedException)
            {
                logger.LogWarning("Key change step {Step} of the {Key} on {Issuer} not answered ({Attempt} of {AttemptsMax}): {Reason}",
                    step.Step, step.Key, link.Name, attempt, StepAttemptsMax, ex.Message);
            }
        }
        return (null, null);
    }

    /// <summary>The schedule: each link's change, when due, by the one replica that claims it.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMinutes(options.Value.ZoneKeyChangeIntervalMinutes);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var link in links.All)
            {
                bool due;
                try
                {
                    due = await store.ClaimDueAsync(link.Name, interval, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("The zone key schedule of {Issuer} was not read: {Reason}; looked at again in {PollSeconds} s",
                        link.Name, ex.Message, SchedulePoll.TotalSeconds);
                    continue;
                }
                try
                {
                    if (due)
                    {
                        await ChangeAsync(link, options.Value.ZoneKeyGraceSeconds, "schedule", stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    metrics.ZoneKeyChange(link.Name, "both", ZoneKeyChangeOutcomes.Failed);
                    logger.LogWarning("Scheduled zone key change on {Issuer} failed: {Reason} ({Kind}); due again in {IntervalMinutes} min",
                        link.Name, ex.Message, ex.GetType().Name, interval.TotalMinutes);
                }
            }
            await Task.Delay(SchedulePoll, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
