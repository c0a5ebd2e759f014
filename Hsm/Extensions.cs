using Mesh.Hsm.Access;
using Mesh.Hsm.Commands;
using Mesh.Hsm.Grpc;
using Mesh.Hsm.Keys;
using Mesh.Hsm.Options;
using Mesh.ServiceDefaults.Database;
using Microsoft.Extensions.Options;

namespace Mesh.Hsm;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddMeshDatabase("hsmdb");
        builder.Services.AddOptions<HsmOptions>()
            .Bind(builder.Configuration.GetSection(HsmOptions.Section))
            .Validate(o => o.LmkHex is not null || o.LmkPath is not null, "Set Hsm:LmkHex or Hsm:LmkPath: the Hsm needs a local master key")
            .Validate(o => o.Callers.Values.All(c => CallerPolicy.IsKnownRole(c.Role) && c.Secret.Length >= 32),
                "Every Hsm:Callers entry has known roles and a Secret of at least 32 characters")
            .Validate(o => builder.Environment.IsDevelopment() || !o.Callers.Values.Any(c => CallerPolicy.Has(c.Role, CallerPolicy.CardIssuing)),
                $"The {CallerPolicy.CardIssuing} role (clear PINs in, for test cards) exists only in Development")
            .Validate(o => o.Provision.All(k => k.Owners.Count > 0), "Every provisioned key names its owners (Hsm:Provision:N:Owners)")
            .Validate(o => o.Ceremonies.ExpiryMinutes is >= 1 and <= CeremonyOptions.ExpiryMinutesMax,
                $"Hsm:Ceremonies:ExpiryMinutes is 1 to {CeremonyOptions.ExpiryMinutesMax}: how long a key ceremony waits for its components")
            .ValidateOnStart();
        builder.Services.AddSingleton<HsmMetrics>();
        builder.Services.AddSingleton<LocalMasterKey>();
        builder.Services.AddSingleton<IKeyStore, KeyStore>();
        builder.Services.AddSingleton<KeyManagement>();
        builder.Services.AddSingleton<PinAndMac>();
        builder.Services.AddSingleton<BrowserPins>();
        builder.Services.AddSingleton<PinVerification>();
        builder.Services.AddSingleton<Cards>();
        builder.Services.AddSingleton<DataProtection>();
        builder.Services.AddSingleton<Signatures>();
        builder.Services.AddSingleton<LmkRotation>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<KeyAccess>();
        builder.Services.AddSingleton<Ceremonies.CeremonyStore>();
        builder.Services.AddSingleton<Ceremonies.KeyCeremonies>();
        builder.Services.AddHostedService<Ceremonies.CeremonySweep>();
        builder.Services.AddSingleton<PinFailureWatch>();
        builder.Services.AddGrpc(options =>
        {
            options.Interceptors.Add<CallerAuthorizationInterceptor>();
            options.Interceptors.Add<HsmErrorInterceptor>();
        });
    }

    /// <summary>Generates the configured working keys that do not exist yet, and seals each with its stated owners and uses.</summary>
    public static async Task ProvisionKeysAsync(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<KeyManagement>();
        var options = app.Services.GetRequiredService<IOptions<HsmOptions>>().Value;
        foreach (var key in options.Provision)
        {
            var policy = key.Policy();
            HeldKey held;
            try
            {
                held = await keys.GenerateAsync(key.KeyId, key.Type, key.Algorithm, CancellationToken.None, policy);
            }
            catch (Crypto.HsmException ex) when (ex.Code == Crypto.HsmErrorCode.KeyExists)
            {
                // Made before the ceremony changed its algorithm (a bank's ZMK was 3DES before TR-31): kept, not replaced.
                // A key of another type under a provisioned id (taken by an import, say) stops the Hsm instead.
                held = await keys.GetAsync(key.KeyId, CancellationToken.None);
                if (held.Type != key.Type)
                {
                    throw new InvalidOperationException($"Key {key.KeyId} is a {held.Type}, the ceremony says a {key.Type}: the Hsm does not start", ex);
                }
                app.Logger.LogWarning("Key {KeyId} is a {Algorithm}, the ceremony now says {Wanted}: kept as it is", key.KeyId, held.Algorithm, key.Algorithm);
            }
            held = await keys.EnsurePolicyAsync(held, policy, CancellationToken.None);
            app.Logger.LogInformation("Key {KeyId} ready: {KeyType}, check value {CheckValue}, owners {Owners}", held.KeyId, held.Type, held.CheckValue, held.Policy);
        }
    }

    public static WebApplication MapHsmServices(this WebApplication app)
    {
        // Load the LMK at start, not on the first command: a missing or broken key stops the Hsm now.
        _ = app.Services.GetRequiredService<LocalMasterKey>();
        app.MapGrpcService<HsmService>();
        return app;
    }
}
