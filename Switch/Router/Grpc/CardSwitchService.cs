using Grpc.Core;
using Mesh.Contracts.Common;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Messages;
using Mesh.Switch.Journal;
using Mesh.Switch.Links;
using Mesh.Switch.Options;
using Microsoft.Extensions.Options;

namespace Mesh.Switch.Grpc;

public sealed class CardSwitchService(IssuerLinks links, MessageJournal journal, IOptions<SwitchOptions> options, TimeProvider time)
    : CardSwitch.CardSwitchBase
{
    /// <summary>An ISO 8583 echo (0800, field 70 = 301) to every issuer, in parallel.</summary>
    public override async Task<EchoIssuersReply> EchoIssuers(EchoIssuersRequest request, ServerCallContext context)
    {
        var echoes = await Task.WhenAll(links.All.Select(link => EchoAsync(link, context.CancellationToken)));
        var reply = new EchoIssuersReply();
        reply.Issuers.AddRange(echoes);
        return reply;
    }

    private async Task<IssuerEcho> EchoAsync(IssuerLink link, CancellationToken ct)
    {
        var echo = link.NetworkManagement(NetworkManagementCodes.Echo);
        var started = time.GetTimestamp();
        IsoMessage? answer = null;
        ExchangeOutcome outcome;
        string detail;
        try
        {
            answer = await link.ExchangeAsync(echo, options.Value.EchoTimeoutMs, ct);
            outcome = ExchangeOutcome.Answered;
            detail = $"0810 with response code {answer.GetString(IsoFields.ResponseCode)}";
        }
        catch (TimeoutException)
        {
            outcome = ExchangeOutcome.Timeout;
            detail = $"no answer within {options.Value.EchoTimeoutMs} ms";
        }
        catch (Exception ex) when (ex is IsoLinkException or IOException)
        {
            outcome = ExchangeOutcome.LinkDown;
            detail = ex.Message;
        }
        var latencyMs = time.GetElapsedTime(started).TotalMilliseconds;
        await journal.RecordAsync(link.Name, echo, answer, outcome, latencyMs, ct);
        var responseCode = answer?.GetString(IsoFields.ResponseCode) ?? "";
        return new IssuerEcho
        {
            Hop = new HopHealth
            {
                Name = link.Name,
                Ok = responseCode == ResponseCodes.Approved,
                LatencyMs = latencyMs,
                Detail = detail,
            },
            BankId = link.BankId,
            ResponseCode = responseCode,
            Stan = echo.GetString(IsoFields.Stan)!,
        };
    }
}
