using System.Net;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Pages;
using Mesh.Gateway.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Mesh.Gateway.Tests;

/// <summary>
/// A browser whose request no page answered (the database out of reach, an address that is no page) gets a page in its
/// language with the right status; a program gets the problem details it always got.
/// </summary>
public sealed class BrowserErrorPagesTests : IAsyncLifetime
{
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DependencyUnavailableHandler>();
        builder.Services.AddPageLocalization();
        builder.Services.AddRazorComponents();
        _app = builder.Build();
        _app.UseExceptionHandler();
        _app.UseBrowserStatusCodePages();
        _app.UsePageLocalization();
        _app.MapGet("/pay/outage", string () => throw new NpgsqlException("Failed to connect to 127.0.0.1:5432"));
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/pay/outage", "zh-CN", HttpStatusCode.ServiceUnavailable, "平台暂时无法访问")]
    [InlineData("/pay/outage", "en-US", HttpStatusCode.ServiceUnavailable, "The platform is briefly unavailable")]
    [InlineData("/pay/no-such-page", "zh-CN", HttpStatusCode.NotFound, "页面不存在")]
    [InlineData("/console/no-such-page", "en-US", HttpStatusCode.NotFound, "No such page")]
    public async Task ABrowser_GetsAPage_InItsLanguage(string path, string language, HttpStatusCode status, string heading)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        request.Headers.AcceptLanguage.ParseAdd(language);

        using var answer = await _app!.GetTestClient().SendAsync(request);
        var html = await answer.Content.ReadAsStringAsync();

        Assert.Equal(status, answer.StatusCode);
        Assert.Equal("text/html", answer.Content.Headers.ContentType?.MediaType);
        Assert.Contains($">{heading}</h1>", html, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", answer.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/pay/outage", HttpStatusCode.ServiceUnavailable)]
    [InlineData("/v1/no-such-route", HttpStatusCode.NotFound)]
    public async Task AProgram_GetsProblemDetails(string path, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.AcceptLanguage.ParseAdd("zh-CN");

        using var answer = await _app!.GetTestClient().SendAsync(request);

        Assert.Equal(status, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
    }
}
