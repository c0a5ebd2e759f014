using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Mesh.Contracts.Settlement;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Pages;

namespace Mesh.Gateway.Consoles;

/// <summary>
/// The merchant console's pages, rendered on the server with the platform's own style and no
/// script: every value HTML-encoded, every form carrying an antiforgery token, the chart an
/// SVG drawn here. Card numbers appear only masked (first 6, last 4).
/// </summary>
public static class ConsolePages
{
    /// <summary>
    /// A console's sign-in page (<see cref="Components.SignIn"/>), with a fresh antiforgery token; <paramref name="error"/> names a
    /// <see cref="Localization.ConsoleText"/> resource, formatted with <paramref name="arguments"/>.
    /// </summary>
    public static IResult Login(HttpContext http, bool platform, string? error = null, int statusCode = StatusCodes.Status200OK, params object[] arguments) =>
        SecurePage.Of<Components.SignIn>(new Dictionary<string, object?>
        {
            [nameof(Components.SignIn.Token)] = ConsoleAuthentication.FormToken(http),
            [nameof(Components.SignIn.Platform)] = platform,
            [nameof(Components.SignIn.Error)] = error,
            [nameof(Components.SignIn.ErrorArguments)] = arguments,
        }, statusCode);

    public static IResult Home(ConsoleSession session, IReadOnlyList<DayVolume> days, Merchants.Merchant merchant)
    {
        var html = Layout(session, "Home");
        MerchantState(html, merchant);
        var today = days[^1];
        var decided = today.Paid + today.Failed;
        html.Append("<h1>Today</h1><div class=\"tiles\"><div class=\"tile\"><span id=\"today-volume\">").Append(E(PageFormat.Invariant(today.PaidMinor, OrderRules.Cny)))
            .Append("</span><small>paid today</small></div><div class=\"tile\"><span id=\"today-approval\">")
            .Append(decided == 0 ? "–" : (100.0 * today.Paid / decided).ToString("F1", CultureInfo.InvariantCulture) + "%")
            .Append("</span><small>approval rate (").Append(today.Paid).Append(" of ").Append(decided).Append(")</small></div></div>");
        html.Append("<h1>Last ").Append(days.Count).Append(" days</h1>").Append(Chart(days));
        return Finish(html);
    }

