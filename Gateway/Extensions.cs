using Mesh.Contracts.Hsm;
using Mesh.Contracts.Settlement;
using Mesh.Contracts.Switch;
using Mesh.Gateway.Apis;
using Mesh.Gateway.Diagnostics;
using Mesh.Gateway.Merchants;
using Mesh.Gateway.Options;
using Mesh.Gateway.Platform;
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
        builder.AddNpgsqlDataSource("gatewaydb");
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddGrpcClient<Hsm.HsmClient>(o => o.Address = HsmAddress).WithHsmCallerCredentials(builder.Configuration);
        builder.Services.AddGrpcClient<CardSwitch.CardSwitchClient>(o => o.Address = SwitchAddress).AsMeshGrpcClient();
        builder.Services.AddGrpcClient<Settlement.SettlementClient>(o => o.Address = SettlementAddress).AsMeshGrpcClient();
        builder.Services.AddSingleton<DiagnosticsProbe>();
        builder.Services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .Validate(o => o.AdminKey.Length >= GatewayOptions.AdminKeyCharsMin, $"Gateway:AdminKey has at least {GatewayOptions.AdminKeyCharsMin} characters")
            .ValidateOnStart();
        builder.Services.AddSingleton<MerchantRegistry>();
        builder.Services.AddSingleton<PlatformCertificate>();
    }

    public static WebApplication UseGatewayPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static WebApplication MapGatewayApis(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference(options => options.DefaultFonts = false);
        app.MapGroup("/v1").MapDiagnosticsApi().MapPlatformCertificateApi();
        app.MapGroup("/admin").MapMerchantsAdminApi();
        return app;
    }
}
