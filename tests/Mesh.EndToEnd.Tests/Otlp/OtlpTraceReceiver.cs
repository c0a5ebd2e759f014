using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.Otlp;

/// <summary>
/// A span as exported: its service, trace, id, name, instrumentation scope, the process that made
/// it (service.instance.id, a replica's own id), its attributes' values as text (what a tracing
/// backend would store), and its parent's id (empty for a trace's root).
/// </summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string Name, string Scope, string Instance = "", string Attributes = "",
    string ParentSpanId = "");

/// <summary>
/// An OTLP/HTTP (protobuf) receiver inside the test process: the services export their spans
/// here instead of to the dashboard, so a test can check what they really emitted.
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private const int SpansMax = 200_000;
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    private OtlpTraceReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public static async Task<OtlpTraceReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.MapPost("/v1/traces", receiver.ReceiveTracesAsync);
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Endpoint = address;
        return receiver;
    }

    private async Task<IResult> ReceiveTracesAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var export = ExportTraceServiceRequest.Parser.ParseFrom(body.ToArray());
        foreach (var resourceSpans in export.ResourceSpans)
        {
            var service = resourceSpans.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "?";
            var instance = resourceSpans.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.instance.id")?.Value?.StringValue ?? "";
            foreach (var scope in resourceSpans.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    if (_spans.Count < SpansMax)
                    {
                        _spans.Enqueue(new ReceivedSpan(service, Convert.ToHexStringLower(span.TraceId.Span),
                            Convert.ToHexStringLower(span.SpanId.Span), span.Name, scope.Scope?.Name ?? "", instance,
                            string.Join('\n', span.Attributes.Concat(span.Events.SelectMany(e => e.Attributes)).Select(a => $"{a.Key}={a.Value?.StringValue}")),
                            Convert.ToHexStringLower(span.ParentSpanId.Span)));
                    }
                }
            }
        }
        return Results.Bytes([], "application/x-protobuf");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
