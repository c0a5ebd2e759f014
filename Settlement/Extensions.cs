using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Database;
using Mesh.Settlement.Clearing;
using Mesh.Settlement.Grpc;
using Mesh.Settlement.Ledger;
using Mesh.Settlement.Metrics;
using Mesh.Settlement.Operations;
using Mesh.Settlement.Payouts;
using Mesh.Settlement.Reconciliation;
using Microsoft.Extensions.Options;

namespace Mesh.Settlement;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The ledger's statements take batches as arrays: each is planned for the batch at hand.
        builder.AddMeshDatabase("settlementdb");
        builder.AddMeshCallerAccess(SettlementAccessPolicy.Policy);
        builder.Services.AddOptions<SettlementOptions>()
            .Bind(builder.Configuration.GetSection(SettlementOptions.Section))
            .Validate(o => TimeZoneInfo.TryFindSystemTimeZoneById(o.TimeZone, out _), "Settlement:TimeZone is a time zone this machine knows (Asia/Shanghai)")
            .Validate(o => TimeOnly.TryParseExact(o.CutoffLocalTime, "HH:mm", out _), "Settlement:CutoffLocalTime is HH:mm")
            .Validate(o => o.RecordBatchMax is > 0 and <= 50_000, "Settlement:RecordBatchMax is 1 to 50000")
            .Validate(o => o.InterbankSettleAfterMs is >= 100 and <= 3_600_000, "Settlement:InterbankSettleAfterMs is 100 to 3600000")
            .Validate(o => o.InterbankPollMs is >= 50 and <= 600_000, "Settlement:InterbankPollMs is 50 to 600000")
            .Validate(o => o.InterbankRecordsMax is >= 100 and <= 200_000, "Settlement:InterbankRecordsMax is 100 to 200000")
            .Validate(o => o.LedgerVerifyIntervalMs is >= 60_000 and <= 86_400_000, "Settlement:LedgerVerifyIntervalMs is 60000 to 86400000")
            .ValidateOnStart();
        builder.Services.AddOptions<AutoCloseOptions>()
            .Bind(builder.Configuration.GetSection(AutoCloseOptions.Section))
            .Validate(o => o.AfterCutoffMinutes is >= 0 and <= 1_440, "Settlement:AutoClose:AfterCutoffMinutes is 0 to 1440")
            .Validate(o => o.RetryIntervalSeconds is >= 1 and <= 3_600, "Settlement:AutoClose:RetryIntervalSeconds is 1 to 3600")
            .ValidateOnStart();
        builder.Services.AddOptions<PayoutOptions>()
            .Bind(builder.Configuration.GetSection(PayoutOptions.Section))
            .Validate(o => o.DebtorName.Length is > 0 and <= 70, "Settlement:Payouts:DebtorName is 1 to 70 characters")
            .Validate(o => o.DebtorAccount.Length is >= 6 and <= 34 && o.DebtorAccount.All(char.IsAsciiLetterOrDigit),
                "Settlement:Payouts:DebtorAccount is 6 to 34 letters and digits")
            .Validate(o => System.Text.RegularExpressions.Regex.IsMatch(o.DebtorAgentBic, "^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"),
                "Settlement:Payouts:DebtorAgentBic is a BIC (8 or 11 characters)")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => SettlementCalendar.From(sp.GetRequiredService<IOptions<SettlementOptions>>().Value));
        builder.Services.AddSingleton<LedgerMetrics>();
        builder.Services.AddSingleton<LedgerWriter>();
        builder.Services.AddSingleton<DayClose>();
        builder.Services.AddSingleton<PayoutInstructions>();
        builder.Services.AddHostedService<AutoDayClose>();
        builder.Services.AddSingleton<LedgerVerifier>();
        builder.Services.AddHostedService<LedgerAudit>();
        builder.Services.AddSingleton<ReconciliationFiles>();
        builder.Services.AddSingleton<ThreeWayReconciliation>();
        builder.Services.AddSingleton<InterbankIntake>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InterbankIntake>());
        builder.Services.AddHttpClient();
        // Each bank's /admin/postings with settlement's credential at that bank (a client named after the bank).
        foreach (var issuer in builder.Configuration.GetSection($"{SettlementOptions.Section}:{nameof(SettlementOptions.Issuers)}").Get<string[]>() ?? [])
        {
            builder.Services.AddHttpClient(issuer).AddMeshCallerHandler(builder.Configuration, issuer);
        }
        builder.Services.AddGrpcClient<Contracts.Switch.CardSwitch.CardSwitchClient>(o => o.Address = new Uri("http://_grpc.switch"))
            .WithMeshCallerCredentials(builder.Configuration, "switch");
    }

    public static WebApplication MapSettlementServices(this WebApplication app)
    {
        app.MapGrpcService<SettlementService>();
        app.MapOperationsApi();
        return app;
    }
}
