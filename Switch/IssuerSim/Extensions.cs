using Mesh.Contracts.Hsm;
using Mesh.Iso8583.Packaging;
using Mesh.IssuerSim.Cards;
using Mesh.IssuerSim.Faults;
using Mesh.IssuerSim.Options;
using Mesh.IssuerSim.Processing;
using Mesh.IssuerSim.Verification;
using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Grpc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mesh.IssuerSim;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var schema = BankOptions.SchemaFor(builder.Configuration["Bank:Id"]);
        builder.AddMeshDatabase("issuerdb", connection => connection.SearchPath = schema);
        builder.AddMeshCallerAccess();
        builder.Services.AddGrpcClient<Hsm.HsmClient>(o => o.Address = new Uri("http://_grpc.hsm")).WithHsmCallerCredentials(builder.Configuration);
        builder.Services.AddSingleton(sp => new HsmSession(() => sp.GetRequiredService<Hsm.HsmClient>()));
        builder.Services.AddOptions<BankOptions>()
            .Bind(builder.Configuration.GetSection(BankOptions.Section))
            .Validate(o => o.Id.Length is >= 1 and <= 11 && o.Id.All(char.IsAsciiDigit), "Bank:Id is 1 to 11 digits")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Name), "Bank:Name is required")
            .Validate(o => o.KeyExchange is "tr31" or "cryptogram", "Bank:KeyExchange is tr31 or cryptogram")
            .Validate(o => o.Bins.Count > 0 && o.Bins.All(b => b.Length is >= 6 and <= 11 && b.All(char.IsAsciiDigit)), "Bank:Bins lists 6 to 11 digit prefixes")
            .Validate(o => o.CreditBins.All(o.Bins.Contains), "Bank:CreditBins are some of Bank:Bins")
            .Validate(o => o.Bins.Count == 0 || !o.CreditBins.Contains(o.Bins[0]), "Bank:Bins starts with a debit BIN (its debit test cards are numbered from it)")
            .Validate(o => o.OneTimeCodeMinutes is >= 1 and <= 30, "Bank:OneTimeCodeMinutes within 1..30")
            .Validate(o => o.KeyPrefix.Length > 0, "Bank:KeyPrefix names the bank's keys in the Hsm")
            .Validate(o => o.LoadTestCards is >= 0 and <= 100_000, "Bank:LoadTestCards within 0..100000")
            .ValidateOnStart();
        builder.Services.AddOptions<Iso8583ListenerOptions>()
            .Bind(builder.Configuration.GetSection(Iso8583ListenerOptions.Section))
            .Validate(o => o.Port is > 0 and < 65536, "Iso8583:Port is a TCP port")
            .Validate(o => o.Tls.IsComplete, "Iso8583:Tls names the listener's certificate, key and trust anchor files, and they exist")
            .Validate(o => o.Peer.Length > 0, "Iso8583:Peer names the switch's certificate")
            .ValidateOnStart();
        builder.Services.AddSingleton(new IsoPackager(IsoDialect.UnionPay1987));
        builder.Services.AddSingleton<IssuerProcessor>();
        builder.Services.AddSingleton<KeyExchange.ZoneKeyChangeReceiver>();
        builder.Services.AddSingleton<Authorizer>();
        builder.Services.AddSingleton<Reverser>();
        builder.Services.AddSingleton<CardIssuance>();
        builder.Services.AddSingleton<OneTimeCodes>();
        builder.Services.AddSingleton<CardholderInbox>();
        builder.Services.AddSingleton<FaultKnobs>();
        builder.Services.AddSingleton<IsoListener>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IsoListener>());
        builder.Services.AddHealthChecks().AddCheck<IsoListenerHealthCheck>("iso8583-listener");
    }

    /// <summary>
    /// Fault knobs for tests (development only): <c>GET</c> and <c>PUT /admin/faults</c> with
    /// latency, dropped answers, closed connections and <c>96</c> answers (<c>GET</c> also counts the requests the
    /// latency holds now); and the bank's test
    /// cards with their CVV2 (<c>GET /admin/test-cards</c>); the cardholders' inbox of one-time codes
    /// (<c>GET /admin/inbox?card=</c>, the masked card number, as the bank's messages name it). An operator's credential only.
    /// </summary>
    public static WebApplication MapFaultKnobs(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            return app;
        }
        var admin = app.MapGroup("/admin").RequireMeshCaller(MeshRoles.Operator);
        admin.MapGet("/faults", (FaultKnobs faults) => faults.Status());
        admin.MapGet("/test-cards", (CardIssuance cards, CancellationToken ct) => cards.PublishedTestCardsAsync(ct));
        admin.MapGet("/inbox", (string? card, CardholderInbox inbox) => card is { Length: >= 13 and <= 19 } && card[..6].All(char.IsAsciiDigit)
                && card[^4..].All(char.IsAsciiDigit) && card[6..^4].All(c => c == '*')
            ? Results.Ok(inbox.For(card))
            : Results.Problem("card is the masked card number: its first 6 and last 4 digits, asterisks between", statusCode: StatusCodes.Status400BadRequest,
                title: "Not a masked card number"));
        admin.MapPut("/faults", (FaultSettings settings, FaultKnobs faults) =>
        {
            faults.Set(settings);
            return faults.Get();
        });
        return app;
    }

    public static Task IssueTestCardsAsync(this WebApplication app) =>
        app.Services.GetRequiredService<CardIssuance>().IssueTestCardsAsync(CancellationToken.None);

    /// <summary>Records this bank and its BIN ranges in issuerdb (several banks share the database).</summary>
    public static async Task RegisterBankAsync(this WebApplication app)
    {
        var bank = app.Services.GetRequiredService<IOptions<BankOptions>>().Value;
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = db.CreateCommand(
            """
            INSERT INTO banks (bank_id, name, bins) VALUES (@id, @name, @bins)
            ON CONFLICT (bank_id) DO UPDATE SET name = excluded.name, bins = excluded.bins
            """);
        command.Parameters.AddWithValue("id", bank.Id);
        command.Parameters.AddWithValue("name", bank.Name);
        command.Parameters.AddWithValue("bins", bank.Bins.ToArray());
        await command.ExecuteNonQueryAsync();
    }
}
