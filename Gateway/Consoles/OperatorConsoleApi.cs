using System.Globalization;
using System.Text;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Platform;
using Microsoft.AspNetCore.Authentication;

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
            ConsoleAccounts accounts, TimeProvider time, CancellationToken ct) => MoveAsync(merchantId, MerchantMove.Suspend, http, merchants, offboarding, accounts, time, ct))
            .RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/merchants/{merchantId}/reactivate", (string merchantId, HttpContext http, MerchantRegistry merchants, MerchantOffboarding offboarding,
            ConsoleAccounts accounts, TimeProvider time, CancellationToken ct) => MoveAsync(merchantId, MerchantMove.Reactivate, http, merchants, offboarding, accounts, time, ct))
            .RequireAuthorization(ConsolePolicies.PlatformAdmin);
        signedIn.MapPost("/merchants/{merchantId}/offboard", (string merchantId, HttpContext http, MerchantRegistry merchants, MerchantOffboarding offboarding,
            ConsoleAccounts accounts, TimeProvider time, CancellationToken ct) => MoveAsync(merchantId, MerchantMove.Offboard, http, merchants, offboarding, accounts, time, ct))
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
        var html = ConsolePages.Layout(session, "Switch");
        html.Append("<h1>The switch's links</h1><table id=\"links\"><thead><tr><th>Bank</th><th>Institution</th><th>Link</th><th class=\"num\">Last echo</th>")
            .Append("<th class=\"num\">Reversals owed</th></tr></thead><tbody>");
        try
        {
            var links = await cardSwitch.ListLinksAsync(new ListLinksRequest(), cancellationToken: ct);
            foreach (var link in links.Links)
            {
                html.Append("<tr><td>").Append(ConsolePages.E(link.Issuer)).Append("</td><td>").Append(ConsolePages.E(link.BankId)).Append("</td><td class=\"link-state\">")
                    .Append(link.SignedOn ? "signed on" : "signed off").Append("</td><td class=\"num\">")
                    .Append(link.LastEchoLatencyMs > 0 ? link.LastEchoLatencyMs.ToString("F1", CultureInfo.InvariantCulture) + " ms" : "no echo yet")
                    .Append("</td><td class=\"num\">").Append(link.ReversalsPending)
                    .Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        catch (RpcException ex)
        {
            html.Append("</tbody></table><p class=\"error\" role=\"alert\">The switch does not answer: ").Append(ConsolePages.E(ex.Status.Detail)).Append("</p>");
        }
        return ConsolePages.Finish(html);
    }

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
                string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}")));
        }
        var (outcome, merchant) = await merchants.OnboardAsync(application, key!, ct);
        await accounts.AuditAsync(session, "merchant-onboarded", $"{merchant.MerchantId} {merchant.Name}: {outcome}", ct);
        return MerchantsPage(session, await merchants.LatestAsync(MerchantsListed, ct),
            outcome == MerchantRegistry.Outcome.Conflict ? null : $"{merchant.MerchantId} ({merchant.Name}) is onboarded.",
            outcome == MerchantRegistry.Outcome.Conflict ? $"{merchant.MerchantId} is already onboarded with other details." : null);
    }

    /// <summary>
    /// An operator's move of a merchant's lifecycle (<see cref="MerchantLifecycle"/>), with a reason (1 to 200 characters), audited.
    /// An offboarded merchant with nothing owed closes at once; otherwise once its last batch is paid.
    /// </summary>
    private static async Task<IResult> MoveAsync(string merchantId, MerchantMove move, HttpContext http, MerchantRegistry merchants,
        MerchantOffboarding offboarding, ConsoleAccounts accounts, TimeProvider time, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var reason = form["reason"].ToString().Trim();
        if (reason.Length is 0 or > MerchantLifecycle.ReasonCharsMax)
        {
            return await MerchantsPageAsync(session, merchants, null, $"A reason has 1 to {MerchantLifecycle.ReasonCharsMax} characters.", ct);
        }
        if (merchantId.Length != 15 || await merchants.FindAsync(merchantId, ct) is not { } merchant)
        {
            return ConsolePages.Error(session, StatusCodes.Status404NotFound, "No such merchant", $"There is no merchant {merchantId}.");
        }
        var (to, refusal) = MerchantLifecycle.Move(merchant.State, move);
        if (refusal is not null || to is not { } next || !await merchants.MoveAsync(merchantId, merchant.State, next, reason, time.GetUtcNow(), null, ct))
        {
            return await MerchantsPageAsync(session, merchants, null, $"{merchantId}: {refusal ?? "another operator changed it first; look again"}.", ct);
        }
        await accounts.AuditAsync(session, "merchant-" + MerchantLifecycle.Text(next), $"{merchantId}: {merchant.Status} -> {MerchantLifecycle.Text(next)}: {reason}", ct);
        var owed = next == MerchantStatus.Offboarding ? await offboarding.TryCloseAsync(merchantId, ct) : null;
        var now = (await merchants.FindAsync(merchantId, ct))!;
        return await MerchantsPageAsync(session, merchants,
            $"{merchantId} ({now.Name}) is {now.Status}." + (owed is null ? "" : $" It closes once nothing is owed: {owed}."), null, ct);
    }

    private static async Task<IResult> MerchantsPageAsync(ConsoleSession session, MerchantRegistry merchants, string? message, string? error, CancellationToken ct) =>
        MerchantsPage(session, await merchants.LatestAsync(MerchantsListed, ct), message, error);

    private static IResult MerchantsPage(ConsoleSession session, IReadOnlyList<Merchant> merchants, string? message, string? error)
    {
        var html = ConsolePages.Layout(session, "Merchants");
        html.Append("<h1>Merchants</h1>");
        ConsolePages.Messages(html, message, error);
        html.Append("<table id=\"merchants\"><thead><tr><th>Merchant</th><th>Name</th><th>Status</th><th>Key</th><th>Notifications</th><th class=\"num\">Fee</th>")
            .Append("<th>Since</th>").Append(session.Role == ConsoleRoles.PlatformAdmin ? "<th>Suspend, reactivate, offboard</th>" : "").Append("</tr></thead><tbody>");
        foreach (var m in merchants)
        {
            html.Append("<tr id=\"merchant-").Append(ConsolePages.E(m.MerchantId)).Append("\"><td>").Append(ConsolePages.E(m.MerchantId)).Append("</td><td>")
                .Append(ConsolePages.E(m.Name)).Append("</td><td class=\"merchant-status\">").Append(ConsolePages.E(m.Status))
                .Append(m.StatusReason is { Length: > 0 } reason ? " · " + ConsolePages.E(reason) : "")
                .Append(m.RetainUntil is { } until ? " · data kept until " + ConsolePages.Time(until) : "")
                .Append("</td><td>").Append(ConsolePages.E(m.KeyAlgorithm)).Append(' ').Append(m.KeyBits)
                .Append(m.PreviousKeyExpiresAt is { } previous ? " (previous key until " + ConsolePages.Time(previous) + ")" : "").Append("</td><td>")
                .Append(ConsolePages.E(m.NotificationMode)).Append('/').Append(ConsolePages.E(m.NotificationProtocol)).Append("</td><td class=\"num\">").Append(m.FeeRatePpm)
                .Append(" ppm, min ").Append(m.FeeMinimumMinor).Append("</td><td>").Append(ConsolePages.Time(m.CreatedAt)).Append("</td>");
            if (session.Role == ConsoleRoles.PlatformAdmin && m.State != MerchantStatus.Closed)
            {
                var path = "/ops/merchants/" + ConsolePages.E(m.MerchantId);
                html.Append("<td><form method=\"post\" action=\"").Append(path).Append("/suspend\">");
                ConsolePages.Csrf(html, session);
                html.Append("<input name=\"reason\" placeholder=\"reason\" maxlength=\"").Append(MerchantLifecycle.ReasonCharsMax).Append("\" required> ");
                foreach (var move in new[] { MerchantMove.Suspend, MerchantMove.Reactivate, MerchantMove.Offboard })
                {
                    if (MerchantLifecycle.Move(m.State, move).To is not null)
                    {
                        var verb = move.ToString().ToLowerInvariant();
                        html.Append("<button type=\"submit\" formaction=\"").Append(path).Append('/').Append(verb).Append("\">").Append(move).Append("</button> ");
                    }
                }
                html.Append("</form></td>");
            }
            else if (session.Role == ConsoleRoles.PlatformAdmin)
            {
                html.Append("<td></td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (session.Role == ConsoleRoles.PlatformAdmin)
        {
            html.Append("<h1>Onboard a merchant</h1><form method=\"post\" action=\"/ops/merchants\">");
            ConsolePages.Csrf(html, session);
            html.Append("<label for=\"merchantId\">Merchant id (15 digits)</label><input id=\"merchantId\" name=\"merchantId\" maxlength=\"15\" required>")
                .Append("<label for=\"name\">Name</label><input id=\"name\" name=\"name\" maxlength=\"100\" required>")
                .Append("<label for=\"publicKeyPem\">Public key or certificate (PEM)</label><textarea id=\"publicKeyPem\" name=\"publicKeyPem\" rows=\"6\" cols=\"72\" required></textarea>");
            ConsolePages.Select(html, "notificationMode", "Notification mode", MerchantApplication.NotificationModes, "deferred");
            ConsolePages.Select(html, "notificationProtocol", "Notification protocol", MerchantApplication.NotificationProtocols, "plain");
            html.Append("<label for=\"feeRatePpm\">Fee (parts per million)</label><input id=\"feeRatePpm\" name=\"feeRatePpm\" value=\"6000\" required>")
                .Append("<label for=\"feeMinimumMinor\">Minimum fee (minor units)</label><input id=\"feeMinimumMinor\" name=\"feeMinimumMinor\" value=\"100\" required>")
                .Append("<label for=\"settlementAccount\">Settlement account</label><input id=\"settlementAccount\" name=\"settlementAccount\" maxlength=\"34\" required>")
                .Append("<label for=\"settlementBank\">Settlement bank (BIC; empty: the platform's own)</label><input id=\"settlementBank\" name=\"settlementBank\" maxlength=\"11\">")
                .Append("<label for=\"returnUrlPrefixes\">Return address prefixes, one a line (NetPay's BgRetUrl and PageRetUrl must lie under one)</label>")
                .Append("<textarea id=\"returnUrlPrefixes\" name=\"returnUrlPrefixes\" rows=\"3\" cols=\"72\"></textarea>")
                .Append("<br><button class=\"primary\" type=\"submit\" id=\"onboard\">Onboard</button></form>");
        }
        return ConsolePages.Finish(html, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> BatchesAsync(HttpContext http, OperatorSettlementClient settlement, CancellationToken ct) =>
        await BatchesPageAsync(ConsoleAuthentication.Session(http), http.Request.Query["date"].ToString(), settlement, null, null, ct);

    private static async Task<IResult> PayoutAsync(long batchId, HttpContext http, OperatorSettlementClient settlement, ConsoleAccounts accounts,
        MerchantOffboarding offboarding, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var reference = form["reference"].ToString();
        if (reference.Length is 0 or > 100)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, "A payout reference has 1 to 100 characters.", ct);
        }
        try
        {
            var batch = await settlement.RecordPayoutAsync(new RecordPayoutRequest { BatchId = batchId, Reference = reference }, cancellationToken: ct);
            await accounts.AuditAsync(session, "payout", $"batch {batchId} of {batch.MerchantId} ({batch.SettlementDate}): {batch.NetPayableMinor} {batch.Currency}, {reference}", ct);
            offboarding.Wake();
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, $"Batch {batchId} is {batch.FundStatus}.", null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, ex.Status.Detail, ct);
        }
    }

    /// <summary>A payment instruction file (pain.001) as the bank takes it, signed by the platform's files key like the reconciliation files.</summary>
    private static async Task<IResult> PayoutFileAsync(string msgId, HttpContext http, OperatorSettlementClient settlement, PlatformCertificates platform,
        ConsoleAccounts accounts, CancellationToken ct)
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
            return ConsolePages.Error(session, StatusCodes.Status404NotFound, "No such payment file", ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            // A file past the gRPC message limit (about 7,000 transfers) or settlement not answering.
            return ConsolePages.Error(session, StatusCodes.Status503ServiceUnavailable, "The payment file could not be fetched", ex.Status.Detail);
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
                ? $"Report {applied.MsgId} was applied before; nothing changed."
                : $"Report {applied.MsgId} on {applied.OriginalMsgId}: {applied.Paid} paid, {applied.Rejected} rejected.", null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, ex.Status.Detail, ct,
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
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, $"Batch {batchId} is {batch.FundStatus}: it goes on the next payment file.", null, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            return await BatchesPageAsync(session, form["date"].ToString(), settlement, null, ex.Status.Detail, ct);
        }
    }

    private static async Task<IResult> BatchesPageAsync(ConsoleSession session, string date, OperatorSettlementClient settlement, string? message, string? error,
        CancellationToken ct, int statusCode = StatusCodes.Status200OK)
    {
        var html = ConsolePages.Layout(session, "Settlement");
        html.Append("<h1>Settlement batches</h1><form class=\"filters\" method=\"get\" action=\"/ops/settlement\">");
        ConsolePages.Field(html, "date", "Settlement date", date, "date");
        html.Append("<button class=\"primary\" type=\"submit\">Show</button></form>");
        ConsolePages.Messages(html, message, error);
        var batches = await settlement.ListBatchesAsync(new ListBatchesRequest { SettlementDate = date }, cancellationToken: ct);
        html.Append("<table id=\"batches\"><thead><tr><th>#</th><th>Date</th><th>Merchant</th><th class=\"num\">Net payable</th><th>Funds</th><th></th></tr></thead><tbody>");
        foreach (var b in batches.Batches)
        {
            html.Append("<tr id=\"batch-").Append(b.BatchId).Append("\"><td>").Append(b.BatchId).Append("</td><td>").Append(ConsolePages.E(b.SettlementDate)).Append("</td><td>")
                .Append(ConsolePages.E(b.MerchantId)).Append("</td><td class=\"num\">").Append(ConsolePages.E(PageFormat.Invariant(b.NetPayableMinor, b.Currency)))
                .Append("</td><td class=\"funds\">").Append(ConsolePages.E(b.FundStatus))
                .Append(b.PayoutReference.Length > 0 ? " · " + ConsolePages.E(b.PayoutReference) : "")
                .Append(b.FundReason.Length > 0 ? " · " + ConsolePages.E(b.FundReason) : "").Append("</td><td>");
            if (b.FundStatus is "pending" or "rejected" && session.Role == ConsoleRoles.PlatformAdmin)
            {
                html.Append("<form method=\"post\" action=\"/ops/settlement/batches/").Append(b.BatchId).Append("/payout\">");
                ConsolePages.Csrf(html, session);
                html.Append("<input type=\"hidden\" name=\"date\" value=\"").Append(ConsolePages.E(date)).Append("\">")
                    .Append("<input name=\"reference\" placeholder=\"payout reference\" maxlength=\"100\" required> <button type=\"submit\">Record payout</button></form>");
            }
            if (b.FundStatus == "rejected" && session.Role == ConsoleRoles.PlatformAdmin)
            {
                html.Append("<form method=\"post\" action=\"/ops/settlement/batches/").Append(b.BatchId).Append("/retry\">");
                ConsolePages.Csrf(html, session);
                html.Append("<input type=\"hidden\" name=\"date\" value=\"").Append(ConsolePages.E(date)).Append("\">")
                    .Append("<button type=\"submit\">Send again on the next file</button></form>");
            }
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        await PayoutFilesAsync(html, session, date, settlement, ct);
        return ConsolePages.Finish(html, statusCode);
    }

    /// <summary>The date's payment instruction files (the latest when no date is chosen) and, for a platform admin, the bank's report form.</summary>
    private static async Task PayoutFilesAsync(StringBuilder html, ConsoleSession session, string date, OperatorSettlementClient settlement, CancellationToken ct)
    {
        var day = DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? date : "";
        var files = await settlement.ListPayoutFilesAsync(new ListPayoutFilesRequest { SettlementDate = day }, cancellationToken: ct);
        html.Append("<h1>Payment files (pain.001)</h1><table id=\"payout-files\"><thead><tr><th>File</th><th>Date</th><th>Bank</th><th class=\"num\">Transfers</th>")
            .Append("<th class=\"num\">Total</th><th class=\"num\">Paid</th><th class=\"num\">Rejected</th><th class=\"num\">Awaiting the bank</th></tr></thead><tbody>");
        foreach (var f in files.Files)
        {
            html.Append("<tr><td><a href=\"/ops/settlement/payouts/").Append(ConsolePages.E(Uri.EscapeDataString(f.MsgId))).Append("\">").Append(ConsolePages.E(f.MsgId))
                .Append("</a></td><td>").Append(ConsolePages.E(f.SettlementDate)).Append("</td><td class=\"payout-bank\">").Append(ConsolePages.E(f.CreditorAgentBic))
                .Append("</td><td class=\"num\">").Append(f.Transactions).Append("</td><td class=\"num\">")
                .Append(ConsolePages.E(PageFormat.Invariant(f.ControlSumMinor, "156"))).Append("</td><td class=\"num\">").Append(f.Paid).Append("</td><td class=\"num\">")
                .Append(f.Rejected).Append("</td><td class=\"num\">").Append(f.Sent).Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (session.Role == ConsoleRoles.PlatformAdmin)
        {
            html.Append("<h1>The bank's status report (pain.002)</h1><form method=\"post\" action=\"/ops/settlement/payouts/report\">");
            ConsolePages.Csrf(html, session);
            html.Append("<input type=\"hidden\" name=\"date\" value=\"").Append(ConsolePages.E(date)).Append("\">")
                .Append("<label for=\"report\">Report XML</label><textarea id=\"report\" name=\"report\" rows=\"8\" cols=\"72\" required></textarea>")
                .Append("<br><button class=\"primary\" type=\"submit\" id=\"apply-report\">Apply the report</button></form>");
        }
    }

    private static async Task<IResult> ReconciliationAsync(HttpContext http, OperatorSettlementClient settlement, CancellationToken ct)
    {
        var session = ConsoleAuthentication.Session(http);
        var date = http.Request.Query["date"].ToString();
        var html = ConsolePages.Layout(session, "Reconciliation");
        html.Append("<h1>Three-way reconciliation</h1><form class=\"filters\" method=\"get\" action=\"/ops/reconciliation\">");
        ConsolePages.Field(html, "date", "Settlement date", date, "date");
        html.Append("<button class=\"primary\" type=\"submit\" id=\"reconcile\">Reconcile</button></form>");
        if (DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            try
            {
                var report = await settlement.ReconcileAsync(new ReconcileRequest { SettlementDate = date }, cancellationToken: ct);
                html.Append("<p id=\"matched\">").Append(report.Matched).Append(" matched, ").Append(report.Discrepancies.Count(d => d.ResolvedBy.Length == 0))
                    .Append(" to look at, ").Append(report.Discrepancies.Count(d => d.ResolvedBy.Length > 0)).Append(" resolved by rule.</p>")
                    .Append("<table id=\"discrepancies\"><thead><tr><th>Kind</th><th>STAN</th><th>Transmission</th><th>Detail</th><th>Resolved by</th></tr></thead><tbody>");
                foreach (var d in report.Discrepancies.OrderBy(d => d.ResolvedBy.Length > 0))
                {
                    html.Append("<tr><td>").Append(ConsolePages.E(d.Kind)).Append("</td><td>").Append(ConsolePages.E(d.Stan)).Append("</td><td>")
                        .Append(ConsolePages.E(d.Transmission)).Append("</td><td>").Append(ConsolePages.E(d.Detail)).Append("</td><td>").Append(ConsolePages.E(d.ResolvedBy))
                        .Append("</td></tr>");
                }
                html.Append("</tbody></table>");
            }
            catch (RpcException ex)
            {
                html.Append("<p class=\"error\" role=\"alert\">").Append(ConsolePages.E(ex.Status.Detail)).Append("</p>");
            }
        }
        return ConsolePages.Finish(html);
    }
}
