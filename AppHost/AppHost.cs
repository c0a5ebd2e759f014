using Mesh.AppHost;
using Mesh.AppHost.Postgres;
using Microsoft.Extensions.Configuration;

// The mesh's services trust only the mesh's own certificate authorities: Aspire does not add the
// ASP.NET Core development certificate to their trust or serve with it (scripts/dev-certificate.sh
// trusts it only so that the dashboard finds one).
var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = args, TrustDeveloperCertificate = false });
var data = MeshDataFolder.Resolve(builder);

// PostgreSQL: the machine's binaries as a process (no containers here), or an operator's own
// server when ConnectionStrings:postgres is configured (always so when published). One database per service.
// Mesh:Postgres:Pooler=pgbouncer puts Debian's PgBouncer in front, in transaction mode (docs/operations.md).
var postgres = builder.AddMeshPostgres("postgres", data);
var hsmDb = postgres.AddDatabase("hsmdb");
var switchDb = postgres.AddDatabase("switchdb");
var settlementDb = postgres.AddDatabase("settlementdb");
var gatewayDb = postgres.AddDatabase("gatewaydb");

var hsm = builder.AddProject<Projects.Mesh_Hsm>("hsm")
    .WithReference(hsmDb).WaitFor(hsmDb)
    .WithLocalMasterKey(data)
    .WithHsmOperator(data.HsmOperatorSecretPath)
    .WithHsmCustodians(data.HsmOperatorSecretPath)
    .WithHttpHealthCheck("/health", endpointName: "http");

// The simulated banks: under `dotnet run` always; published only when asked for (Mesh:Publish:IncludeSimulators),
// a deployment's banks being real ones, linked by configuration (docs/operations.md).
var simulators = builder.IncludesSimulators();
// The banks share issuerdb, a schema each, chosen by their connections' search path: session state a
// transaction pooler cannot carry, so they reach PostgreSQL directly.
var banks = simulators ? builder.AddSimulatedBanks(postgres.AddDatabase("issuerdb", pooled: false), hsm) : [];

hsm.WithProvisionedKeys("gateway", "switch", banks);

// Mesh:Replicas (1 unless set): how many processes of the gateway and the switch run. Their work
// queues (outbox, notifications, unresolved payments, reversals) are claimed with row locks, so
// replicas share them; DCP's proxy spreads requests over the replicas.
var replicas = builder.Configuration.GetValue("Mesh:Replicas", 1);
if (replicas is < 1 or > 4)
{
    throw new InvalidOperationException($"Mesh:Replicas is 1 to 4, not {replicas}");
}
var cardSwitch = builder.AddProject<Projects.Mesh_Switch>("switch")
    .WithReference(switchDb).WaitFor(switchDb)
    .WithHsmCaller(hsm, role: "switch")
    .WithIssuerLinks(data, banks)
    .WithAcquirer(0, acquirerId: "08010000", keyPrefix: "gateway")
    .WithReplicas(replicas)
    .WithHttpHealthCheck("/health", endpointName: "http");

var settlement = builder.AddProject<Projects.Mesh_Settlement>("settlement")
    .WithReference(settlementDb).WaitFor(settlementDb)
    // Three-way reconciliation asks the switch and every bank for their side of a day; the switch's
    // authorizations are also its interbank clearing. Each server knows settlement by its own secret.
    // A caller is given only the endpoints it calls (gRPC here, a bank's http): the deployment's
    // network policies allow exactly these (deploy/k8s).
    .WithReference(cardSwitch.GetEndpoint("grpc"))
    .WithMeshCaller(cardSwitch, role: "settlement")
    .WithReconciledIssuers(banks)
    .WithSettlementCommands()
    .WithHttpHealthCheck("/health", endpointName: "http");

var gatewayAdminKey = builder.AddMeshSecret("gateway-admin-key",
    () => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
var gateway = builder.AddProject<Projects.Mesh_Gateway>("gateway")
    .WithReference(gatewayDb).WaitFor(gatewayDb)
    .WithEnvironment("Gateway__AdminKey", gatewayAdminKey)
    .WithHsmCaller(hsm, role: "gateway")
    // The operator console's lever on the platform's own key pairs (rotation), a credential of its own.
    .WithHsmCaller(hsm, role: "platform-keys", identity: "keys")
    .WithReference(cardSwitch.GetEndpoint("grpc")).WaitFor(cardSwitch)
    .WithReference(settlement.GetEndpoint("grpc")).WaitFor(settlement)
    // The payment path is an acquirer at the switch; merchants' records and reads are the gateway's at
    // settlement. The operator console's levers hold a second credential, the operator's, at each.
    .WithMeshCaller(cardSwitch, role: "acquirer")
    .WithMeshCaller(settlement, role: "gateway")
    .WithMeshCaller(cardSwitch, role: "operator", identity: "operator")
    .WithMeshCaller(settlement, role: "operator", identity: "operator")
    .WithGatewayTls(data)
    .WithExternalHttpEndpoints()
    .WithGatewayLinks()
    .WithNotificationCommands(gatewayAdminKey)
    .WithReplicas(replicas)
    .WithHttpHealthCheck("/health", endpointName: "http");
gateway.WithPaymentPageBaseUrl();

// A merchant's store built on the SDK alone: catalogue, cart, checkout to the payment page, its orders.
if (simulators)
{
    builder.AddDemoShop(gateway, postgres.AddDatabase("shopdb"), gatewayAdminKey, data);
}

// Every service runs in the AppHost's environment (Development under `dotnet run`; published, Production
// unless the simulators are in): the development-only parts (the banks' fault knobs, the created LMK)
// follow it. Published, only the gateway keeps an https endpoint: it alone serves TLS. Services listen on
// their own ports: a payment crosses five hops, and DCP's forwarding proxy in front of each one
// cost more CPU than the switch itself. Replicated services keep the proxy: it is what spreads
// requests over their replicas.
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
#pragma warning disable ASPIREPROXYENDPOINTS001 // proxy-less endpoints are marked for evaluation
    var service = builder.CreateResourceBuilder(project);
    if (builder.IsPublishing() && project != gateway.Resource)
    {
        service.WithoutHttpsEndpoint();
    }
    service
        .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.ServicesEnvironmentName())
        // Six processes share the machine's cores: server GC gives each process a heap and a spinning
        // GC thread per core. Workstation GC and no thread-pool spinning (set by the build, for every
        // executable) took authorizations from 1,830/s to 2,045/s (tests/Mesh.Switch.Benchmarks).
        .WithEnvironment("DOTNET_gcServer", "0")
        // Metrics go to the dashboard every 5 s, not every second (Aspire's default for development):
        // on an idle platform the exports were a quarter of each service's CPU, and 23 ms a second of
        // the dashboard's. Spans and logs still leave within a second.
        .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "5000")
        .WithEndpointProxySupport(project.GetReplicaCount() > 1);
    // Behind a pooler in transaction mode a service prepares nothing by name (ServiceDefaults' MeshDatabase).
    if (project.Annotations.OfType<ResourceRelationshipAnnotation>().Any(r => r.Resource is MeshDatabaseResource { ThroughPooler: true }))
    {
        service.WithEnvironment("Mesh__Database__TransactionPooling", "true");
    }
#pragma warning restore ASPIREPROXYENDPOINTS001
}

builder.Build().Run();
