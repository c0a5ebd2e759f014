using System.Net;
using System.Net.Sockets;

namespace Mesh.Gateway.Notifications;

/// <summary>
/// Where notifications may go: http or https only, and never to a private, link-local, loopback
/// or cloud-metadata address unless the merchant's allow-list names its network (loopback is
/// allowed in development). The check is made on the address actually connected to, after DNS,
/// so a name that resolves somewhere private is refused too.
/// </summary>
public static class OutboundAddressPolicy
{
    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("224.0.0.0/3"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    public static bool IsAllowedUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.UserInfo.Length == 0;

    public static bool IsAllowedAddress(IPAddress address, IReadOnlyList<IPNetwork> allowList, bool allowLoopback)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (allowList.Any(n => n.Contains(address)) || (allowLoopback && IPAddress.IsLoopback(address)))
        {
            return true;
        }
        return !Refused.Any(n => n.Contains(address));
    }

    /// <summary>Resolves the host and connects to its first allowed address; refuses when none is allowed.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, IReadOnlyList<IPNetwork> allowList, bool allowLoopback, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endPoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endPoint.Host, ct);
        var allowed = addresses.Where(a => IsAllowedAddress(a, allowList, allowLoopback)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{endPoint.Host} resolves only to addresses notifications may not reach (private, link-local, loopback or metadata)");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
