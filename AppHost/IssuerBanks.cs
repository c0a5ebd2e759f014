using Mesh.AppHost.Postgres;

namespace Mesh.AppHost;

/// <summary>
/// Marks a project resource as a simulated issuing bank: its institution id, its card ranges, the
/// prefix of its own keys in the Hsm, and whether the switch routes its cards from the start.
/// </summary>
public sealed record IssuerBankAnnotation(string BankId, string[] Bins, string[] CreditBins, string KeyPrefix, bool Onboarded) : IResourceAnnotation;

/// <summary>Simulated issuing banks: processes of one project under Switch/, each its own bank.</summary>
public static class IssuerBanks
{
    private const string Iso8583Endpoint = "iso8583";

    /// <summary>Published, each bank is its own pod: every bank listens on the same ports (dynamic ones under <c>dotnet run</c>).</summary>
    public const int PublishedHttpPort = 8080;
    public const int PublishedIso8583Port = 8583;

    /// <summary>
    /// The three simulated banks, which share <paramref name="issuerDb"/> (a schema each) and call the Hsm:
    /// two onboarded, and one (<c>issuer-boc</c>) that has joined the network but is not yet in service,
    /// for the operator console to onboard.
    /// </summary>
    public static IResourceBuilder<ProjectResource>[] AddSimulatedBanks(this IDistributedApplicationBuilder builder,
        IResourceBuilder<MeshDatabaseResource> issuerDb, IResourceBuilder<ProjectResource> hsm) =>
    [
        builder.AddIssuerBank("issuer-icbc", bankId: "01020000", bankName: "Industrial and Commercial Bank of China", bins: ["622202", "622208"], creditBins: ["622208"])
            .WithReference(issuerDb).WaitFor(issuerDb)
            .WithHsmCaller(hsm, role: "issuer"),
        builder.AddIssuerBank("issuer-ccb", bankId: "01050000", bankName: "China Construction Bank", bins: ["621700", "436742"], creditBins: ["436742"])
            .WithReference(issuerDb).WaitFor(issuerDb)
            .WithHsmCaller(hsm, role: "issuer"),
        builder.AddIssuerBank("issuer-boc", bankId: "01040000", bankName: "Bank of China", bins: ["621661", "456351"], creditBins: ["456351"], onboarded: false)
            .WithReference(issuerDb).WaitFor(issuerDb)
            .WithHsmCaller(hsm, role: "issuer"),
    ];

    /// <summary>
    /// A bank at the end of a switch link. An onboarded bank shares its zone keys with the switch
    /// from the start (one Hsm, the same key ids). One that is not (<paramref name="onboarded"/>
    /// false) holds its own zone keys (<c>{name}.bank.zpk</c>, <c>.zak</c>) and shares only a ZMK
    /// with the platform; the switch routes none of its cards until an operator onboards it with
    /// the keys exported under that ZMK (the operator console's Banks page).
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddIssuerBank(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string bankId, string bankName, string[] bins, string[] creditBins, bool onboarded = true)
    {
        var keyPrefix = onboarded ? name : $"{name}.bank";
        var publishing = builder.IsPublishing();
        var bank = builder.AddProject<Projects.Mesh_IssuerSim>(name)
            .WithAnnotation(new IssuerBankAnnotation(bankId, bins, creditBins, keyPrefix, onboarded))
            .WithHttpEndpoint(name: "http", targetPort: publishing ? PublishedHttpPort : null)
            .WithEndpoint(name: Iso8583Endpoint, scheme: "tcp", env: "Iso8583__Port", targetPort: publishing ? PublishedIso8583Port : null)
            .WithEnvironment("Bank__Id", bankId)
            .WithEnvironment("Bank__Name", bankName)
            .WithEnvironment("Bank__KeyPrefix", keyPrefix)
            .WithEnvironment("Bank__ZmkId", ZmkIdOf(name))
            .WithHttpHealthCheck("/health", endpointName: "http");
        for (var i = 0; i < bins.Length; i++)
        {
            bank.WithEnvironment($"Bank__Bins__{i}", bins[i]);
        }
        for (var i = 0; i < creditBins.Length; i++)
        {
            bank.WithEnvironment($"Bank__CreditBins__{i}", creditBins[i]);
        }
        return bank.WithZoneKeyExportCommand().WithFaultCommands();
    }

    /// <summary>The ZMK a bank and the platform share, formed at their key ceremony; the switch's link of the same name uses it.</summary>
    public static string ZmkIdOf(string bankName) => $"{bankName}.zmk";

    /// <summary>
    /// Settlement reconciles with each bank's postings (<c>/admin/postings</c> on its http endpoint),
    /// with its own credential at each bank (role <c>settlement</c>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReconciledIssuers(this IResourceBuilder<ProjectResource> settlement,
        params IResourceBuilder<ProjectResource>[] banks)
    {
        for (var i = 0; i < banks.Length; i++)
        {
            settlement.WithReference(banks[i].GetEndpoint("http")).WithEnvironment($"Settlement__Issuers__{i}", banks[i].Resource.Name)
                .WithMeshCaller(banks[i], role: "settlement");
        }
        return settlement;
    }

    /// <summary>
    /// Tells the switch where each bank's ISO 8583 listener is, and the BINs of the onboarded ones;
    /// gives both ends of each link their TLS certificates (the bank's listener serves the switch
    /// alone); waits for the banks; gives each bank the dashboard commands that sign its link off and on and change its zone keys.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithIssuerLinks(this IResourceBuilder<ProjectResource> cardSwitch, MeshDataFolder data,
        params IResourceBuilder<ProjectResource>[] issuers)
    {
        cardSwitch.WithIsoClientCertificate(data);
        for (var i = 0; i < issuers.Length; i++)
        {
            var issuer = issuers[i];
            var bank = issuer.Resource.Annotations.OfType<IssuerBankAnnotation>().Single();
            cardSwitch
                .WithEnvironment($"Switch__Issuers__{i}__Name", issuer.Resource.Name)
                .WithEnvironment($"Switch__Issuers__{i}__BankId", bank.BankId)
                .WithEnvironment($"Switch__Issuers__{i}__Endpoint", issuer.GetEndpoint(Iso8583Endpoint))
                .WaitFor(issuer);
            issuer.WithIsoListenerCertificate(data, peer: cardSwitch.Resource.Name).WithLinkCommands(cardSwitch);
            for (var b = 0; bank.Onboarded && b < bank.Bins.Length; b++)
            {
                cardSwitch.WithEnvironment($"Switch__Issuers__{i}__Bins__{b}", bank.Bins[b]);
            }
            // A BIN's product is the bank's to say, routed or not yet: the payment page asks for a CVV2 on credit BINs.
            for (var c = 0; c < bank.CreditBins.Length; c++)
            {
                cardSwitch.WithEnvironment($"Switch__Issuers__{i}__CreditBins__{c}", bank.CreditBins[c]);
            }
        }
        return cardSwitch;
    }

    /// <summary>An acquirer the switch takes requests from: its institution id (field 32) and its keys' prefix in the Hsm.</summary>
    public static IResourceBuilder<ProjectResource> WithAcquirer(this IResourceBuilder<ProjectResource> cardSwitch, int index, string acquirerId, string keyPrefix) =>
        cardSwitch.WithEnvironment($"Switch__Acquirers__{index}__Id", acquirerId)
                  .WithEnvironment($"Switch__Acquirers__{index}__KeyPrefix", keyPrefix);
}
