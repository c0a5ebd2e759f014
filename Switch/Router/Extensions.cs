using Mesh.Iso8583.Packaging;
using Mesh.Switch.Grpc;
using Mesh.Switch.Journal;
using Mesh.Switch.Links;
using Mesh.Switch.Options;

namespace Mesh.Switch;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("switchdb");
        builder.Services.AddOptions<SwitchOptions>()
            .Bind(builder.Configuration.GetSection(SwitchOptions.Section))
            .Validate(o => o.Issuers.Count > 0, "Switch:Issuers lists no issuer")
            .Validate(o => o.Issuers.All(i => IssuerLinkOptions.TryParseEndpoint(i.Endpoint, out _, out _)), "Every issuer needs an Endpoint like tcp://host:port")
            .Validate(o => o.Issuers.Select(i => i.Name).Distinct(StringComparer.Ordinal).Count() == o.Issuers.Count, "Issuer names are unique")
            .Validate(o => o.EchoTimeoutMs is > 0 and <= 60_000, "Switch:EchoTimeoutMs within 1..60000")
            .ValidateOnStart();
        builder.Services.AddSingleton(new IsoPackager(IsoDialect.UnionPay1987));
        builder.Services.AddSingleton<StanSequence>();
        builder.Services.AddSingleton<MessageJournal>();
        builder.Services.AddSingleton<IssuerLinks>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IssuerLinks>());
        builder.Services.AddHealthChecks().AddCheck<IssuerLinksHealthCheck>("issuer-links");
    }

    public static WebApplication MapSwitchServices(this WebApplication app)
    {
        app.MapGrpcService<CardSwitchService>();
        return app;
    }
}
