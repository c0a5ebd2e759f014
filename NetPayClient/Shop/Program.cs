using Mesh.ServiceDefaults.Database;
using Mesh.Shop;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddShopServices();

var app = builder.Build();
await app.MigrateDatabaseAsync(typeof(Program).Assembly);
app.MapDefaultEndpoints();
app.MapShop();
await app.RunAsync();
