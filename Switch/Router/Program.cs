using Mesh.ServiceDefaults.Database;
using Mesh.Switch;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
await app.LoadRoutesAsync();
app.MapDefaultEndpoints();
app.MapGrpcServerDefaults();
app.MapSwitchServices();
await app.RunAsync();
