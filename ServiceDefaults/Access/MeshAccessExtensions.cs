using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Mesh.ServiceDefaults.Access;

public static class MeshAccessExtensions
{
    /// <summary>
    /// This service checks who calls: its callers from <c>Mesh:Callers</c> (checked at start), and,
    /// with a <paramref name="policy"/>, every gRPC method authorized by role (deny by default). The
    /// <c>/admin</c> routes add <see cref="MeshCallerEndpoints.RequireMeshCaller"/>.
    /// </summary>
    public static TBuilder AddMeshCallerAccess<TBuilder>(this TBuilder builder, MeshAccessPolicy? policy = null) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<MeshAccessOptions>()
            .Bind(builder.Configuration.GetSection(MeshAccessOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MeshAccessOptions>, MeshAccessOptionsValidator>();
        builder.Services.AddSingleton<MeshAccessMetrics>();
        builder.Services.AddSingleton<MeshCallerAuthenticator>();
        if (policy is not null)
        {
            builder.Services.AddSingleton(policy);
            builder.Services.AddSingleton<MeshAccessInterceptor>();
            builder.Services.Configure<GrpcServiceOptions>(options => options.Interceptors.Add<MeshAccessInterceptor>());
        }
        return builder;
    }

    private sealed class MeshAccessOptionsValidator : IValidateOptions<MeshAccessOptions>
    {
        public ValidateOptionsResult Validate(string? name, MeshAccessOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
