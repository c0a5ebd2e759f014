using System.Diagnostics;

namespace Mesh.IssuerSim.Processing;

public static class IssuerTelemetry
{
    public static readonly ActivitySource Source = new("Mesh.Issuer");
}
