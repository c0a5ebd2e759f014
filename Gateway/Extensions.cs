using Mesh.Contracts.Hsm;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Acquiring;
using Mesh.Gateway.Apis;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Diagnostics;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Notifications;
using Mesh.Gateway.Options;
using Mesh.Gateway.Orders;
using Mesh.Gateway.Outbox;
using Mesh.Gateway.Pages;
using Mesh.Gateway.Payments;
using Mesh.Gateway.Platform;
using Mesh.Gateway.Refunds;
using Mesh.Gateway.Resilience;
using Mesh.Gateway.Risk;
using Mesh.Gateway.Signatures;
using Mesh.Iso8583.Packaging;
using Mesh.ServiceDefaults.Access;
using Mesh.ServiceDefaults.Database;
using Mesh.ServiceDefaults.Grpc;
using Scalar.AspNetCore;

namespace Mesh.Gateway;

public static class Extensions
{
    /// <summary>Internal gRPC services, found through Aspire service discovery on their "grpc" endpoints.</summary>
    private static readonly Uri HsmAddress = new("http://_grpc.hsm");
    private static readonly Uri SwitchAddress = new("http://_grpc.switch");
    private static readonly Uri SettlementAddress = new("http://_grpc.settlement");

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // No request waits on a lock or a statement without end: a stuck transaction becomes an error that names itself.
        // The payment path's statements are key look-ups and writes without arrays: they keep their generic plans.
        builder.AddMeshDatabase("gatewaydb");
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DependencyUnavailableHandler>();
        // Browsers that reached the pages over TLS keep to TLS for a year (not on localhost: a
        // developer's other local sites would be forced to HTTPS too).
        builder.Services.AddHsts(hsts =>
        {
            hsts.MaxAge = TimeSpan.FromDays(365);
            hsts.IncludeSubDomains = true;
        });
        // Nothing a merchant or a consumer sends is large: forms and bodies are bounded before they are read.
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(o =>
        {
            o.ValueCountLimit = 64;
            o.KeyLengthLimit = 256;
            o.ValueLengthLimit = 8 * 1024;
            o.MultipartBodyLengthLimit = PaymentPageApi.FormBytesMax;
        });
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 1024 * 1024);
        // OpenAPI 3.0, not 3.1: every client generator merchants use (openapi-generator, NSwag, Kiota, oapi-codegen) reads it.
        builder.Services.AddOpenApi(o =>
        {
            o.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0;
            o.AddOperationTransformer<V1OpenApi.V1Parameters>();
            o.AddSchemaTransformer<V1OpenApi.V1RequiredFields>();
        });
        // The pages are Razor components rendered on the server (static SSR), in English and Simplified Chinese.
        builder.Services.AddPageLocalization();
        builder.Services.AddRazorComponents();
        builder.Services.AddGrpcClient<Hsm.HsmClient>(o => o.Address = HsmAddress).WithHsmCallerCredentials(builder.Configuration);
        // A purchase's Hsm commands (PIN, card number, MACs, signatures) go over one long-lived session stream.
        builder.Services.AddSingleton(sp => new HsmSession(() => sp.GetRequiredService<Hsm.HsmClient>()));
        // Two credentials at the switch and at settlement: the payment path and the merchant-facing
        // code present the acquirer's and the gateway's; only the operator console's clients the operator's.
        builder.Services.AddGrpcClient<CardSwitch.CardSwitchClient>(o => o.Address = SwitchAddress).WithMeshCallerCredentials(builder.Configuration, "switch");
        builder.Services.AddGrpcClient<Settlement.SettlementClient>(o => o.Address = SettlementAddress).WithMeshCallerCredentials(builder.Configuration, "settlement");
        builder.Services.AddGrpcClient<OperatorSwitchClient>(o => o.Address = SwitchAddress).WithMeshCallerCredentials(builder.Configuration, "switch:operator");
        builder.Services.AddGrpcClient<OperatorHsmClient>(o => o.Address = HsmAddress).WithHsmCallerCredentials(builder.Configuration, "keys");
        builder.Services.AddGrpcClient<OperatorSettlementClient>(o => o.Address = SettlementAddress)
            .WithMeshCallerCredentials(builder.Configuration, "settlement:operator");
        builder.Services.AddSingleton<DiagnosticsProbe>();
        builder.Services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .Validate(o => o.AdminKey.Length >= GatewayOptions.AdminKeyCharsMin, $"Gateway:AdminKey has at least {GatewayOptions.AdminKeyCharsMin} characters")
            .Validate(o => o.OrderAmountMinorMax > 0 && o.PaymentSessionMinutes is > 0 and <= 120 && o.WrongPinsMax is > 0 and <= 10,
                "Gateway: OrderAmountMinorMax above 0, PaymentSessionMinutes 1 to 120, WrongPinsMax 1 to 10")
            .Validate(o => o.PayMinutesDefault > 0 && o.PayMinutesDefault <= o.PayMinutesMax && o.PayMinutesMax <= GatewayOptions.PayMinutesLimit
                    && o.CloseExpiredPollMs is > 0 and <= GatewayOptions.PollMsMax,
                $"Gateway: PayMinutesDefault 1 to PayMinutesMax, PayMinutesMax at most {GatewayOptions.PayMinutesLimit}, CloseExpiredPollMs 1 to {GatewayOptions.PollMsMax}")
            .Validate(o => o.PinTransport is EncryptedPin.Ecdh or EncryptedPin.RsaOaep, "Gateway:PinTransport is ecdh or rsa-oaep")
            .Validate(o => BusinessDay.TryFrom(o) is not null, "Gateway: SettlementCutoffLocalTime is HH:mm and SettlementTimeZone a known time zone")
            .Validate(o => o.SwitchDeadlineMs > 0 && o.ResolveAfterMs > 0 && o.ResolvePollMs is > 0 and <= GatewayOptions.PollMsMax,
                $"Gateway: the switch deadline and resolver times are positive, ResolvePollMs at most {GatewayOptions.PollMsMax}")
            .Validate(o => o.SettlementRelayPollMs is > 0 and <= GatewayOptions.PollMsMax, $"Gateway:SettlementRelayPollMs is 1 to {GatewayOptions.PollMsMax}")
            .Validate(o => o.HoldExpiryDays is > 0 and <= GatewayOptions.HoldExpiryDaysLimit && o.HoldExpiryPollMs is > 0 and <= GatewayOptions.PollMsMax,
                $"Gateway: HoldExpiryDays 1 to {GatewayOptions.HoldExpiryDaysLimit}, HoldExpiryPollMs 1 to {GatewayOptions.PollMsMax}")
            .Validate(o => o.MerchantRetentionDays is > 0 and <= GatewayOptions.MerchantRetentionDaysLimit && o.OffboardingPollMs is > 0 and <= GatewayOptions.PollMsMax,
                $"Gateway: MerchantRetentionDays 1 to {GatewayOptions.MerchantRetentionDaysLimit}, OffboardingPollMs 1 to {GatewayOptions.PollMsMax}")
            .ValidateOnStart();
        builder.Services.AddSingleton<MerchantRegistry>();
        builder.Services.AddSingleton<PlatformKeyVersions>();
        builder.Services.AddSingleton<PlatformCertificates>();
        builder.Services.AddSingleton<PlatformKeyRotation>();
        builder.Services.AddSingleton(new IsoPackager(IsoDialect.UnionPay1987));
        builder.Services.AddSingleton<NetPaySignature>();
        builder.Services.AddSingleton<CanonicalSignature>();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<OrderBook>();
        builder.Services.AddSingleton<GateCodes>();
        builder.Services.AddOptions<RiskOptions>()
            .Bind(builder.Configuration.GetSection(RiskOptions.Section))
            .Validate(o => o.IsValid(),
                $"Risk: VelocityAttemptsMax 0 to {RiskRules.AttemptsMaxLimit}, VelocityAmountMinorMax 0 to {RiskRules.LimitMinorMax}, VelocityWindowMinutes 1 to {RiskRules.WindowMinutesMax}")
            .ValidateOnStart();
        builder.Services.AddSingleton<RiskStore>();
        builder.Services.AddSingleton<OrderAnswers>();
        builder.AddPageTokenProtection();
        builder.Services.AddSingleton<PaymentSessions>();
        builder.Services.AddSingleton<Acquirer>();
        builder.Services.AddSingleton<CardProducts>();
        builder.Services.AddSingleton<PageForms>();
        builder.Services.AddSingleton<CardPayments>();
        builder.Services.AddSingleton<PaymentsInDoubt>();
        builder.Services.AddSingleton<PinTransportKeys>();
        builder.Services.AddSingleton<RefundDesk>();
        builder.Services.AddSingleton<NotificationHistory>();
        builder.Services.AddSingleton<Consoles.ConsoleAccounts>();
        builder.AddConsoleAuthentication();
        builder.Services.AddSingleton<Consoles.ConsoleQueries>();
        builder.Services.AddSingleton<IdempotencyKeys>();
        builder.Services.AddSingleton<MerchantRequests>();
        builder.Services.AddOptions<NotificationOptions>()
            .Bind(builder.Configuration.GetSection(NotificationOptions.Section))
            .Configure(o => o.AllowLoopback |= builder.Environment.IsDevelopment())
            .Validate(o => o.Schedule.All(m => m > 0) && o.TimeoutMs > 0 && o.PollMs is > 0 and <= GatewayOptions.PollMsMax && o.BatchSizeMax is > 0 and <= 1_000,
                $"Notifications: schedule minutes and TimeoutMs are positive; PollMs is 1 to {GatewayOptions.PollMsMax}; BatchSizeMax is 1 to 1000")
            .ValidateOnStart();
        builder.Services.AddSingleton<NotificationMessages>();
        builder.Services.AddSingleton<NotificationSender>();
        builder.Services.AddSingleton<ResultDelivery>();
        builder.Services.AddSingleton<NotificationDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NotificationDispatcher>());
        builder.Services.AddSingleton<SettlementRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SettlementRelay>());
        builder.Services.AddSingleton<UnresolvedPayments>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UnresolvedPayments>());
        builder.Services.AddSingleton<OrderVoiding>();
        builder.Services.AddSingleton<Holds.HoldDesk>();
        builder.Services.AddSingleton<Holds.HoldExpiry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Holds.HoldExpiry>());
        builder.Services.AddSingleton<OrderClosing>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OrderClosing>());
        builder.Services.AddSingleton<MerchantOffboarding>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MerchantOffboarding>());
    }

    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseBrowserStatusCodePages();
        // A request that has started moving money finishes, whether or not its client is still there:
        // the handlers' CancellationToken (RequestAborted) no longer fires when the client goes away.
        // Every database command still has its timeout and every gRPC call its deadline. (A write
        // cancelled mid-read also left a broken connection in Npgsql's pool: under load, other
        // requests then failed with protocol errors.)
        app.Use((context, next) =>
        {
            context.RequestAborted = CancellationToken.None;
            return next(context);
        });
        // The payment page is served over HTTPS only: WebCrypto needs a secure context, and card data needs TLS.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/pay") || context.Request.Path.StartsWithSegments("/console")
                || context.Request.Path.StartsWithSegments("/ops") || context.Request.Path.StartsWithSegments(PageCultures.SwitchPath),
            pages => pages.UseHttpsRedirection());
        app.UseHsts();
        app.UsePageLocalization();
        // No default scheme: only the consoles' endpoints authenticate, each with its own realm's cookie (their policies name it).
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<EnvelopeOpening>();
        return app;
    }

    public static WebApplication MapGatewayApis(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference(options => options.DefaultFonts = false);
        app.MapGroup("/v1").MapDiagnosticsApi().MapPlatformCertificatesApi().MapOrdersApi().MapHoldsApi().MapReconciliationApi();
        app.MapGroup("/admin").MapMerchantsAdminApi().MapNotificationsAdminApi();
        app.MapCultureSwitch();
        app.MapGroup("/pay").MapPaymentPages().MapNetPayRefund().MapNetPayQuery();
        app.MapGroup("/console").MapMerchantConsole().ExcludeFromDescription();
        app.MapGroup("/ops").MapOperatorConsole().ExcludeFromDescription();
        return app;
    }
}
