using Mesh.IssuerSim;
using Mesh.IssuerSim.KeyExchange;
using Mesh.IssuerSim.Options;
using Mesh.IssuerSim.Reconciliation;
using Mesh.ServiceDefaults.Database;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly, schema: BankOptions.SchemaFor(app.Configuration["Bank:Id"]));
await app.RegisterBankAsync();
await app.IssueTestCardsAsync();
app.MapDefaultEndpoints();
app.MapFaultKnobs();
app.MapPostingsApi();
app.MapZoneKeys();
await app.RunAsync();
