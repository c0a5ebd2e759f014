using Mesh.ServiceDefaults.Database;
using Mesh.Settlement;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
app.MapDefaultEndpoints();
app.MapGrpcServerDefaults();
app.MapSettlementServices();
await app.RunAsync();
