using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Mesh.AppHost;

/// <summary>
/// Commands on the Aspire dashboard for what operators do by hand: verify the ledger and close
/// the previous business day, on the settlement resource; a bank's key sheet, on each bank. Each posts to the settlement's
/// operations endpoint and shows its JSON answer; enabled while the resource is healthy.
/// </summary>
public static class OperatorCommands
{
    public const string VerifyLedger = "verify-ledger";
    public const string CloseDay = "close-business-day";
    public const string ExportZoneKeys = "export-zone-keys";

    public static IResourceBuilder<ProjectResource> WithSettlementCommands(this IResourceBuilder<ProjectResource> settlement)
    {
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
        bank.WithCommand(ExportZoneKeys, "Export zone keys under the ZMK", context => PostAsync(bank, "/admin/zone-keys/export", context), new CommandOptions
        {
            Description = "The bank's ZPK and ZAK under its ZMK with their check values, and its BINs: what the operator console's Banks page asks for",
            IconName = "Key",
            UpdateState = WhenHealthy,
        });

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus is HealthStatus.Healthy ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static async Task<ExecuteCommandResult> PostAsync(IResourceBuilder<ProjectResource> resource, string path, ExecuteCommandContext context)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        try
        {
            using var response = await http.PostAsync(new Uri(new Uri(resource.GetEndpoint("http").Url), path), null, context.CancellationToken);
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
