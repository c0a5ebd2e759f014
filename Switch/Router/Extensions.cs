using System.Diagnostics.Metrics;
using Mesh.Iso8583.Packaging;
using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Grpc;
using Mesh.Switch.Authorization;
using Mesh.Switch.Grpc;
using Mesh.Switch.Journal;
using Mesh.Switch.KeyChange;
using Mesh.Switch.Links;
using Mesh.Switch.Metrics;
using Mesh.Switch.Onboarding;
using Mesh.Switch.Options;
using Mesh.Switch.Reversals;
using Mesh.Switch.Routing;

namespace Mesh.Switch;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddMeshDatabase("switchdb");
        builder.AddMeshCallerAccess(SwitchAccessPolicy.Policy);
        builder.Services.AddSingleton(sp => new GroupCommit(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        builder.Services.AddOptions<SwitchOptions>()
            .Bind(builder.Configuration.GetSection(SwitchOptions.Section))
            .Validate(o => o.Issuers.Count > 0, "Switch:Issuers lists no issuer")
            .Validate(o => o.Issuers.All(i => IssuerLinkOptions.TryParseEndpoint(i.Endpoint, out _, out _)), "Every issuer needs an Endpoint like tcp://host:port")
            .Validate(o => o.Issuers.All(i => i.CreditBins.All(b => b.Length is >= 6 and <= 11 && b.All(char.IsAsciiDigit))),
                "Switch:Issuers:N:CreditBins lists 6 to 11 digit prefixes")
            .Validate(o => o.Issuers.Select(i => i.Name).Distinct(StringComparer.Ordinal).Count() == o.Issuers.Count, "Issuer names are unique")
            .Validate(o => o.EchoTimeoutMs is > 0 and <= 60_000, "Switch:EchoTimeoutMs within 1..60000")
            .Validate(o => o.AuthorizationTimeoutMs is >= 100 and <= 120_000, "Switch:AuthorizationTimeoutMs within 100..120000")
            .Validate(o => o.EchoIntervalMs >= 1_000 && o.ReversalPollMs is >= 10 and <= 600_000 && o.ReversalBatchMax is >= 1 and <= 1_000,
                "Switch echo, reversal poll (10 to 600000 ms) and batch limits")
            .Validate(o => o.Acquirers.All(a => a.Id.Length > 0 && a.KeyPrefix.Length > 0), "Every Switch:Acquirers entry has an Id and a KeyPrefix")
            .Validate(o => o.Issuers.All(i => KeyExchangeForms.IsKnown(i.KeyExchange)), "Switch:Issuers:N:KeyExchange is tr31 or cryptogram")
            .Validate(o => o.ZoneKeyChangeIntervalMinutes is >= 1 and <= SwitchOptions.ZoneKeyChangeIntervalMinutesMax,
                "Switch:ZoneKeyChangeIntervalMinutes within 1..525600 (a year)")
            .Validate(o => o.ZoneKeyGraceSeconds is >= 1 and <= Iso8583.Messages.KeyChangeData.GraceSecondsMax && o.ZoneKeyGraceSeconds * 1_000L >= o.AuthorizationTimeoutMs,
                "Switch:ZoneKeyGraceSeconds within 1..86400 and at least Switch:AuthorizationTimeoutMs")
            .Validate(o => o.IsoTls.IsComplete, "Switch:IsoTls names the ISO links' certificate, key and trust anchor files, and they exist")
            .ValidateOnStart();
        builder.Services.AddSingleton(new IsoPackager(IsoDialect.UnionPay1987));
        builder.Services.AddSingleton<StanSequence>();
        builder.Services.AddSingleton<MessageJournal>();
        builder.Services.AddSingleton<IssuerLinks>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IssuerLinks>());
        builder.Services.AddSingleton<BinTable>();
        builder.Services.AddSingleton<SecurityModule>();
        builder.Services.AddSingleton(sp => new SwitchMetrics(sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IssuerLinks>().States));
        builder.Services.AddSingleton<AuthorizationFlow>();
        builder.Services.AddSingleton<OutcomeLookup>();
        builder.Services.AddSingleton<IssuerOnboarding>();
        builder.Services.AddSingleton<ZoneKeyChangeStore>();
        builder.Services.AddSingleton<ZoneKeyChanges>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ZoneKeyChanges>());
        builder.Services.AddSingleton<ReversalQueue>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReversalQueue>());
        builder.Services.AddGrpcClient<Contracts.Hsm.Hsm.HsmClient>(o => o.Address = new Uri("http://_grpc.hsm")).WithHsmCallerCredentials(builder.Configuration);
        builder.Services.AddSingleton(sp => new Contracts.Hsm.HsmSession(() => sp.GetRequiredService<Contracts.Hsm.Hsm.HsmClient>()));
        builder.Services.AddHealthChecks().AddCheck<IssuerLinksHealthCheck>("issuer-links");
    }

    public static Task LoadRoutesAsync(this WebApplication app) =>
        app.Services.GetRequiredService<BinTable>().SeedAndLoadAsync(CancellationToken.None);

    public static WebApplication MapSwitchServices(this WebApplication app)
    {
        app.MapGrpcService<CardSwitchService>();
        app.MapLinksAdminApi();
        return app;
    }
}
