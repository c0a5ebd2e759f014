using System.Net.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Mesh.AppHost;

/// <summary>
/// Commands on the Aspire dashboard for what operators do by hand: verify the ledger and close
/// the previous business day, on the settlement resource; re-send the notifications still owed, on
/// the gateway; on each bank, its key sheet, signing its link off and on at the switch, and (in
/// development) its fault knobs. Each calls the service's internal http endpoint as an operator
/// (the <c>dashboard</c> caller: the AppHost made its secrets, so it holds them) and shows the
/// JSON answer; enabled while the resource is healthy.
/// </summary>
public static class OperatorCommands
{
    public const string VerifyLedger = "verify-ledger";
    public const string CloseDay = "close-business-day";
    public const string ExportZoneKeys = "export-zone-keys";
    public const string SignOff = "sign-off";
    public const string SignOn = "sign-on";
    public const string ChangeZoneKeys = "change-zone-keys";
    public const string ResendNotifications = "resend-pending-notifications";
    public const string SlowAnswers = "fault-slow-answers";
    public const string Malfunction = "fault-answer-96";
    public const string DropAnswers = "fault-drop-answers";
    public const string ClearFaults = "fault-clear";

    /// <summary>The latency the slow-answers fault adds: beyond the switch's authorization timeout (10 s), so purchases end 91 and are reversed.</summary>
    public const int SlowAnswersLatencyMs = 12_000;

    public static IResourceBuilder<ProjectResource> WithSettlementCommands(this IResourceBuilder<ProjectResource> settlement)
    {
        settlement.WithDashboardOperator();
        settlement.WithCommand(VerifyLedger, "Verify the ledger", context => PostAsync(settlement, "/admin/ledger/verify", context), new CommandOptions
        {
            Description = "Checks every entry sums to zero, every line has its entry and account, every cached balance against its lines",
            IconName = "CheckmarkCircle",
            UpdateState = WhenHealthy,
        });
        settlement.WithCommand(CloseDay, "Close the previous business day", context => PostAsync(settlement, "/admin/days/previous/close", context),
            new CommandOptions
            {
                Description = "Batches per merchant, positions per bank, reconciliation files; once the switch's side of the day is in",
                ConfirmationMessage = "Close the previous business day? A closed day never reopens; later items go to the next day.",
                IconName = "CalendarCheckmark",
                UpdateState = WhenHealthy,
            });
        return settlement;
    }

    /// <summary>On a bank: its zone keys exported under the ZMK it shares with the platform, the key sheet for onboarding it.</summary>
    public static IResourceBuilder<ProjectResource> WithZoneKeyExportCommand(this IResourceBuilder<ProjectResource> bank) =>
        bank.WithDashboardOperator().WithCommand(ExportZoneKeys, "Export zone keys under the ZMK", context => PostAsync(bank, "/admin/zone-keys/export", context), new CommandOptions
        {
            Description = "The bank's ZPK and ZAK under its ZMK with their check values, and its BINs: what the operator console's Banks page asks for",
            IconName = "Key",
            UpdateState = WhenHealthy,
        });

    /// <summary>On a bank: sign its link off at the switch (its cards get 91 at once, advices wait) and on again; change its zone keys now.</summary>
    public static IResourceBuilder<ProjectResource> WithLinkCommands(this IResourceBuilder<ProjectResource> bank,
        IResourceBuilder<ProjectResource> cardSwitch)
    {
        var name = bank.Resource.Name;
        cardSwitch.WithDashboardOperator();
        bank.WithCommand(SignOff, "Sign off from the switch", context => SendAsync(cardSwitch, HttpMethod.Post, $"/admin/links/{name}/sign-off", context),
            new CommandOptions
            {
                Description = "The switch sends 0800/002 and closes the link: this bank's cards get 91 until it is signed on again",
                ConfirmationMessage = $"Sign {name} off? Its cardholders cannot pay until it is signed on again.",
                IconName = "PlugDisconnected",
                UpdateState = WhenHealthy,
            });
        bank.WithCommand(SignOn, "Sign on to the switch", context => SendAsync(cardSwitch, HttpMethod.Post, $"/admin/links/{name}/sign-on", context),
            new CommandOptions
            {
                Description = "The switch reconnects and signs on (0800/001); the answer says whether the link is up",
                IconName = "PlugConnected",
                UpdateState = WhenHealthy,
            });
        bank.WithCommand(ChangeZoneKeys, "Change zone keys", context => SendAsync(cardSwitch, HttpMethod.Post, $"/admin/links/{name}/change-zone-keys", context),
            new CommandOptions
            {
                Description = "The switch sends this bank a new ZPK and ZAK (0800/101) and both change over; the previous keys are accepted for the grace window",
                ConfirmationMessage = $"Change the zone keys of {name} now?",
                IconName = "KeyReset",
                UpdateState = WhenHealthy,
            });
        return bank;
    }

