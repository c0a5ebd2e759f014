using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Localization;

/// <summary>
/// A console's words: its own resources (<typeparamref name="TConsole"/>), then the words both consoles share
/// (<see cref="ConsoleText"/>: the rules' refusals, roles, the separator of a problem list), then the English text itself.
/// Registered for each console in place of the plain localizer, so a page says a shared rule's refusal as it says its own.
/// </summary>
public sealed class ConsoleLocalizer<TConsole>(IStringLocalizerFactory factory) : IStringLocalizer<TConsole>
{
    private readonly IStringLocalizer _own = factory.Create(typeof(TConsole));
    private readonly IStringLocalizer _shared = factory.Create(typeof(ConsoleText));

    public LocalizedString this[string name] => First(_own[name], () => _shared[name]);

    public LocalizedString this[string name, params object[] arguments] => First(_own[name, arguments], () => _shared[name, arguments]);

    public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) =>
        _own.GetAllStrings(includeParentCultures).Concat(_shared.GetAllStrings(includeParentCultures));

    private static LocalizedString First(LocalizedString own, Func<LocalizedString> shared) => own.ResourceNotFound ? shared() : own;
}
