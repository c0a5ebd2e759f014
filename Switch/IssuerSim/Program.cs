using Mesh.IssuerSim;
using Mesh.ServiceDefaults.Database;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
await app.RegisterBankAsync();
app.MapDefaultEndpoints();
await app.RunAsync();