    /// <summary>On a bank, in development only: its fault knobs (slow answers, 96 answers, dropped answers, and back to normal).</summary>
    public static IResourceBuilder<ProjectResource> WithFaultCommands(this IResourceBuilder<ProjectResource> bank)
    {
        if (!bank.ApplicationBuilder.Environment.IsDevelopment())
        {
            return bank;
        }
        bank.WithDashboardOperator();
        (string Name, string Display, string Description, string Icon, object Faults)[] knobs =
        [
            (SlowAnswers, "Fault: answer after the timeout", $"Answers {SlowAnswersLatencyMs} ms late, past the switch's timeout: purchases end 91 and are reversed",
                "Clock", new { latencyMs = SlowAnswersLatencyMs, dropAnswers = false, closeConnections = false, systemMalfunction = false }),
            (Malfunction, "Fault: answer 96", "Answers every request 96 (system malfunction): the outcome is unknown, so the switch reverses it",
                "ErrorCircle", new { latencyMs = 0, dropAnswers = false, closeConnections = false, systemMalfunction = true }),
            (DropAnswers, "Fault: drop answers", "Takes requests and never answers: the switch times out and reverses",
                "ArrowHookUpLeft", new { latencyMs = 0, dropAnswers = true, closeConnections = false, systemMalfunction = false }),
            (ClearFaults, "Fault: none", "Back to normal answers", "CheckmarkCircle",
                new { latencyMs = 0, dropAnswers = false, closeConnections = false, systemMalfunction = false }),
        ];
        foreach (var knob in knobs)
        {
            bank.WithCommand(knob.Name, knob.Display, context => SendAsync(bank, HttpMethod.Put, "/admin/faults", context, JsonContent.Create(knob.Faults)),
                new CommandOptions { Description = knob.Description + " (development only)", IconName = knob.Icon, UpdateState = WhenHealthy });
        }
        return bank;
    }

    /// <summary>On the gateway: every notification still owed, the given-up ones too, due now.</summary>
    public static IResourceBuilder<ProjectResource> WithNotificationCommands(this IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<ParameterResource> adminKey)
    {
        gateway.WithCommand(ResendNotifications, "Re-send pending notifications", async context =>
            {
                var key = await adminKey.Resource.GetValueAsync(context.CancellationToken) ?? "";
                return await SendAsync(gateway, HttpMethod.Post, "/admin/notifications/resend-pending", context, headers: [("X-Mesh-Admin-Key", key)]);
            },
            new CommandOptions
            {
                Description = "Makes every notification not yet delivered due now, also those the schedule gave up on (after a merchant fixed its endpoint)",
                IconName = "MailArrowForward",
                UpdateState = WhenHealthy,
            });
        return gateway;
    }

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus is HealthStatus.Healthy ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static Task<ExecuteCommandResult> PostAsync(IResourceBuilder<ProjectResource> resource, string path, ExecuteCommandContext context) =>
        SendAsync(resource, HttpMethod.Post, path, context);

    private static async Task<ExecuteCommandResult> SendAsync(IResourceBuilder<ProjectResource> resource, HttpMethod method, string path,
        ExecuteCommandContext context, HttpContent? content = null, (string Name, string Value)[]? headers = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        using var request = new HttpRequestMessage(method, new Uri(new Uri(resource.GetEndpoint("http").Url), path)) { Content = content };
        foreach (var (name, value) in (headers ?? []).Concat(await MeshCallers.DashboardHeadersAsync(resource.Resource, context.CancellationToken)))
        {
            request.Headers.Add(name, value);
        }
        try
        {
            using var response = await http.SendAsync(request, context.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
            return response.IsSuccessStatusCode
                ? CommandResults.Success("Done", body, CommandResultFormat.Json)
                : CommandResults.Failure($"Refused ({(int)response.StatusCode})", body, CommandResultFormat.Json);
        }
        catch (HttpRequestException ex)
        {
            return CommandResults.Failure(ex);
        }
    }
}
