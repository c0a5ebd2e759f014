using Grpc.Core;
using Mesh.Contracts.Common;
using Mesh.Contracts.Switch;
using Mesh.Iso8583.Messages;
using Mesh.ServiceDefaults.Access;
using Mesh.Switch.Authorization;
using Mesh.Switch.Journal;
using Mesh.Switch.KeyChange;
using Mesh.Switch.Links;
using Mesh.Switch.Onboarding;
using Mesh.Switch.Options;
using Mesh.Switch.Reversals;
using Mesh.Switch.Routing;
using Microsoft.Extensions.Options;

namespace Mesh.Switch.Grpc;

public sealed class CardSwitchService(
    IssuerLinks links,
    MessageJournal journal,
    AuthorizationFlow authorizations,
    BinTable bins,
    ReversalQueue reversals,
    OutcomeLookup outcomes,
    IssuerOnboarding onboarding,
    ZoneKeyChanges keyChanges,
    IOptions<SwitchOptions> options,
    TimeProvider time) : CardSwitch.CardSwitchBase
{
    public const int MessageBytesMax = Iso8583.Packaging.IsoPackager.MessageBytesMax;

    public override async Task<AuthorizeReply> Authorize(AuthorizeRequest request, ServerCallContext context)
    {
        if (request.Message.Length is 0 or > MessageBytesMax)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"an ISO 8583 message of 1 to {MessageBytesMax} bytes"));
        }
        var answer = await authorizations.AuthorizeAsync(request.Message.ToByteArray(), context.CancellationToken);
        return new AuthorizeReply { Message = Google.Protobuf.ByteString.CopyFrom(answer) };
    }

    public override async Task<OutcomeReply> GetOutcome(OutcomeRequest request, ServerCallContext context)
    {
        if (request.AcquirerId.Length is 0 or > 11 || request.Stan.Length != 6 || request.Transmission.Length != 10)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an acquirer id of 1 to 11 digits, a 6-digit STAN and a 10-digit transmission time"));
        }
        return await outcomes.FindAsync(request.AcquirerId, request.Stan, request.Transmission, context.CancellationToken);
    }

    public override async Task<ListAuthorizationsReply> ListAuthorizations(ListAuthorizationsRequest request, ServerCallContext context)
    {
        if (request.FromUnixMs <= 0 || request.ToUnixMs <= request.FromUnixMs || request.Limit is < 0 or > OutcomeLookup.ListedMax)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"a window (from before to, in Unix milliseconds) and a limit of 0 to {OutcomeLookup.ListedMax}"));
        }
        return await outcomes.ListAsync(DateTimeOffset.FromUnixTimeMilliseconds(request.FromUnixMs), DateTimeOffset.FromUnixTimeMilliseconds(request.ToUnixMs),
            request.Limit == 0 ? OutcomeLookup.ListedMax : request.Limit, context.CancellationToken);
    }

    public override async Task<BinRoute> SetBinRoute(BinRoute request, ServerCallContext context)
    {
        if (request.Prefix.Length is < 1 or > 11 || !request.Prefix.All(char.IsAsciiDigit) || links.Find(request.Issuer) is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a prefix is 1 to 11 digits and the issuer one of the switch's links"));
        }
        await bins.SetAsync(request.Prefix, request.Issuer, context.CancellationToken);
        return request;
    }

    public override async Task<DeleteBinRouteReply> DeleteBinRoute(BinRoute request, ServerCallContext context)
    {
        await bins.DeleteAsync(request.Prefix, context.CancellationToken);
        return new DeleteBinRouteReply();
    }

    public override Task<ListBinRoutesReply> ListBinRoutes(ListBinRoutesRequest request, ServerCallContext context)
    {
        var reply = new ListBinRoutesReply();
        reply.Routes.AddRange(bins.Routes.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new BinRoute { Prefix = r.Key, Issuer = r.Value }));
        return Task.FromResult(reply);
    }

    public override Task<ListCardProductsReply> ListCardProducts(ListCardProductsRequest request, ServerCallContext context)
    {
        var reply = new ListCardProductsReply();
        reply.CreditPrefixes.AddRange(bins.CreditPrefixes.Order(StringComparer.Ordinal));
        return Task.FromResult(reply);
    }

    public override async Task<ListLinksReply> ListLinks(ListLinksRequest request, ServerCallContext context)
    {
        var reply = new ListLinksReply();
        foreach (var link in links.All)
        {
            reply.Links.Add(await onboarding.StateOfAsync(link, await reversals.PendingAsync(link.Name, context.CancellationToken), context.CancellationToken));
        }
        return reply;
    }

    public override Task<LinkState> OnboardIssuer(OnboardIssuerRequest request, ServerCallContext context) =>
        onboarding.OnboardAsync(request, context.CancellationToken);

    /// <summary>An operator's key change on one link (<see cref="ZoneKeyChanges"/>); a change already under way on it is FailedPrecondition.</summary>
    public override async Task<ChangeZoneKeysReply> ChangeZoneKeys(ChangeZoneKeysRequest request, ServerCallContext context)
    {
        var link = links.Find(request.Issuer) ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"no link named '{request.Issuer}'; ListLinks names them"));
        var graceMin = (options.Value.AuthorizationTimeoutMs + 999) / 1_000;
        if (request.GraceSeconds != 0 && (request.GraceSeconds < graceMin || request.GraceSeconds > KeyChangeData.GraceSecondsMax))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"grace_seconds is 0 (Switch:ZoneKeyGraceSeconds) or {graceMin} (the authorization timeout) to {KeyChangeData.GraceSecondsMax}"));
        }
        var grace = request.GraceSeconds == 0 ? options.Value.ZoneKeyGraceSeconds : request.GraceSeconds;
        IReadOnlyList<ZoneKeyChangeResult>? results;
        try
        {
            results = await keyChanges.ChangeAsync(link, grace, MeshAccessInterceptor.CallerOf(context)?.Name ?? "operator", context.CancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the Hsm did not make the new key: {ex.Status.Detail}"));
        }
        if (results is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"a zone key change on {link.Name} is under way"));
        }
        var reply = new ChangeZoneKeysReply { Issuer = link.Name };
        reply.Keys.AddRange(results.Select(r => new ZoneKeyChange
        {
            Key = r.Key,
            Outcome = r.Outcome,
            PreviousCheckValue = r.PreviousCheckValue,
            CheckValue = r.CheckValue,
            ResponseCode = r.ResponseCode,
            Detail = r.Detail,
        }));
        return reply;
    }

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
