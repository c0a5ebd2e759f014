using System.Diagnostics;

namespace Mesh.Hsm.Grpc;

/// <summary>The Hsm's own spans: one per command run on a session stream.</summary>
public static class HsmTelemetry
{
    public static readonly ActivitySource Source = new("Mesh.Hsm");
}
