using Mesh.Gateway.Localization;
using Mesh.Gateway.Pages;
using Microsoft.AspNetCore.Components;

namespace Mesh.Gateway.Consoles;

/// <summary>An operator console page: one of <see cref="Components.Operator"/>'s components, rendered whole by <see cref="SecurePage"/>.</summary>
public static class OperatorPage
{
    /// <summary><typeparamref name="TComponent"/> with <paramref name="parameters"/> (each a parameter's name and value), answered with <paramref name="statusCode"/>.</summary>
    public static IResult Of<TComponent>(int statusCode, params (string Name, object? Value)[] parameters) where TComponent : IComponent =>
        SecurePage.Of<TComponent>(parameters.ToDictionary(p => p.Name, p => p.Value), statusCode);

    /// <summary>A problem list as one message: each problem worded on its own, joined the language's way.</summary>
    public static Words Problems(IEnumerable<string> problems) => Words.List(problems.Select(p => new Words(p)));
}
