using Mesh.Hsm;
using Mesh.ServiceDefaults.Database;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGrpcServerDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
await app.ProvisionKeysAsync();
app.MapDefaultEndpoints();
app.MapGrpcServerDefaults();
app.MapHsmServices();
await app.RunAsync();
