using System.Diagnostics;

namespace Mesh.Switch.Links;

public static class SwitchTelemetry
{
    public static readonly ActivitySource Source = new("Mesh.Switch");
}
