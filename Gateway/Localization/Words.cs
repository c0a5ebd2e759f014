using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Localization;

/// <summary>
/// A message for a person, chosen in code and worded on the page: its English text, which is also its
/// resource key (a pattern when it has <see cref="Args"/>), and the values the pattern takes (words among them are worded too).
/// </summary>
public sealed record Words(string Text, params object[] Args)
{
    [return: NotNullIfNotNull(nameof(text))]
    public static implicit operator Words?(string? text) => text is null ? null : new(text);
}

public static class WordsExtensions
{
    /// <summary><paramref name="words"/> in the request's language; the English text itself when no resource has them.</summary>
    public static string Say(this IStringLocalizer text, Words words) => words.Args.Length == 0
        ? text[words.Text].Value
        : text[words.Text, [.. words.Args.Select(arg => arg is Words inner ? text.Say(inner) : arg)]].Value;
}