    /// <summary>Daily paid volume as bars, with the highest day's figure as the scale.</summary>
    private static string Chart(IReadOnlyList<DayVolume> days)
    {
        const int width = 900, height = 200, top = 20;
        var max = Math.Max(1, days.Max(d => d.PaidMinor));
        var bar = width / days.Count;
        var svg = new StringBuilder();
        svg.Append("<svg id=\"volume-chart\" role=\"img\" aria-label=\"Paid volume per day\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height + 30)
            .Append("\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">")
            .Append("<text x=\"0\" y=\"12\" font-size=\"12\" fill=\"#5b6577\">").Append(E(PageFormat.Invariant(max, OrderRules.Cny))).Append("</text>");
        for (var i = 0; i < days.Count; i++)
        {
            var h = (int)(days[i].PaidMinor * (height - top) / max);
            svg.Append("<rect x=\"").Append(i * bar + 2).Append("\" y=\"").Append(height - h).Append("\" width=\"").Append(bar - 4).Append("\" height=\"").Append(h)
                .Append("\" fill=\"#c8102e\"><title>").Append(days[i].Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(": ")
                .Append(E(PageFormat.Invariant(days[i].PaidMinor, OrderRules.Cny))).Append("</title></rect>");
            if (i % 5 == 0 || i == days.Count - 1)
            {
                var last = i == days.Count - 1;
                svg.Append("<text x=\"").Append(last ? width : i * bar + 2).Append("\" y=\"").Append(height + 20).Append("\" font-size=\"11\" fill=\"#5b6577\"")
                    .Append(last ? " text-anchor=\"end\">" : ">")
                    .Append(days[i].Date.ToString("MM-dd", CultureInfo.InvariantCulture)).Append("</text>");
            }
        }
        return svg.Append("</svg>").ToString();
    }

    public sealed record Filters(string From, string To, string Status, string OrderId, string Min, string Max);

    /// <summary>The statuses the transactions page filters by.</summary>
    public static readonly string[] Statuses =
    [
        OrderStatus.Created, OrderStatus.Pending, OrderStatus.Paid, OrderStatus.Failed, OrderStatus.Closed, OrderStatus.Voided, OrderStatus.Authorized,
        OrderStatus.Capturing, OrderStatus.Released, OrderStatus.Expired,
    ];

    public static IResult Transactions(ConsoleSession session, Filters filters, IReadOnlyList<Order> orders, int page, bool more, string query, string? error)
    {
        var html = Layout(session, "Transactions");
        html.Append("<h1>Transactions</h1><form class=\"filters\" method=\"get\" action=\"/console/transactions\">");
        Field(html, "from", "From", filters.From, "date");
        Field(html, "to", "To", filters.To, "date");
        html.Append("<label for=\"status\">Status<br><select id=\"status\" name=\"status\"><option value=\"\">any</option>");
        foreach (var status in Statuses)
        {
            html.Append("<option").Append(filters.Status == status ? " selected" : "").Append('>').Append(status).Append("</option>");
        }
        html.Append("</select></label>");
        Field(html, "orderId", "Order number", filters.OrderId, "text");
        Field(html, "min", "Amount from", filters.Min, "text");
        Field(html, "max", "Amount to", filters.Max, "text");
        html.Append("<button class=\"primary\" type=\"submit\" id=\"search\">Search</button></form>");
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(E(error)).Append("</p>");
        }
        html.Append("<p><a id=\"export\" href=\"/console/transactions?").Append(E(query)).Append("&amp;format=csv\">Export CSV</a></p>");
        html.Append("<table id=\"transactions\"><thead><tr><th>Order</th><th>Created</th><th>Status</th><th class=\"num\">Amount</th><th class=\"num\">Refunded</th><th>Card</th></tr></thead><tbody>");
        foreach (var o in orders)
        {
            html.Append("<tr><td><a href=\"/console/transactions/").Append(Uri.EscapeDataString(o.OrderId)).Append("\">").Append(E(o.OrderId)).Append("</a></td><td>")
                .Append(Time(o.CreatedAt)).Append("</td><td>").Append(E(o.Status)).Append(o.CaptureMode == CaptureMode.Hold ? " · hold" : "")
                .Append("</td><td class=\"num\">")
                .Append(E(PageFormat.Invariant(o.AmountMinor, o.Currency))).Append("</td><td class=\"num\">").Append(E(PageFormat.Invariant(o.RefundedMinor, o.Currency)))
                .Append("</td><td>").Append(E(o.PanMasked ?? "")).Append("</td></tr>");
        }
        html.Append("</tbody></table><div class=\"pager\">");
        if (page > 1)
        {
            html.Append("<a id=\"previous\" href=\"/console/transactions?").Append(E(query)).Append("&amp;page=").Append(page - 1).Append("\">Previous</a>");
        }
        html.Append("<span>Page ").Append(page).Append("</span>");
        if (more)
        {
            html.Append("<a id=\"next\" href=\"/console/transactions?").Append(E(query)).Append("&amp;page=").Append(page + 1).Append("\">Next</a>");
        }
        html.Append("</div>");
        return Finish(html);
    }

    public static IResult Detail(ConsoleSession session, Order order, IReadOnlyList<TimelineEvent> timeline)
    {
        var html = Layout(session, $"Order {order.OrderId}");
        html.Append("<h1>Order ").Append(E(order.OrderId)).Append("</h1><dl>")
            .Append("<dt>Status</dt><dd id=\"status\">").Append(E(order.Status)).Append("</dd>")
            .Append("<dt>Amount</dt><dd id=\"amount\">").Append(E(PageFormat.Invariant(order.AmountMinor, order.Currency))).Append("</dd>")
            .Append("<dt>Refunded</dt><dd id=\"refunded\">").Append(E(PageFormat.Invariant(order.RefundedMinor, order.Currency))).Append("</dd>")
            .Append("<dt>Refundable</dt><dd id=\"refundable\">").Append(E(PageFormat.Invariant(order.PaidMinor - order.RefundedMinor, order.Currency))).Append("</dd>")
            .Append("<dt>Card</dt><dd id=\"card\">").Append(E(order.PanMasked ?? "–")).Append("</dd>")
            .Append("<dt>RRN</dt><dd>").Append(E(order.Rrn ?? "–")).Append("</dd>")
            .Append("<dt>Created</dt><dd>").Append(Time(order.CreatedAt)).Append("</dd>");
        if (order.CaptureMode == CaptureMode.Hold)
        {
            var held = order.Status is OrderStatus.Authorized or OrderStatus.Capturing ? order.AmountMinor : 0;
            html.Append("<dt>Held</dt><dd id=\"held\">").Append(E(PageFormat.Invariant(held, order.Currency))).Append("</dd>")
                .Append("<dt>Captured</dt><dd id=\"captured\">").Append(E(PageFormat.Invariant(order.PaidMinor, order.Currency))).Append("</dd>")
                .Append("<dt>Hold expires</dt><dd id=\"hold-expires\">").Append(order.HoldExpiresAt is { } expires ? Time(expires) : "–").Append("</dd>");
        }
        html.Append("</dl>");
        if (order.Status == OrderStatus.Authorized && ConsoleRoles.MayRefund(session.Role))
        {
            var path = "/console/transactions/" + Uri.EscapeDataString(order.OrderId);
            html.Append("<form method=\"post\" id=\"capture\" action=\"").Append(path).Append("/capture\">");
            Csrf(html, session);
            html.Append("<label for=\"capture-amount\">Amount to capture</label><input id=\"capture-amount\" name=\"amount\" inputmode=\"decimal\" maxlength=\"16\" required value=\"")
                .Append((order.AmountMinor / 100m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)).Append("\"><button class=\"primary\" type=\"submit\">Capture</button></form>")
                .Append("<form method=\"post\" id=\"release\" action=\"").Append(path).Append("/release\">");
            Csrf(html, session);
            html.Append("<button type=\"submit\">Release the hold</button></form>");
        }
        if (order.Status == OrderStatus.Paid && order.PaidMinor > order.RefundedMinor && ConsoleRoles.MayRefund(session.Role))
        {
            html.Append("<p><a id=\"refund\" href=\"/console/transactions/").Append(Uri.EscapeDataString(order.OrderId)).Append("/refund\">Refund</a></p>");
        }
        html.Append("<h1>Timeline</h1><ol class=\"timeline\" id=\"timeline\"><li>").Append(Time(order.CreatedAt)).Append(" · order created</li>");
        foreach (var e in timeline)
        {
            html.Append("<li>").Append(Time(e.At)).Append(" · ").Append(E(e.What)).Append(e.Detail.Length > 0 ? " · " : "").Append(E(e.Detail)).Append("</li>");
        }
        html.Append("</ol>");
        return Finish(html);
    }

    public static IResult RefundForm(ConsoleSession session, Order order, string amount, string reason, string? error)
    {
        var html = Layout(session, "Refund");
        html.Append("<h1>Refund order ").Append(E(order.OrderId)).Append("</h1><dl><dt>Paid</dt><dd>").Append(E(PageFormat.Invariant(order.PaidMinor, order.Currency)))
            .Append("</dd><dt>Refundable</dt><dd id=\"refundable\">").Append(E(PageFormat.Invariant(order.PaidMinor - order.RefundedMinor, order.Currency)))
            .Append("</dd></dl>");
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"refund-error\">").Append(E(error)).Append("</p>");
        }
        html.Append("<form method=\"post\" action=\"/console/transactions/").Append(Uri.EscapeDataString(order.OrderId)).Append("/refund\">");
        Csrf(html, session);
        html.Append("<label for=\"amount\">Amount</label><input id=\"amount\" name=\"amount\" inputmode=\"decimal\" maxlength=\"16\" required value=\"").Append(E(amount))
            .Append("\"><label for=\"reason\">Reason</label><input id=\"reason\" name=\"reason\" maxlength=\"200\" value=\"").Append(E(reason))
            .Append("\"><br><button class=\"primary\" type=\"submit\" id=\"review\">Review the refund</button></form>");
        return Finish(html, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    /// <summary>The second step (确认退款): what will be refunded, sent under a refund id fixed here, so a double submit refunds once.</summary>
    public static IResult RefundConfirm(ConsoleSession session, Order order, long amountMinor, string reason, string refundId)
    {
        var html = Layout(session, "Confirm the refund");
        html.Append("<h1>Confirm the refund (确认退款)</h1><dl><dt>Order</dt><dd>").Append(E(order.OrderId)).Append("</dd><dt>Refund</dt><dd id=\"confirm-amount\">")
            .Append(E(PageFormat.Invariant(amountMinor, order.Currency))).Append("</dd><dt>Reason</dt><dd>").Append(E(reason.Length == 0 ? "–" : reason)).Append("</dd></dl>")
            .Append("<form method=\"post\" action=\"/console/transactions/").Append(Uri.EscapeDataString(order.OrderId)).Append("/refund/confirm\">");
        Csrf(html, session);
        html.Append("<input type=\"hidden\" name=\"amountMinor\" value=\"").Append(amountMinor).Append("\">")
            .Append("<input type=\"hidden\" name=\"reason\" value=\"").Append(E(reason)).Append("\">")
            .Append("<input type=\"hidden\" name=\"refundId\" value=\"").Append(E(refundId)).Append("\">")
            .Append("<button class=\"primary\" type=\"submit\" id=\"confirm\">Confirm refund (确认退款)</button></form>")
            .Append("<p><a href=\"/console/transactions/").Append(Uri.EscapeDataString(order.OrderId)).Append("\">Cancel</a></p>");
        return Finish(html);
    }

    /// <summary>A hold's capture or release, done: the order as it now is.</summary>
    public static IResult HoldDone(ConsoleSession session, Order order, string what)
    {
        var html = Layout(session, what);
        html.Append("<h1 id=\"hold-result\" class=\"ok\">").Append(E(what)).Append("</h1>")
            .Append("<p>Order ").Append(E(order.OrderId)).Append(" is ").Append(E(order.Status)).Append(", ")
            .Append(E(PageFormat.Invariant(order.PaidMinor, order.Currency))).Append(" captured. <a id=\"back\" href=\"/console/transactions/")
            .Append(Uri.EscapeDataString(order.OrderId)).Append("\">Back to the order</a></p>");
        return Finish(html);
    }

    public static IResult RefundDone(ConsoleSession session, Order order, string status, string? responseCode)
    {
        var html = Layout(session, "Refund");
        html.Append("<h1 id=\"refund-result\" class=\"").Append(status == "succeeded" ? "ok" : "error").Append("\">Refund ").Append(E(status)).Append("</h1>")
            .Append("<p>Response ").Append(E(responseCode ?? "pending")).Append(". <a id=\"back\" href=\"/console/transactions/")
            .Append(Uri.EscapeDataString(order.OrderId)).Append("\">Back to the order</a></p>");
        return Finish(html);
    }

    public static IResult Settlement(ConsoleSession session, IReadOnlyList<Batch> batches)
    {
        var html = Layout(session, "Settlement");
        html.Append("<h1>Settlement</h1><table id=\"batches\"><thead><tr><th>Date</th><th class=\"num\">Transactions</th><th class=\"num\">Gross</th>")
            .Append("<th class=\"num\">Refunds</th><th class=\"num\">Fees</th><th class=\"num\">Adjustments</th><th class=\"num\">Net payable</th><th>Funds</th><th>Files</th></tr></thead><tbody>");
        foreach (var b in batches.OrderByDescending(b => b.SettlementDate, StringComparer.Ordinal))
        {
            html.Append("<tr><td>").Append(E(b.SettlementDate)).Append("</td><td class=\"num\">").Append(b.Transactions).Append("</td><td class=\"num\">")
                .Append(E(PageFormat.Invariant(b.GrossSalesMinor, b.Currency))).Append("</td><td class=\"num\">").Append(E(PageFormat.Invariant(b.RefundsMinor, b.Currency)))
                .Append("</td><td class=\"num\">").Append(E(PageFormat.Invariant(b.FeesMinor, b.Currency))).Append("</td><td class=\"num\">")
                .Append(E(PageFormat.Invariant(b.AdjustmentsMinor, b.Currency))).Append("</td><td class=\"num\">").Append(E(PageFormat.Invariant(b.NetPayableMinor, b.Currency)))
                .Append("</td><td class=\"funds\">").Append(E(b.FundStatus)).Append(b.PayoutReference.Length > 0 ? " · " + E(b.PayoutReference) : "")
                .Append(b.FundReason.Length > 0 ? " · " + E(b.FundReason) : "")
                .Append("</td><td><a href=\"/console/settlement/").Append(E(b.SettlementDate)).Append("/detail\">detail</a> · <a href=\"/console/settlement/")
                .Append(E(b.SettlementDate)).Append("/totals\">totals</a></td></tr>");
        }
        html.Append("</tbody></table>");
        if (batches.Count == 0)
        {
            html.Append("<p id=\"no-batches\">No settlement date has closed with your transactions yet.</p>");
        }
        return Finish(html);
    }

    public static IResult Notifications(ConsoleSession session, IReadOnlyList<Notifications.NotificationState> notifications, string? message)
    {
        var html = Layout(session, "Notifications");
        html.Append("<h1>Notifications</h1>");
        Messages(html, message, null);
        html.Append("<table id=\"notifications\"><thead><tr><th>#</th><th>Order</th><th>State</th><th class=\"num\">Attempts</th><th>Attempts made</th><th></th></tr></thead><tbody>");
        foreach (var n in notifications)
        {
            var state = n.DeliveredAt is not null ? "delivered" : n.SupersededAt is not null ? "superseded" : n.GivenUpAt is not null ? "given up" : "pending";
            html.Append("<tr><td>").Append(n.NotificationId).Append("</td><td><a href=\"/console/transactions/").Append(Uri.EscapeDataString(n.OrderId)).Append("\">")
                .Append(E(n.OrderId)).Append("</a> (v").Append(n.OrderVersion).Append(")</td><td class=\"state\">").Append(state).Append("</td><td class=\"num\">")
                .Append(n.Attempts).Append("</td><td>");
            foreach (var a in n.History)
            {
                html.Append(Time(a.AttemptedAt)).Append(" · ").Append(a.StatusCode is { } code ? "HTTP " + code : E(a.Error ?? "no answer")).Append("<br>");
            }
            html.Append("</td><td>");
            if (n.SupersededAt is null && ConsoleRoles.MayRefund(session.Role))
            {
                html.Append("<form method=\"post\" action=\"/console/notifications/").Append(n.NotificationId).Append("/resend\">");
                Csrf(html, session);
                html.Append("<button type=\"submit\" class=\"resend\">Re-send</button></form>");
            }
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        return Finish(html);
    }

    /// <summary>
    /// The merchant's state, when it is not active: why it takes no new orders or payments (<c>#merchant-state</c>), what still works,
    /// and until when a closed merchant's data is kept.
    /// </summary>
    public static void MerchantState(StringBuilder html, Merchants.Merchant merchant)
    {
        if (merchant.State == Merchants.MerchantStatus.Active)
        {
            return;
        }
        html.Append("<p class=\"error\" role=\"alert\" id=\"merchant-state\"><strong>").Append(E(merchant.Status)).Append("</strong>: ")
            .Append(E(Merchants.MerchantLifecycle.Why(merchant.State))).Append(" (code ").Append(E(Merchants.MerchantLifecycle.Code(merchant.State))).Append(')')
            .Append(merchant.StatusChangedAt is { } since ? " since " + Time(since) : "")
            .Append(merchant.StatusReason is { Length: > 0 } reason ? " · " + E(reason) : "")
            .Append(merchant.State == Merchants.MerchantStatus.Closed
                ? ". Your data is kept until " + (merchant.RetainUntil is { } until ? Time(until) : "") + "."
                : ". Refunds, queries, notifications and settlement go on.")
            .Append("</p>");
    }

    public static IResult Settings(ConsoleSession session, Merchants.Merchant merchant, string? message, string? error)
    {
        var html = Layout(session, "Keys and settings");
        html.Append("<h1>Keys and settings</h1>");
        MerchantState(html, merchant);
        Messages(html, message, error);
        html.Append("<dl><dt>Your key</dt><dd id=\"key\">").Append(E(merchant.KeyAlgorithm)).Append(' ').Append(merchant.KeyBits).Append(" · SHA-256 ")
            .Append(E(merchant.KeyFingerprint)).Append(merchant.HasCertificate ? " · certificate" : "").Append("</dd>")
            .Append(merchant.PreviousKeyFingerprint is { } previous && merchant.PreviousKeyExpiresAt is { } expires
                ? $"<dt>Your previous key (still verifies)</dt><dd id=\"previous-key\">SHA-256 {E(previous)} · until {Time(expires)}</dd>"
                : "")
            .Append("<dt>Platform certificate (answers, notifications)</dt><dd><a id=\"platform-certificate\" href=\"/v1/platform-certificate\">download (PEM)</a></dd>")
            .Append("<dt>Files certificate (reconciliation files)</dt><dd><a id=\"platform-files-certificate\" href=\"/v1/platform-files-certificate\">download (PEM)</a></dd>")
            .Append("<dt>Issuing certificate (issued the two above)</dt><dd><a id=\"platform-issuing-certificate\" href=\"/v1/platform-issuing-certificate\">download (PEM)</a></dd></dl>");
        html.Append("<h1>Notifications</h1><form method=\"post\" action=\"/console/settings/notifications\">");
        Csrf(html, session);
        Select(html, "mode", "Mode", Merchants.MerchantApplication.NotificationModes, merchant.NotificationMode);
        Select(html, "protocol", "Protocol", Merchants.MerchantApplication.NotificationProtocols, merchant.NotificationProtocol);
        html.Append("<br><button class=\"primary\" type=\"submit\" id=\"save-notifications\">Save</button></form>");
        html.Append("<h1>Return addresses</h1><form method=\"post\" action=\"/console/settings/return-addresses\">");
        Csrf(html, session);
        html.Append("<label for=\"returnUrlPrefixes\">Address prefixes, one a line: a NetPay order's BgRetUrl and PageRetUrl must lie under one (none: neither is accepted)</label>")
            .Append("<textarea id=\"returnUrlPrefixes\" name=\"returnUrlPrefixes\" rows=\"4\" cols=\"72\" maxlength=\"2200\">")
            .Append(E(string.Join('\n', merchant.ReturnUrlPrefixes))).Append("</textarea>")
            .Append("<br><button class=\"primary\" type=\"submit\" id=\"save-return-addresses\">Save</button></form>");
        html.Append("<h1>Rotate your key: upload a new certificate or public key</h1><form method=\"post\" action=\"/console/settings/certificate\">");
        Csrf(html, session);
        html.Append("<label for=\"pem\">PEM</label><textarea id=\"pem\" name=\"pem\" rows=\"8\" cols=\"72\" maxlength=\"16000\" required></textarea>")
            .Append("<label for=\"overlapDays\">Days your current key still verifies (0 to ").Append(Merchants.MerchantKeys.OverlapDaysMax)
            .Append(": sign with either meanwhile)</label><input id=\"overlapDays\" name=\"overlapDays\" type=\"number\" min=\"0\" max=\"")
            .Append(Merchants.MerchantKeys.OverlapDaysMax).Append("\" value=\"7\" required>")
            .Append("<label><input type=\"checkbox\" id=\"confirmProtocolEnds\" name=\"confirmProtocolEnds\" value=\"yes\"> ")
            .Append("I stop using a protocol the new key cannot sign (NetPay forms need RSA-1024; /v1 needs RSA-2048 or more, or ECDSA P-256)</label>")
            .Append("<br><button class=\"primary\" type=\"submit\" id=\"upload\">Upload</button></form>");
        return Finish(html, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    public static IResult Users(ConsoleSession session, IReadOnlyList<ConsoleAccounts.User> users, string? message, string? error)
    {
        var html = Layout(session, "Operators");
        html.Append("<h1>Operators</h1>");
        Messages(html, message, error);
        html.Append("<table id=\"users\"><thead><tr><th>Operator</th><th>Role</th><th>Since</th><th>Locked until</th></tr></thead><tbody>");
        foreach (var u in users)
        {
            html.Append("<tr><td>").Append(E(u.OperatorId)).Append("</td><td>").Append(E(u.Role)).Append("</td><td>").Append(Time(u.CreatedAt)).Append("</td><td>")
                .Append(u.LockedUntil is { } until ? Time(until) : "").Append("</td></tr>");
        }
        html.Append("</tbody></table><h1>Add an operator</h1><form method=\"post\" action=\"/console/users\" autocomplete=\"off\">");
        Csrf(html, session);
        html.Append("<label for=\"operatorId\">Operator id</label><input id=\"operatorId\" name=\"operatorId\" maxlength=\"32\" required>");
        Select(html, "role", "Role", ConsoleRoles.All, ConsoleRoles.Viewer);
        html.Append("<label for=\"password\">Password (").Append(ConsoleAccounts.PasswordCharsMin).Append(" characters or more)</label>")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" maxlength=\"128\" required>")
            .Append("<br><button class=\"primary\" type=\"submit\" id=\"add-user\">Add</button></form>");
        return Finish(html, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    /// <summary>What an action did, or why it did not.</summary>
    public static void Messages(StringBuilder html, string? message, string? error)
    {
        if (message is not null)
        {
            html.Append("<p class=\"ok\" id=\"message\">").Append(E(message)).Append("</p>");
        }
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"error-message\">").Append(E(error)).Append("</p>");
        }
    }

    public static void Select(StringBuilder html, string name, string label, IEnumerable<string> options, string selected)
    {
        html.Append("<label for=\"").Append(name).Append("\">").Append(E(label)).Append("</label><select id=\"").Append(name).Append("\" name=\"").Append(name).Append("\">");
        foreach (var option in options)
        {
            html.Append("<option").Append(option == selected ? " selected" : "").Append('>').Append(E(option)).Append("</option>");
        }
        html.Append("</select>");
    }

    /// <summary>A console's error page (<see cref="Components.ConsoleError"/>); <paramref name="title"/> and <paramref name="detail"/> are in the request's language.</summary>
    public static IResult Error(ConsoleSession? session, int statusCode, string title, string detail) =>
        SecurePage.Of<Components.ConsoleError>(new Dictionary<string, object?>
        {
            [nameof(Components.ConsoleError.Session)] = session,
            [nameof(Components.ConsoleError.Title)] = title,
            [nameof(Components.ConsoleError.Detail)] = detail,
        }, statusCode);

    /// <summary>The page's head and the console's navigation: the merchant console's, or the operator console's for the platform's people.</summary>
    public static StringBuilder Layout(ConsoleSession session, string title)
    {
        var platform = session.MerchantId == ConsoleRoles.Platform;
        var html = Start(title + (platform ? " · Mesh operator console" : " · Mesh merchant console")).Append("<header><strong>Mesh</strong>");
        if (platform)
        {
            html.Append("<a href=\"/ops\">Switch</a><a href=\"/ops/merchants\">Merchants</a><a href=\"/ops/banks\">Banks</a><a href=\"/ops/gates\">Gate codes</a><a href=\"/ops/risk\">Risk</a><a href=\"/ops/keys\">Keys</a><a href=\"/ops/settlement\">Settlement</a>")
                .Append("<a href=\"/ops/reconciliation\">Reconciliation</a><a href=\"/ops/sessions\">Sessions</a>");
        }
        else
        {
            html.Append("<a href=\"/console\">Home</a><a href=\"/console/transactions\">Transactions</a><a href=\"/console/notifications\">Notifications</a>")
                .Append("<a href=\"/console/settlement\">Settlement</a><a href=\"/console/risk\">Risk</a>")
                .Append(session.Role == ConsoleRoles.Admin ? "<a href=\"/console/settings\">Keys and settings</a><a href=\"/console/users\">Operators</a>" : "");
        }
        html.Append("<span class=\"who\" id=\"who\">").Append(E(session.MerchantId)).Append(" · ").Append(E(session.OperatorId)).Append(" (").Append(E(session.Role))
            .Append(")</span><form method=\"post\" action=\"").Append(platform ? "/ops/logout" : "/console/logout").Append("\">");
        Csrf(html, session);
        html.Append("<button type=\"submit\" id=\"sign-out\">Sign out</button></form></header><main>");
        return html;
    }

    /// <summary>The document's head, with the console's style sheet (and its SRI hash), and the opening body tag.</summary>
    private static StringBuilder Start(string title) =>
        new StringBuilder().Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
            .Append(E(title)).Append("</title><link rel=\"stylesheet\" href=\"/pay/assets/console.css\" integrity=\"").Append(PageAssets.Integrity("console.css"))
            .Append("\"></head><body>");

    public static IResult Finish(StringBuilder html, int statusCode = StatusCodes.Status200OK) =>
        new HtmlPage(html.Append("</main></body></html>").ToString(), statusCode);

    public static void Csrf(StringBuilder html, ConsoleSession session) =>
        html.Append("<input type=\"hidden\" name=\"csrf\" value=\"").Append(E(session.CsrfToken)).Append("\">");

    public static void Field(StringBuilder html, string name, string label, string value, string type) =>
        html.Append("<label for=\"").Append(name).Append("\">").Append(E(label)).Append("<br><input id=\"").Append(name).Append("\" name=\"").Append(name)
            .Append("\" type=\"").Append(type).Append("\" value=\"").Append(E(value)).Append("\" maxlength=\"32\"></label>");

    public static string Time(DateTimeOffset at) =>
        E(TimeZoneInfo.ConvertTime(at, ConsoleQueries.BusinessZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));

    public static string E(string text) => HtmlEncoder.Default.Encode(text);
}
