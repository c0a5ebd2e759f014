using Mesh.Settlement.Grpc;

namespace Mesh.Settlement;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("settlementdb");
    }

    public static WebApplication MapSettlementServices(this WebApplication app)
    {
        app.MapGrpcService<SettlementService>();
        return app;
    }
}
