using Grpc.Core;
using Mesh.Contracts.Switch;
using Mesh.Settlement.Clearing;

namespace Mesh.Settlement.Tests;

public sealed class SwitchAuthorizationsTests
{
    /// <summary>A switch that lists what it holds as the real one does: [from, to), the earliest first, at most the limit, flagged when cut short.</summary>
    private sealed class FakeSwitch(long[] receivedAtMs) : CardSwitch.CardSwitchClient
    {
        public override AsyncUnaryCall<ListAuthorizationsReply> ListAuthorizationsAsync(ListAuthorizationsRequest request, CallOptions options)
        {
            var inWindow = receivedAtMs.Select((ms, i) => (ms, i)).Where(r => r.ms >= request.FromUnixMs && r.ms < request.ToUnixMs).ToList();
            var reply = new ListAuthorizationsReply { Truncated = inWindow.Count > request.Limit };
            reply.Records.AddRange(inWindow.Take(request.Limit).Select(r => new SwitchRecord { Stan = $"{r.i:D6}", ReceivedAtUnixMs = r.ms }));
            return new AsyncUnaryCall<ListAuthorizationsReply>(Task.FromResult(reply), Task.FromResult(new Metadata()), () => Status.DefaultSuccess,
                () => [], () => { });
        }
    }

    [Fact]
    public async Task PagesCutShortInsideAMillisecond_ReadEveryRecordOnce()
    {
        long[] held = [1_000, 1_001, 1_001, 1_001, 1_002, 1_003, 1_003, 1_004];
        var cardSwitch = new FakeSwitch(held);

        var pages = new List<List<SwitchRecord>>();
        for (DateTimeOffset? from = DateTimeOffset.FromUnixTimeMilliseconds(1_000); from is { } start;)
        {
            var (records, next) = await SwitchAuthorizations.PageAsync(cardSwitch, start, DateTimeOffset.FromUnixTimeMilliseconds(2_000), 4, CancellationToken.None);
            pages.Add(records);
            from = next;
        }
        var all = await SwitchAuthorizations.AllAsync(new FakeSwitch(held), DateTimeOffset.FromUnixTimeMilliseconds(1_000),
            DateTimeOffset.FromUnixTimeMilliseconds(2_000), CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, held.Length).Select(i => $"{i:D6}"), pages.SelectMany(p => p).Select(r => r.Stan));
        Assert.All(pages, p => Assert.True(p.Count <= 4));
        Assert.Equal(Enumerable.Range(0, held.Length).Select(i => $"{i:D6}"), all.Select(r => r.Stan));
    }
}
