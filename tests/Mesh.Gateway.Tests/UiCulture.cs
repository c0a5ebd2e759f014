using System.Globalization;

namespace Mesh.Gateway.Tests;

/// <summary>The UI culture of the test's thread for a while, as the request localization middleware sets it for a request.</summary>
internal sealed class UiCulture : IDisposable
{
    private readonly CultureInfo _before = CultureInfo.CurrentUICulture;

    public UiCulture(string name) => CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(name);

    public void Dispose() => CultureInfo.CurrentUICulture = _before;
}
