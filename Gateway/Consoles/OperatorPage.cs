using Mesh.Gateway.Pages;
using Microsoft.AspNetCore.Components;

namespace Mesh.Gateway.Consoles;

/// <summary>An operator console page: one of <see cref="Components.Operator"/>'s components, rendered whole by <see cref="SecurePage"/>.</summary>
public static class OperatorPage
{
    /// <summary><typeparamref name="TComponent"/> with <paramref name="parameters"/> (each a parameter's name and value), answered with <paramref name="statusCode"/>.</summary>
    public static IResult Of<TComponent>(int statusCode, params (string Name, object? Value)[] parameters) where TComponent : IComponent =>
        SecurePage.Of<TComponent>(parameters.ToDictionary(p => p.Name, p => p.Value), statusCode);
}
