using System.Globalization;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Platform;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The operator console, the platform's own side, under <c>/ops</c> on HTTPS: its own sign-in
/// (operator id and password, the realm <c>platform</c>, platform roles) and its own session
/// cookie. The switch's links (signed on, echo latency, reversals owed to each bank), merchants
/// and their onboarding, banks and theirs (<see cref="OperatorBanksPages"/>), the gate codes consumers choose from (<see cref="OperatorGatesPages"/>), the risk controls (<see cref="OperatorRiskPages"/>), settlement batches and their payouts, and a date's three-way
/// reconciliation. Only a platform admin onboards merchants, suspends, reactivates or offboards them, and records payouts.
/// </summary>
public static class OperatorConsoleApi
{
    public const int MerchantsListed = 200;

    public const int PayoutReferenceCharsMax = 100;

    public static RouteGroupBuilder MapOperatorConsole(this RouteGroupBuilder group)
    {
        group.MapGet("/login", (HttpContext http) => ConsolePages.Login(http, platform: true));
        group.MapPost("/login", LogInAsync);
        var signedIn = group.MapGroup("").RequireConsole(ConsolePolicies.Operator);
        signedIn.MapGet("/", LinksAsync);
        signedIn.MapPost("/logout", LogOutAsync);
        signedIn.MapGet("/merchants", MerchantsAsync);
        signedIn.MapPost("/merchants", OnboardAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/merchants/{merchantId}/suspend", (string merchantId, HttpContext http, MerchantRegistry merchants, MerchantOffboarding offboarding,
            ConsoleAccounts accounts, TimeProvider time, IStringLocalizer<OperatorConsoleText> text, CancellationToken ct) =>
            MoveAsync(merchantId, MerchantMove.Suspend, http, merchants, offboarding, accounts, time, text, ct))
            .RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/merchants/{merchantId}/reactivate", (string merchantId, HttpContext http, MerchantRegistry merchants, MerchantOffboarding offboarding,
            ConsoleAccounts accounts, TimeProvider time, IStringLocalizer<OperatorConsoleText> text, CancellationToken ct) =>
            MoveAsync(merchantId, MerchantMove.Reactivate, http, merchants, offboarding, accounts, time, text, ct))
            .RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/merchants/{merchantId}/offboard", (string merchantId, HttpContext http, MerchantRegistry merchants, MerchantOffboarding offboarding,
            ConsoleAccounts accounts, TimeProvider time, IStringLocalizer<OperatorConsoleText> text, CancellationToken ct) =>
            MoveAsync(merchantId, MerchantMove.Offboard, http, merchants, offboarding, accounts, time, text, ct))
            .RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapGet("/settlement", BatchesAsync);
        signedIn.MapPost("/settlement/batches/{batchId:long}/payout", PayoutAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/settlement/batches/{batchId:long}/retry", RetryPayoutAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapGet("/settlement/payouts/{msgId}", PayoutFileAsync);
        signedIn.MapPost("/settlement/payouts/report", PayoutReportAsync).RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapGet("/reconciliation", ReconciliationAsync);
        signedIn.MapBanks();
        signedIn.MapGates();
        signedIn.MapRisk();
        signedIn.MapSessions();
        signedIn.MapPlatformKeys();
        return group;
    }

    /// <summary>A platform operator's sign-in: the form's antiforgery token, the password under the lockout, a session in the operator console's scheme.</summary>
    private static async Task<IResult> LogInAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        IResult Again(string error, int statusCode, params object[] arguments) => ConsolePages.Login(http, true, error, statusCode, arguments);
        if (!await ConsoleAuthentication.FormIsGenuineAsync(http))
        {
            return Again("SignInExpired", StatusCodes.Status400BadRequest);
        }
        var (operatorId, password) = (http.Request.Form["operatorId"].ToString(), http.Request.Form["password"].ToString());
        if (operatorId.Length is 0 or > 32 || password.Length is 0 or > ConsoleAccounts.PasswordCharsMax)
        {
            return Again("OperatorFieldsRequired", StatusCodes.Status400BadRequest);
        }
        if (await accounts.LogInAsync(ConsoleRoles.Platform, operatorId, password, ct) is not { } checkedLogin)
        {
            return Again("Busy", StatusCodes.Status503ServiceUnavailable);
        }
        if (checkedLogin.Outcome == ConsoleAccounts.LogIn.Ok)
        {
            await ConsoleAuthentication.SignInAsync(http, ConsoleSchemes.Operator, ConsoleRoles.Platform, operatorId, checkedLogin.Role!);
            return Results.Redirect("/ops");
        }
        return checkedLogin.Outcome == ConsoleAccounts.LogIn.Locked
            ? Again("Locked", StatusCodes.Status403Forbidden, ConsoleAccounts.LockoutFor.TotalMinutes)
            : Again("OperatorWrong", StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> LogOutAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        await accounts.AuditAsync(ConsoleAuthentication.Session(http), "logout", "signed out", ct);
        await http.SignOutAsync(ConsoleSchemes.Operator);
        return Results.Redirect(ConsoleSchemes.OperatorLogin);
    }

    private static async Task<IResult> LinksAsync(HttpContext http, OperatorSwitchClient cardSwitch, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        try
        {
            var links = await cardSwitch.ListLinksAsync(new ListLinksRequest(), cancellationToken: ct);
            return LinksPage(session, links.Links, null);
        }
        catch (RpcException ex)
        {
            return LinksPage(session, [], ex.Status.Detail);
        }
    }

    private static IResult LinksPage(ConsoleSession session, IReadOnlyList<LinkState> links, string? switchError) =>
        OperatorPage.Of<Components.Operator.LinksPage>(StatusCodes.Status200OK, (nameof(Components.Operator.LinksPage.Session), session),
            (nameof(Components.Operator.LinksPage.Links), links), (nameof(Components.Operator.LinksPage.SwitchError), switchError));

    private static async Task<IResult> MerchantsAsync(HttpContext http, MerchantRegistry merchants, CancellationToken ct) =>
        MerchantsPage(ConsoleAuthentication.Session(http), await merchants.LatestAsync(MerchantsListed, ct), null, null);

    private static async Task<IResult> OnboardAsync(HttpContext http, MerchantRegistry merchants, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var application = new MerchantApplication(form["merchantId"], form["name"], form["publicKeyPem"], form["notificationMode"], form["notificationProtocol"],
            int.TryParse(form["feeRatePpm"], NumberStyles.None, CultureInfo.InvariantCulture, out var ppm) ? ppm : -1,
            long.TryParse(form["feeMinimumMinor"], NumberStyles.None, CultureInfo.InvariantCulture, out var minimum) ? minimum : -1, form["settlementAccount"],
            ReturnUrlPrefixes: form["returnUrlPrefixes"].ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            SettlementBank: form["settlementBank"].ToString().Trim() is { Length: > 0 } bank ? bank : null);
        var (problems, key) = MerchantsAdminApi.Check(application);
        if (problems.Count > 0)
        {
            return MerchantsPage(session, await merchants.LatestAsync(MerchantsListed, ct), null,
                Words.ByField(problems));
        }
        var (outcome, merchant) = await merchants.OnboardAsync(application, key!, ct);
        await accounts.AuditAsync(session, "merchant-onboarded", $"{merchant.MerchantId} {merchant.Name}: {outcome}", ct);
        return MerchantsPage(session, await merchants.LatestAsync(MerchantsListed, ct),
            outcome == MerchantRegistry.Outcome.Conflict ? null : new Words("{0} ({1}) is onboarded.", merchant.MerchantId, merchant.Name),
            outcome == MerchantRegistry.Outcome.Conflict ? new Words("{0} is already onboarded with other details.", merchant.MerchantId) : null);
    }

    /// <summary>
    /// An operator's move of a merchant's lifecycle (<see cref="MerchantLifecycle"/>), with a reason (1 to 200 characters), audited.
    /// An offboarded merchant with nothing owed closes at once; otherwise once its last batch is paid.
    /// </summary>
    private static async Task<IResult> MoveAsync(string merchantId, MerchantMove move, HttpContext http, MerchantRegistry merchants,
        MerchantOffboarding offboarding, ConsoleAccounts accounts, TimeProvider time, IStringLocalizer<OperatorConsoleText> text, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var reason = form["reason"].ToString().Trim();
        if (reason.Length is 0 or > MerchantLifecycle.ReasonCharsMax)
        {
            return await MerchantsPageAsync(session, merchants, null, new Words("A reason has 1 to {0} characters.", MerchantLifecycle.ReasonCharsMax), ct);
        }
        if (merchantId.Length != 15 || await merchants.FindAsync(merchantId, ct) is not { } merchant)
        {
            return ConsolePages.Error(session, StatusCodes.Status404NotFound, text["No such merchant"], text["There is no merchant {0}.", merchantId]);
        }
        var (to, refusal) = MerchantLifecycle.Move(merchant.State, move);
        if (refusal is not null || to is not { } next || !await merchants.MoveAsync(merchantId, merchant.State, next, reason, time.GetUtcNow(), null, ct))
        {
            return await MerchantsPageAsync(session, merchants, null, new Words("{0}: {1}.", merchantId, new Words(refusal ?? "another operator changed it first; look again")), ct);
        }
        await accounts.AuditAsync(session, "merchant-" + MerchantLifecycle.Text(next), $"{merchantId}: {merchant.Status} -> {MerchantLifecycle.Text(next)}: {reason}", ct);
        var owed = next == MerchantStatus.Offboarding ? await offboarding.TryCloseAsync(merchantId, ct) : null;
        var now = (await merchants.FindAsync(merchantId, ct))!;
        return await MerchantsPageAsync(session, merchants,
            owed is null ? new Words("{0} ({1}) is {2}.", merchantId, now.Name, Words.Label("MerchantStatus", now.Status))
                : new Words("{0} ({1}) is {2}. It closes once nothing is owed: {3}.", merchantId, now.Name, Words.Label("MerchantStatus", now.Status), owed), null, ct);
    }

    private static async Task<IResult> MerchantsPageAsync(ConsoleSession session, MerchantRegistry merchants, Words? message, Words? error, CancellationToken ct) =>
        MerchantsPage(session, await merchants.LatestAsync(MerchantsListed, ct), message, error);

    private static IResult MerchantsPage(ConsoleSession session, IReadOnlyList<Merchant> merchants, Words? message, Words? error) =>
        OperatorPage.Of<Components.Operator.MerchantsPage>(error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest,
            (nameof(Components.Operator.MerchantsPage.Session), session), (nameof(Components.Operator.MerchantsPage.Merchants), merchants),
            (nameof(Components.Operator.MerchantsPage.Message), message), (nameof(Components.Operator.MerchantsPage.Error), error));

    private static async Task<IResult> BatchesAsync(HttpContext http, OperatorSettlementClient settlement, CancellationToken ct) =>
        await BatchesPageAsync(ConsoleAuthentication.Session(http), http.Request.Query["date"].ToString(), settlement, null, null, ct);

    private static async Task<IResult> PayoutAsync(long batchId, HttpContext http, OperatorSettlementClient settlement, ConsoleAccounts accounts,
        MerchantOffboarding offboarding, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var reference = form["reference"].ToString();
        if (reference.Length is 0 or > PayoutReferenceCharsMax)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, new Words("A payout reference has 1 to {0} characters.", PayoutReferenceCharsMax), ct);
        }
        try
        {
            var batch = await settlement.RecordPayoutAsync(new RecordPayoutRequest { BatchId = batchId, Reference = reference }, cancellationToken: ct);
            await accounts.AuditAsync(session, "payout", $"batch {batchId} of {batch.MerchantId} ({batch.SettlementDate}): {batch.NetPayableMinor} {batch.Currency}, {reference}", ct);
            offboarding.Wake();
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, new Words("Batch {0} is {1}.", batchId, Words.Label("Funds", batch.FundStatus)), null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, new Words("The settlement service refused this: {0}", ex.Status.Detail), ct);
        }
    }

    /// <summary>A payment instruction file (pain.001) as the bank takes it, signed by the platform's files key like the reconciliation files.</summary>
    private static async Task<IResult> PayoutFileAsync(string msgId, HttpContext http, OperatorSettlementClient settlement, PlatformCertificates platform,
        ConsoleAccounts accounts, IStringLocalizer<OperatorConsoleText> text, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        try
        {
            var file = await settlement.GetPayoutFileAsync(new GetPayoutFileRequest { MsgId = msgId }, cancellationToken: ct);
            var content = file.Content.ToByteArray();
            var (certId, signature) = await platform.SignFileAsync(content, ct);
            await accounts.AuditAsync(session, "payout-file-downloaded", msgId, ct);
            http.Response.Headers[Apis.ReconciliationApi.FileSignatureHeader] = Convert.ToBase64String(signature);
            http.Response.Headers["Mesh-Cert-Id"] = certId;
            return Results.File(content, "application/xml; charset=utf-8", file.Name);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            return ConsolePages.Error(session, StatusCodes.Status404NotFound, text["No such payment file"], text.Say(new Words("The settlement service refused this: {0}", ex.Status.Detail)));
        }
        catch (RpcException ex)
        {
            // A file past the gRPC message limit (about 7,000 transfers) or settlement not answering.
            return ConsolePages.Error(session, StatusCodes.Status503ServiceUnavailable, text["The payment file could not be fetched"],
                text.Say(new Words("The settlement service could not give the file: {0}", ex.Status.Detail)));
        }
    }

    /// <summary>The bank's status report (pain.002), pasted by a platform admin: applied whole or refused whole, with the reason.</summary>
    private static async Task<IResult> PayoutReportAsync(HttpContext http, OperatorSettlementClient settlement, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var report = form["report"].ToString();
        if (report.Length == 0)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, "Paste the bank's pain.002 status report.", ct, StatusCodes.Status400BadRequest);
        }
        try
        {
            var applied = await settlement.ApplyPaymentStatusReportAsync(
                new PaymentStatusReportRequest { Content = Google.Protobuf.ByteString.CopyFromUtf8(report) }, cancellationToken: ct);
            await accounts.AuditAsync(session, "payout-report",
                $"{applied.MsgId} on {applied.OriginalMsgId}: {applied.Paid} paid, {applied.Rejected} rejected{(applied.AlreadyApplied ? " (applied before)" : "")}", ct);
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, applied.AlreadyApplied
                ? new Words("Report {0} was applied before; nothing changed.", applied.MsgId)
                : new Words("Report {0} on {1}: {2} paid, {3} rejected.", applied.MsgId, applied.OriginalMsgId, applied.Paid, applied.Rejected), null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, new Words("The settlement service refused this: {0}", ex.Status.Detail), ct,
                ex.StatusCode == StatusCode.InvalidArgument ? StatusCodes.Status400BadRequest : StatusCodes.Status409Conflict);
        }
    }

    /// <summary>A rejected batch sent again on the next day's payment file.</summary>
    private static async Task<IResult> RetryPayoutAsync(long batchId, HttpContext http, OperatorSettlementClient settlement, ConsoleAccounts accounts,
        CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        try
        {
            var batch = await settlement.RetryPayoutAsync(new RetryPayoutRequest { BatchId = batchId }, cancellationToken: ct);
            await accounts.AuditAsync(session, "payout-retry", $"batch {batchId} of {batch.MerchantId} ({batch.SettlementDate}): back to {batch.FundStatus}", ct);
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, new Words("Batch {0} is {1}: it goes on the next payment file.", batchId, Words.Label("Funds", batch.FundStatus)), null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, new Words("The settlement service refused this: {0}", ex.Status.Detail), ct);
        }
    }

    private static async Task<IResult> BatchesPageAsync(ConsoleSession session, string date, OperatorSettlementClient settlement, Words? message, Words? error,
        CancellationToken ct, int statusCode = StatusCodes.Status200OK)
    {
        var batches = await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date }, cancellationToken: ct);
        // The date's payment instruction files; the latest when no date (or not a date) is chosen.
        var day = DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? date : "";
        var files = await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = day }, cancellationToken: ct);
        return OperatorPage.Of<Components.Operator.SettlementPage>(statusCode, (nameof(Components.Operator.SettlementPage.Session), session),
            (nameof(Components.Operator.SettlementPage.Date), date), (nameof(Components.Operator.SettlementPage.Batches), batches.Batches),
            (nameof(Components.Operator.SettlementPage.Files), files.Files), (nameof(Components.Operator.SettlementPage.Message), message),
            (nameof(Components.Operator.SettlementPage.Error), error));
    }

    private static async Task<IResult> ReconciliationAsync(HttpContext http, OperatorSettlementClient settlement, CancellationToken ct)
    {
        var date = http.Request.Query["date"].ToString();
        var (report, settlementError) = ((ReconcileReply?)null, (string?)null);
        if (DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            try
            {
                report = await settlement.ReconcileAsync(new ReconcileRequest { SettlementDate = date }, cancellationToken: ct);
            }
            catch (RpcException ex)
            {
                settlementError = ex.Status.Detail;
            }
        }
        return OperatorPage.Of<Components.Operator.ReconciliationPage>(StatusCodes.Status200OK,
            (nameof(Components.Operator.ReconciliationPage.Session), ConsoleAuthentication.Session(http)), (nameof(Components.Operator.ReconciliationPage.Date), date),
            (nameof(Components.Operator.ReconciliationPage.Report), report), (nameof(Components.Operator.ReconciliationPage.SettlementError), settlementError));
    }
}
