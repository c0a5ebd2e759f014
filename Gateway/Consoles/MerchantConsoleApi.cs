using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Core;
using Mesh.Contracts.Settlement;
using Mesh.Gateway.Consoles.Components.Merchant;
using Mesh.Gateway.Holds;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Refunds;
using Microsoft.AspNetCore.Authentication;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The merchant console (商户控制台), under <c>/console</c> on HTTPS: sign in with merchant id,
/// operator id and password; today's figures and the last 30 days; transactions with filters,
/// paging and CSV export; an order's timeline; refunds in two steps (确认退款); settlement
/// batches and their files; an admin's operators, whose sessions the admin can end. Sign-in is the
/// merchant console's cookie scheme (<see cref="ConsoleAuthentication"/>), each role's pages are
/// authorization policies (<see cref="ConsolePolicies"/>), and every form carries an antiforgery
/// token. A merchant's people see only that merchant's data: another merchant's order is a 404.
/// </summary>
public static partial class MerchantConsoleApi
{
    public const int PageSize = 50;
    public const int ExportRowsMax = 10_000;

    public static RouteGroupBuilder MapMerchantConsole(this RouteGroupBuilder group)
    {
        group.MapGet("/login", (HttpContext http) => ConsolePages.Login(http, platform: false));
        group.MapPost("/login", LogInAsync);
        var signedIn = group.MapGroup("").RequireConsole(ConsolePolicies.Merchant);
        signedIn.MapGet("/", HomeAsync);
        signedIn.MapPost("/logout", LogOutAsync);
        signedIn.MapGet("/transactions", TransactionsAsync);
        signedIn.MapGet("/transactions/{orderId}", DetailAsync);
        signedIn.MapGet("/transactions/{orderId}/refund", RefundFormAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapPost("/transactions/{orderId}/refund", ReviewRefundAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapPost("/transactions/{orderId}/refund/confirm", ConfirmRefundAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapPost("/transactions/{orderId}/capture", CaptureAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapPost("/transactions/{orderId}/release", ReleaseAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapGet("/notifications", NotificationsAsync);
        signedIn.MapPost("/notifications/{notificationId:long}/resend", ResendAsync).RequireAuthorization(ConsolePolicies.MerchantRefunder);
        signedIn.MapGet("/settings", SettingsAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapPost("/settings/notifications", SaveNotificationsAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapPost("/settings/return-addresses", SaveReturnAddressesAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapPost("/settings/certificate", UploadKeyAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapGet("/users", UsersAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapPost("/users", AddUserAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapPost("/users/{operatorId}/revoke", RevokeAsync).RequireAuthorization(ConsolePolicies.MerchantAdmin);
        signedIn.MapGet("/settlement", SettlementAsync);
        signedIn.MapGet("/settlement/{settlementDate}/{kind}", FileAsync);
        signedIn.MapMerchantRisk();
        return group;
    }

    /// <summary>
    /// A sign-in: the form's antiforgery token, then the password under the lockout (<see cref="ConsoleAccounts.LogInAsync"/>),
    /// then a session in the merchant console's scheme.
    /// </summary>
    private static async Task<IResult> LogInAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        IResult Again(string error, int statusCode, params object[] arguments) => ConsolePages.Login(http, false, error, statusCode, arguments);
        if (!await ConsoleAuthentication.FormIsGenuineAsync(http))
        {
            return Again("SignInExpired", StatusCodes.Status400BadRequest);
        }
        var form = http.Request.Form;
        var (merchantId, operatorId, password) = (form["merchantId"].ToString(), form["operatorId"].ToString(), form["password"].ToString());
        if (merchantId.Length is 0 or > 15 || !merchantId.All(char.IsAsciiDigit) || operatorId.Length is 0 or > 32 || password.Length is 0 or > ConsoleAccounts.PasswordCharsMax)
        {
            return Again("MerchantFieldsRequired", StatusCodes.Status400BadRequest);
        }
        if (await accounts.LogInAsync(merchantId, operatorId, password, ct) is not { } checkedLogin)
        {
            return Again("Busy", StatusCodes.Status503ServiceUnavailable);
        }
        switch (checkedLogin.Outcome)
        {
            case ConsoleAccounts.LogIn.Ok:
                await ConsoleAuthentication.SignInAsync(http, ConsoleSchemes.Merchant, merchantId, operatorId, checkedLogin.Role!);
                return Results.Redirect("/console");
            case ConsoleAccounts.LogIn.Locked:
                return Again("Locked", StatusCodes.Status403Forbidden, ConsoleAccounts.LockoutFor.TotalMinutes);
            default:
                return Again("MerchantWrong", StatusCodes.Status401Unauthorized);
        }
    }

    private static async Task<IResult> LogOutAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        await accounts.AuditAsync(Session(http), "logout", "signed out", ct);
        await http.SignOutAsync(ConsoleSchemes.Merchant);
        return Results.Redirect(ConsoleSchemes.MerchantLogin);
    }

    private static async Task<IResult> HomeAsync(HttpContext http, ConsoleQueries queries, MerchantRegistry merchants, TimeProvider time, CancellationToken ct)
    {
        var session = Session(http);
        return MerchantPages.Home(session, await queries.DailyAsync(session.MerchantId, ConsoleQueries.Today(time), 30, ct),
            (await merchants.FindAsync(session.MerchantId, ct))!);
    }

    private static async Task<IResult> TransactionsAsync(HttpContext http, OrderBook orders, TimeProvider time, CancellationToken ct)
    {
        var session = Session(http);
        var q = http.Request.Query;
        var filters = new MerchantPages.Filters(q["from"].ToString(), q["to"].ToString(), q["status"].ToString(), q["orderId"].ToString(), q["min"].ToString(),
            q["max"].ToString());
        var today = ConsoleQueries.Today(time);
        var problems = new List<Words>();
        var from = Date(filters.From, today.AddDays(-30), "From", problems);
        var to = Date(filters.To, today, "To", problems);
        var min = Amount(filters.Min, "Amount from", problems);
        var max = Amount(filters.Max, "Amount to", problems);
        var status = filters.Status.Length == 0 ? null : filters.Status;
        if (status is not null && !MerchantPages.Statuses.Contains(status))
        {
            problems.Add(new Words("the status is one of {0}", string.Join(", ", MerchantPages.Statuses)));
        }
        if (filters.OrderId.Length > 32)
        {
            problems.Add("an order number has at most 32 characters");
        }
        var page = int.TryParse(q["page"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 10_000 ? p : 1;
        var query = string.Join("&", new[] { ("from", filters.From), ("to", filters.To), ("status", filters.Status), ("orderId", filters.OrderId), ("min", filters.Min), ("max", filters.Max) }
            .Select(f => $"{f.Item1}={Uri.EscapeDataString(f.Item2)}"));
        if (problems.Count > 0)
        {
            return MerchantPages.Transactions(session, filters, [], 1, false, query, problems);
        }
        var (fromAt, toAt) = (ConsoleQueries.StartOf(from), ConsoleQueries.StartOf(to.AddDays(1)));
        var prefix = filters.OrderId.Length == 0 ? null : filters.OrderId;
        if (q["format"] == "csv")
        {
            var rows = await orders.SearchAsync(session.MerchantId, fromAt, toAt, status, prefix, min, max, ExportRowsMax, 0, ct);
            var csv = new StringBuilder("order_id,created_at,status,amount_minor,currency,paid_minor,refunded_minor,pan_masked,rrn\n");
            foreach (var o in rows)
            {
                csv.Append(Csv(o.OrderId)).Append(',').Append(o.CreatedAt.ToString("O", CultureInfo.InvariantCulture)).Append(',').Append(o.Status).Append(',')
                    .Append(o.AmountMinor).Append(',').Append(Csv(o.Currency)).Append(',').Append(o.PaidMinor).Append(',').Append(o.RefundedMinor).Append(',')
                    .Append(Csv(o.PanMasked ?? "")).Append(',').Append(Csv(o.Rrn ?? "")).Append('\n');
            }
            http.Response.Headers.CacheControl = "no-store";
            return Results.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", $"transactions-{session.MerchantId}-{from:yyyyMMdd}-{to:yyyyMMdd}.csv");
        }
        var found = await orders.SearchAsync(session.MerchantId, fromAt, toAt, status, prefix, min, max, PageSize + 1, (page - 1) * PageSize, ct);
        return MerchantPages.Transactions(session, filters, found.Take(PageSize).ToList(), page, found.Count > PageSize, query, []);
    }

    private static async Task<IResult> DetailAsync(string orderId, HttpContext http, OrderBook orders, ConsoleQueries queries,
        Settlement.SettlementClient settlement, PageFormat format, TimeProvider time, CancellationToken ct)
    {
        var session = Session(http);
        if (await orders.FindAsync(session.MerchantId, orderId, ct) is not { } order)
        {
            return NotFound(session, orderId);
        }
        var timeline = (await queries.TimelineAsync(session.MerchantId, orderId, ct)).Select(e => Step(e, format)).ToList();
        try
        {
            var entries = await settlement.ListOrderEntriesAsync(new ListOrderEntriesRequest { MerchantId = session.MerchantId, OrderId = orderId },
                cancellationToken: ct);
            timeline.AddRange(entries.Entries.Select(e => new MerchantOrder.Event(DateTimeOffset.FromUnixTimeMilliseconds(e.RecordedAtUnixMs),
                new Words($"{e.Kind} in the ledger"),
                new Words("settlement date {0}{1}{2}", e.SettlementDate, e.FeeMinor > 0 ? new Words(" · fee {0}", format.Money(e.FeeMinor, e.Currency)) : "",
                    e.BatchFundStatus.Length > 0 ? new Words(" · settled in the day's batch, funds {0}", new Words("Funds." + e.BatchFundStatus)) : new Words(" · the date is open")))));
            timeline.Sort((a, b) => a.At.CompareTo(b.At));
        }
        catch (RpcException ex)
        {
            timeline.Add(new MerchantOrder.Event(time.GetUtcNow(), "Settlement", new Words("not available now ({0})", ex.StatusCode.ToString())));
        }
        return MerchantPages.Detail(session, order, timeline);
    }

    private static async Task<IResult> RefundFormAsync(string orderId, HttpContext http, OrderBook orders, CancellationToken ct)
    {
        var session = Session(http);
        var (refusal, order) = await RefundableAsync(session, orderId, orders, ct);
        if (refusal is not null || order is null)
        {
            return refusal!;
        }
        return MerchantPages.RefundForm(session, order, "", "", []);
    }

    private static async Task<IResult> ReviewRefundAsync(string orderId, HttpContext http, OrderBook orders, CancellationToken ct)
    {
        var session = Session(http);
        var (refusal, order) = await RefundableAsync(session, orderId, orders, ct);
        if (refusal is not null || order is null)
        {
            return refusal!;
        }
        var form = await http.Request.ReadFormAsync(ct);
        var (amountText, reason) = (form["amount"].ToString(), form["reason"].ToString());
        var problems = new List<Words>();
        var amount = Amount(amountText, "the amount", problems);
        if (reason.Length > 200)
        {
            problems.Add("a reason has at most 200 characters");
        }
        if (problems.Count == 0 && amount is not > 0)
        {
            problems.Add("the amount is above zero");
        }
        if (problems.Count == 0 && amount > order.PaidMinor - order.RefundedMinor)
        {
            problems.Add(LeftToRefund(order.PaidMinor - order.RefundedMinor, order.Currency));
        }
        return problems.Count > 0
            ? MerchantPages.RefundForm(session, order, amountText, reason, problems)
            : MerchantPages.RefundConfirm(session, order, amount!.Value, reason, "c" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
    }

    private static async Task<IResult> ConfirmRefundAsync(string orderId, HttpContext http, OrderBook orders, RefundDesk desk, ConsoleAccounts accounts,
        MerchantRegistry merchants, CancellationToken ct)
    {
        var session = Session(http);
        if (await FollowUpRefusedAsync(session, merchants, ct) is { } closed)
        {
            return closed;
        }
        var (refusal, order) = await RefundableAsync(session, orderId, orders, ct);
        if (refusal is not null || order is null)
        {
            return refusal!;
        }
        var form = await http.Request.ReadFormAsync(ct);
        var refundId = form["refundId"].ToString();
        if (!long.TryParse(form["amountMinor"], NumberStyles.None, CultureInfo.InvariantCulture, out var amountMinor) || amountMinor <= 0
            || !OrderRules.V1OrderId().IsMatch(refundId))
        {
            return MerchantPages.Error(session, StatusCodes.Status400BadRequest, "The refund form is not valid", "Start the refund again from the order.");
        }
        var (refused, refund, remainder) = await desk.RefundAsync(session.MerchantId, orderId, refundId, amountMinor, ct);
        await accounts.AuditAsync(session, "refund",
            $"order {orderId}, refund {refundId}, {amountMinor} minor units, reason: {form["reason"]}; {(refused == RefundDesk.Refusal.None ? refund!.Status : refused.ToString())}", ct);
        return refused switch
        {
            RefundDesk.Refusal.None => MerchantPages.RefundDone(session, order, refund!.Status, refund.ResponseCode),
            RefundDesk.Refusal.OverRemainder => MerchantPages.RefundForm(session, order, "", form["reason"].ToString(), [LeftToRefund(remainder, order.Currency)]),
            _ => MerchantPages.Error(session, StatusCodes.Status409Conflict, "The refund was refused", new Words("Refusal." + refused)),
        };
    }

    /// <summary>
    /// Captures a hold from its page (amount in yuan, at most the amount held), under an antiforgery token like every console form; a
    /// second submit finds the hold captured and changes nothing.
    /// </summary>
    private static async Task<IResult> CaptureAsync(string orderId, HttpContext http, OrderBook orders, HoldDesk desk, ConsoleAccounts accounts,
        MerchantRegistry merchants, CancellationToken ct)
    {
        var session = Session(http);
        if (await FollowUpRefusedAsync(session, merchants, ct) is { } closed)
        {
            return closed;
        }
        if (await orders.FindAsync(session.MerchantId, orderId, ct) is null)
        {
            return NotFound(session, orderId);
        }
        var form = await http.Request.ReadFormAsync(ct);
        var problems = new List<Words>();
        var amount = Amount(form["amount"].ToString(), "the amount", problems) ?? 0;
        if (amount <= 0 || problems.Count > 0)
        {
            return MerchantPages.Error(session, StatusCodes.Status400BadRequest, "The capture form is not valid", "Enter the amount to capture, above zero.");
        }
        var (refused, outcome, after) = await desk.CaptureAsync(session.MerchantId, orderId, amount, ct);
        await accounts.AuditAsync(session, "capture", $"order {orderId}, {amount} minor units; {(refused == HoldRules.Refusal.None ? outcome : refused)}", ct);
        return refused == HoldRules.Refusal.None && outcome == HoldDesk.Outcome.Captured
            ? MerchantPages.HoldDone(session, after!, captured: true)
            : MerchantPages.Error(session, StatusCodes.Status409Conflict, "The capture was refused", HoldRefusal(refused, outcome, after));
    }

    /// <summary>Releases a hold from its page; a second submit finds it released and changes nothing.</summary>
    private static async Task<IResult> ReleaseAsync(string orderId, HttpContext http, OrderBook orders, HoldDesk desk, ConsoleAccounts accounts,
        MerchantRegistry merchants, CancellationToken ct)
    {
        var session = Session(http);
        if (await FollowUpRefusedAsync(session, merchants, ct) is { } closed)
        {
            return closed;
        }
        if (await orders.FindAsync(session.MerchantId, orderId, ct) is null)
        {
            return NotFound(session, orderId);
        }
        var (refused, outcome, after) = await desk.ReleaseAsync(session.MerchantId, orderId, HoldReason.Merchant, ct);
        await accounts.AuditAsync(session, "release", $"order {orderId}; {(refused == HoldRules.Refusal.None ? outcome : refused)}", ct);
        return refused == HoldRules.Refusal.None
            ? MerchantPages.HoldDone(session, after!, captured: false)
            : MerchantPages.Error(session, StatusCodes.Status409Conflict, "The release was refused", HoldRefusal(refused, outcome, after));
    }

    private static Words HoldRefusal(HoldRules.Refusal refused, HoldDesk.Outcome outcome, Order? order) => (refused, outcome) switch
    {
        (HoldRules.Refusal.OverHeld, _) => new Words("At most {0} is held.", PageFormat.Invariant(order!.AmountMinor, order.Currency)),
        (HoldRules.Refusal.None, HoldDesk.Outcome.InFlight) or (HoldRules.Refusal.CaptureInFlight, _) => "A capture is waiting for the bank's answer.",
        (HoldRules.Refusal.None, _) => "The bank declined the capture: the hold stands.",
        _ => new Words("The order is {0}: nothing is held that can be captured or released.", new Words("Status." + order?.Status)),
    };

    private static async Task<IResult> NotificationsAsync(HttpContext http, NotificationHistory history, CancellationToken ct) =>
        MerchantPages.Notifications(Session(http), await history.RecentAsync(Session(http).MerchantId, ct), null);

    private static async Task<IResult> ResendAsync(long notificationId, HttpContext http, NotificationHistory history, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        var resent = await history.ResendAsync(notificationId, session.MerchantId, ct);
        if (resent is null)
        {
            return MerchantPages.Error(session, StatusCodes.Status404NotFound, "No such notification",
                new Words("You have no notification {0} to send again.", notificationId.ToString(CultureInfo.InvariantCulture)));
        }
        await accounts.AuditAsync(session, "notification-resend", $"notification {notificationId}", ct);
        return MerchantPages.Notifications(session, await history.RecentAsync(session.MerchantId, ct),
            new Words("Notification {0} will be sent again now.", notificationId.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task<IResult> SettingsAsync(HttpContext http, MerchantRegistry merchants, CancellationToken ct)
    {
        var session = Session(http);
        return MerchantPages.Settings(session, (await merchants.FindAsync(session.MerchantId, ct))!, null, null);
    }

    private static async Task<IResult> SaveNotificationsAsync(HttpContext http, MerchantRegistry merchants, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var (mode, protocol) = (form["mode"].ToString(), form["protocol"].ToString());
        var merchant = (await merchants.FindAsync(session.MerchantId, ct))!;
        if (!MerchantApplication.NotificationModes.Contains(mode) || !MerchantApplication.NotificationProtocols.Contains(protocol))
        {
            return MerchantPages.Settings(session, merchant, null, "Choose a mode and a protocol from the lists.");
        }
        if (protocol == "envelope" && merchant.KeyAlgorithm != MerchantKey.Rsa)
        {
            return MerchantPages.Settings(session, merchant, null, "The envelope protocol needs an RSA key or certificate to encrypt to.");
        }
        if (protocol == "https" && merchant.ReturnUrlPrefixes.Any(p => !p.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            return MerchantPages.Settings(session, merchant, null,
                "The https protocol never sends to http, and some of your registered return addresses are http: change them first.");
        }
        await merchants.UpdateNotificationsAsync(session.MerchantId, mode, protocol, ct);
        await accounts.AuditAsync(session, "settings", $"notifications: {merchant.NotificationMode}/{merchant.NotificationProtocol} -> {mode}/{protocol}", ct);
        return MerchantPages.Settings(session, (await merchants.FindAsync(session.MerchantId, ct))!, "Notification settings saved.", null);
    }

    /// <summary>The addresses the merchant's NetPay BgRetUrl and PageRetUrl may lie under, one a line; none refuses both fields.</summary>
    private static async Task<IResult> SaveReturnAddressesAsync(HttpContext http, MerchantRegistry merchants, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var merchant = (await merchants.FindAsync(session.MerchantId, ct))!;
        var prefixes = form["returnUrlPrefixes"].ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).ToArray();
        if (ReturnUrlPrefixes.Refusal(prefixes, merchant.NotificationProtocol) is { } refusal)
        {
            return MerchantPages.Settings(session, merchant, null, new Words("Return addresses: {0}.", refusal));
        }
        await merchants.UpdateReturnUrlPrefixesAsync(session.MerchantId, prefixes, ct);
        await accounts.AuditAsync(session, "settings",
            $"return addresses: [{string.Join(", ", merchant.ReturnUrlPrefixes)}] -> [{string.Join(", ", prefixes)}]", ct);
        return MerchantPages.Settings(session, (await merchants.FindAsync(session.MerchantId, ct))!, "Return addresses saved.", null);
    }

    /// <summary>
    /// A key rotation: the new key verifies at once, the current one for the overlap the merchant chose (0 to 30 days). A key that
    /// cannot sign a protocol the current one signs is refused with what breaks unless the merchant confirms it stops using it.
    /// </summary>
    private static async Task<IResult> UploadKeyAsync(HttpContext http, MerchantRegistry merchants, ConsoleAccounts accounts, PageFormat format, TimeProvider time,
        CancellationToken ct)
    {
        var session = Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var merchant = (await merchants.FindAsync(session.MerchantId, ct))!;
        var (key, refusal) = MerchantKey.Parse(form["pem"].ToString());
        if (key is null)
        {
            return MerchantPages.Settings(session, merchant, null, refusal ?? "Not a key or certificate.");
        }
        if (merchant.NotificationProtocol == "envelope" && key.Algorithm != MerchantKey.Rsa)
        {
            return MerchantPages.Settings(session, merchant, null, "Notifications are sealed to your key (envelope): it must stay RSA.");
        }
        int? days = int.TryParse(form["overlapDays"], NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : null;
        if (KeyRotation.OverlapRefusal(days) is { } badOverlap)
        {
            return MerchantPages.Settings(session, merchant, null, new Words("Overlap: {0}.", badOverlap));
        }
        if (KeyRotation.Breaks(merchant.KeyAlgorithm, merchant.KeyBits, key, form["confirmProtocolEnds"] == "yes") is { } breaks)
        {
            await accounts.AuditAsync(session, "key-refused", $"{key.Algorithm} {key.Bits} {key.Fingerprint}: {breaks.English()}", ct);
            return MerchantPages.Settings(session, merchant, null, new Words("The key was not changed: {0}.", breaks));
        }
        var expires = days > 0 ? time.GetUtcNow().AddDays(days.Value) : (DateTimeOffset?)null;
        await merchants.RotateKeyAsync(session.MerchantId, key, expires, ct);
        await accounts.AuditAsync(session, "key-rotated",
            $"{merchant.KeyFingerprint} -> {key.Fingerprint} ({key.Algorithm} {key.Bits}); the old key verifies until {(expires is { } e ? e.ToString("O", CultureInfo.InvariantCulture) : "now")}",
            ct);
        return MerchantPages.Settings(session, (await merchants.FindAsync(session.MerchantId, ct))!,
            expires is { } until ? new Words("Your new key is in use; your previous key also verifies until {0}.", format.ChinaTime(until)) : "Your new key is in use.", null);
    }

    private static async Task<IResult> UsersAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        return MerchantPages.Users(session, await accounts.UsersAsync(session.MerchantId, ct), null, null);
    }

    private static async Task<IResult> AddUserAsync(HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        var form = await http.Request.ReadFormAsync(ct);
        var (operatorId, role, password) = (form["operatorId"].ToString(), form["role"].ToString(), form["password"].ToString());
        var problems = MerchantsAdminApi.UserProblems(new MerchantsAdminApi.ConsoleUserApplication(operatorId, role, password), ConsoleRoles.All);
        Words? error = null;
        if (problems.Count > 0)
        {
            error = Words.ByField(problems);
        }
        else if (!await accounts.AddUserAsync(session.MerchantId, operatorId, role, password, ct))
        {
            error = new Words("There is already an operator {0}.", operatorId);
        }
        if (error is null)
        {
            await accounts.AuditAsync(session, "user-added", $"{operatorId} ({role})", ct);
        }
        return MerchantPages.Users(session, await accounts.UsersAsync(session.MerchantId, ct), error is null ? new Words("{0} can sign in now.", operatorId) : null, error);
    }

    /// <summary>Ends every session of one of the merchant's operators at once (a lost laptop, someone who left); audited.</summary>
    private static async Task<IResult> RevokeAsync(string operatorId, HttpContext http, ConsoleAccounts accounts, CancellationToken ct)
    {
        var session = Session(http);
        var users = await accounts.UsersAsync(session.MerchantId, ct);
        if (users.All(u => u.OperatorId != operatorId))
        {
            return MerchantPages.Error(session, StatusCodes.Status404NotFound, "No such operator", new Words("You have no operator {0}.", operatorId));
        }
        var ended = await accounts.RevokeSessionsAsync(session, session.MerchantId, operatorId, ct);
        return MerchantPages.Users(session, users, new Words(ended == 1 ? "{0} is signed out everywhere ({1} session ended)." : "{0} is signed out everywhere ({1} sessions ended).", operatorId,
            ended.ToString(CultureInfo.InvariantCulture)), null);
    }

    /// <summary>A closed merchant's console is only read: its refunds, captures and releases are refused, as on <c>/v1</c> and NetPay.</summary>
    private static async Task<IResult?> FollowUpRefusedAsync(ConsoleSession session, MerchantRegistry merchants, CancellationToken ct) =>
        await merchants.FindAsync(session.MerchantId, ct) is { } merchant && MerchantLifecycle.Refuses(merchant.State, MerchantCall.FollowUp) is { } code
            ? MerchantPages.Error(session, StatusCodes.Status403Forbidden, "Not allowed", new Words("{0} ({1}).", new Words(MerchantLifecycle.Why(merchant.State)), code))
            : null;

    private static async Task<IResult> SettlementAsync(HttpContext http, Settlement.SettlementClient settlement, CancellationToken ct)
    {
        var session = Session(http);
        var batches = await settlement.ListBatchesAsync(new ListBatchesRequest { MerchantId = session.MerchantId }, cancellationToken: ct);
        return MerchantPages.Settlement(session, batches.Batches);
    }

    private static async Task<IResult> FileAsync(string settlementDate, string kind, HttpContext http, Settlement.SettlementClient settlement,
        Platform.PlatformCertificates platform, CancellationToken ct)
    {
        var session = Session(http);
        if (kind is not ("detail" or "totals") || !DateOnly.TryParseExact(settlementDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return MerchantPages.Error(session, StatusCodes.Status404NotFound, "No such file", "Files are detail or totals of a yyyy-MM-dd settlement date.");
        }
        try
        {
            var file = await settlement.GetReconciliationFileAsync(
                new ReconciliationFileRequest { MerchantId = session.MerchantId, SettlementDate = settlementDate, Kind = kind }, cancellationToken: ct);
            var content = file.Content.ToByteArray();
            var (certId, signature) = await platform.SignFileAsync(content, ct);
            http.Response.Headers["Mesh-File-Signature"] = Convert.ToBase64String(signature);
            http.Response.Headers["Mesh-Cert-Id"] = certId;
            return Results.File(content, "text/csv; charset=utf-8", $"{kind}-{session.MerchantId}-{settlementDate}.csv");
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            return MerchantPages.Error(session, StatusCodes.Status404NotFound, "No such file", new Words("The settlement service refused this: {0}", ex.Status.Detail));
        }
    }

    /// <summary>The order if this operator may refund it now; otherwise the page that says why.</summary>
    private static async Task<(IResult? Page, Order? Order)> RefundableAsync(ConsoleSession session, string orderId, OrderBook orders, CancellationToken ct)
    {
        var order = await orders.FindAsync(session.MerchantId, orderId, ct);
        if (order is null)
        {
            return (NotFound(session, orderId), null);
        }
        return order.Status != OrderStatus.Paid || order.PaidMinor <= order.RefundedMinor
            ? (MerchantPages.Error(session, StatusCodes.Status409Conflict, "Nothing to refund",
                new Words("Order {0} is {1} with nothing left to refund.", orderId, new Words("Status." + order.Status))), null)
            : (null, order);
    }

    private static IResult NotFound(ConsoleSession session, string orderId) =>
        MerchantPages.Error(session, StatusCodes.Status404NotFound, "No such order", new Words("You have no order {0}.", orderId));

    private static ConsoleSession Session(HttpContext http) => ConsoleAuthentication.Session(http);

    private static DateOnly Date(string text, DateOnly blank, Words name, List<Words> problems)
    {
        if (text.Length == 0)
        {
            return blank;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }
        problems.Add(new Words("{0} is a date (yyyy-MM-dd)", name));
        return blank;
    }

    /// <summary>An amount typed in major units (12.34), as minor units; null when blank.</summary>
    public static long? Amount(string text, Words name, List<Words> problems)
    {
        if (text.Length == 0)
        {
            return null;
        }
        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var major) && major * 100 == decimal.Truncate(major * 100)
            && major < 10_000_000_000m)
        {
            return (long)(major * 100);
        }
        problems.Add(new Words("{0} is an amount like 12.34", name));
        return null;
    }

    private static Words LeftToRefund(long remainderMinor, string currency) =>
        new("at most {0} is left to refund", PageFormat.Invariant(remainderMinor, currency));

    /// <summary>
    /// A step of the order's timeline: what happened (a resource of its own, <c>payment approved</c>, or its English text), and its
    /// particulars worded around their values (STAN, RRN, codes and ids stay as they are; an amount in yuan).
    /// </summary>
    private static MerchantOrder.Event Step(TimelineEvent e, PageFormat format)
    {
        var what = NotificationAttempt().Match(e.What) is { Success: true } attempt ? new Words("notification attempt {0}", attempt.Groups[1].Value) : new Words(e.What);
        Words detail = e.Step switch
        {
            TimelineSteps.PaymentSent when e is { A: { } pan, B: { } stan, C: { } rrn } => new Words("{0} · STAN {1} · RRN {2}", pan, stan, rrn),
            TimelineSteps.PaymentAnswered => new Words("response {0}{1}", e.A ?? "-", e.B is { } auth ? new Words(" · authorization {0}", auth) : ""),
            TimelineSteps.RefundRequested when long.TryParse(e.B, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var minor) =>
                new Words("{0} · {1}", e.A ?? "", format.Money(minor, e.C ?? "")),
            TimelineSteps.RefundAnswered => new Words("{0} · response {1}", e.A ?? "", e.B ?? "-"),
            TimelineSteps.NotificationAttempt => new Words("{0}{1} · {2} ms", e.A is { } status ? "HTTP " + status : new Words("no answer"),
                e.B is { } error ? " · " + error : "", e.C ?? "-"),
            TimelineSteps.MerchantNotified => new Words("order version {0}", e.A ?? ""),
            TimelineSteps.HandedToSettlement when e.A is { } kind => LedgerKinds.Contains(kind) ? new Words("Kind." + kind) : new Words("{0}", kind),
            _ => "",
        };
        return new(e.At, what, detail);
    }

    /// <summary>The ledger kinds the timeline has a word for; another is shown as it is.</summary>
    private static readonly string[] LedgerKinds = ["purchase", "refund", "reversal", "void"];

    [GeneratedRegex(@"^notification attempt (\d+)$")]
    private static partial Regex NotificationAttempt();

    private static string Csv(string value) => value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
