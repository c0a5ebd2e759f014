using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Iso8583.Channel;

/// <summary>
/// Mutual TLS 1.3 on an ISO 8583 link. Each end holds a certificate issued by the link's trust
/// anchor (the scheme's CA) and accepts a peer only when the peer's certificate chains to that
/// anchor, is valid now, is meant for the peer's role (server or client authentication) and names
/// the peer it expects (a DNS name in its subject alternative names): a bank's listener takes
/// only the switch, the switch talks only to the bank it dialled. The link is encrypted too, so
/// card numbers and PIN blocks never cross the network in clear.
/// </summary>
public sealed class IsoLinkTls
{
    /// <summary>How long a peer has to finish the handshake before its connection is dropped.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2 _trustAnchor;
    private readonly TimeProvider _time;

    public IsoLinkTls(X509Certificate2 certificate, X509Certificate2 trustAnchor, TimeProvider time)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("An ISO link's own certificate needs its private key", nameof(certificate));
        }
        _certificate = certificate;
        _trustAnchor = trustAnchor;
        _time = time;
    }

    /// <summary>The link's certificate and key (PEM files) and the trust anchor's certificate (PEM).</summary>
    public static IsoLinkTls Load(string certificatePath, string keyPath, string trustAnchorPath, TimeProvider time)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // A key loaded from PEM is ephemeral, which SslStream cannot use on every platform: round-trip through PKCS#12.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        return new IsoLinkTls(certificate, X509CertificateLoader.LoadCertificateFromFile(trustAnchorPath), time);
    }

    /// <summary>The server's side: a client certificate is required and must name <paramref name="expectedClient"/>.</summary>
    /// <exception cref="AuthenticationException">The peer is not the expected client, or spoke no TLS.</exception>
    public async Task<SslStream> AcceptAsync(Stream transport, string expectedClient, CancellationToken ct)
    {
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(HandshakeTimeout);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, peer, _, _) => IsTrusted(peer, expectedClient, ClientAuthentication),
            }, timeout.Token);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>The client's side: the server's certificate must name <paramref name="expectedServer"/>; ours goes with the handshake.</summary>
    /// <exception cref="AuthenticationException">The peer is not the expected server, or refused our certificate.</exception>
    public async Task<SslStream> ConnectAsync(Stream transport, string expectedServer, CancellationToken ct)
    {
        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(HandshakeTimeout);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = expectedServer,
                ClientCertificates = [_certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => _certificate,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, peer, _, _) => IsTrusted(peer, expectedServer, ServerAuthentication),
            }, timeout.Token);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// True when <paramref name="peer"/> chains to the trust anchor alone (not the machine's
    /// store), is valid now, allows <paramref name="purpose"/>, and names <paramref name="expectedName"/>.
    /// </summary>
    private bool IsTrusted(X509Certificate? peer, string expectedName, Oid purpose)
    {
        if (peer is null)
        {
            return false;
        }
        using var certificate = X509CertificateLoader.LoadCertificate(peer.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_trustAnchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(purpose);
        return chain.Build(certificate) && certificate.MatchesHostname(expectedName, allowWildcards: false, allowCommonName: false);
    }
}

/// <summary>Where an ISO link's TLS material is: this end's certificate and key, and the trust anchor (PEM files).</summary>
public sealed class IsoLinkTlsOptions
{
    public string CertificatePath { get; set; } = "";

    public string KeyPath { get; set; } = "";

    public string TrustAnchorPath { get; set; } = "";

    /// <summary>True when every file is named and exists (checked at start).</summary>
    public bool IsComplete => File.Exists(CertificatePath) && File.Exists(KeyPath) && File.Exists(TrustAnchorPath);

    public IsoLinkTls Load(TimeProvider time) => IsoLinkTls.Load(CertificatePath, KeyPath, TrustAnchorPath, time);
}
