using Mesh.Gateway;
using Mesh.Gateway.Payments;
using Mesh.ServiceDefaults.Database;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
await app.EnsurePageTokenKeyAsync();
app.UseGatewayPipeline();
app.MapDefaultEndpoints();
app.MapGatewayApis();
await app.RunAsync();
