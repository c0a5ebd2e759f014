using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Mesh.ServiceDefaults.Access;

/// <summary>
/// <c>mesh.access.refusals</c>: calls a service refused, by service, caller, method and reason
/// (<see cref="Unauthenticated"/>, <see cref="NotAllowed"/>, <see cref="NotSecure"/>). A caller
/// this service does not know is counted as <c>unknown</c>, so the tags stay bounded.
/// </summary>
public sealed class MeshAccessMetrics
{
    public const string MeterName = "Mesh.Access";
    public const string Unauthenticated = "unauthenticated";
    public const string NotAllowed = "not_allowed";
    public const string NotSecure = "not_secure";

    private readonly Counter<long> _refusals;
    private readonly string _service;

    public MeshAccessMetrics(IMeterFactory meters, IHostEnvironment environment)
    {
        _service = environment.ApplicationName;
        _refusals = meters.Create(MeterName).CreateCounter<long>("mesh.access.refusals", unit: "{call}",
            description: "Calls refused: no credential or a wrong one, a role the method does not allow, /admin over plain HTTP from another host");
    }

    public void Refused(string caller, string method, string reason) =>
        _refusals.Add(1, new("service", _service), new("caller", caller), new("method", method), new("reason", reason));
}
