using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Localization;

/// <summary>
/// A message for a person, chosen in code and worded on the page: its English text, which is also its
/// resource key (a pattern when it has <see cref="Args"/>), and the values the pattern takes (words among them are worded too).
/// A rule shared by <c>/v1</c> and the consoles says its refusals as words: <c>/v1</c> answers <see cref="English"/>, a page says them in its language.
/// </summary>
public sealed record Words(string Text, params object[] Args)
{
    /// <summary>What joins the problems of a list: a resource of its own, since languages punctuate differently.</summary>
    public static readonly Words ProblemSeparator = new("; ");

    /// <summary>For a value's label: the value itself, said in English and where no resource labels it.</summary>
    public string? Value { get; private init; }

    [return: NotNullIfNotNull(nameof(text))]
    public static implicit operator Words?(string? text) => text is null ? null : new(text);

    /// <summary>A value's label (an order's status, a batch's funds): the resource <c>{kind}.{value}</c>, or the value itself.</summary>
    public static Words Label(string kind, string value) => new(kind + "." + value) { Value = value };

    /// <summary>Several problems as one message, joined by <see cref="ProblemSeparator"/>.</summary>
    public static Words List(IEnumerable<Words> problems)
    {
        var args = new List<object>();
        foreach (var problem in problems)
        {
            if (args.Count > 0)
            {
                args.Add(ProblemSeparator);
            }
            args.Add(problem);
        }
        return new Words(string.Concat(Enumerable.Range(0, args.Count).Select(i => "{" + i.ToString(CultureInfo.InvariantCulture) + "}")), [.. args]);
    }

    /// <summary>
    /// Problems by field as one message: each field's problems after its name (<c>"{field}: {0}"</c>, a resource of its own, so a
    /// page names the field in its language), the fields joined as a list.
    /// </summary>
    public static Words ByField(IEnumerable<KeyValuePair<string, Words[]>> problems) =>
        List(problems.Select(p => new Words(p.Key + ": {0}", List(p.Value))));

    /// <summary>The words in English, as the JSON API answers them.</summary>
    public string English() => Value ?? (Args.Length == 0
        ? Text
        : string.Format(CultureInfo.InvariantCulture, Text, [.. Args.Select(arg => arg is Words inner ? inner.English() : arg)]));

    public override string ToString() => English();
}

public static class WordsExtensions
{
    /// <summary>Problems by field in English, as a <c>/v1</c> validation problem answers them.</summary>
    public static Dictionary<string, string[]> English(this Dictionary<string, Words[]> problems) =>
        problems.ToDictionary(p => p.Key, p => p.Value.Select(words => words.English()).ToArray(), StringComparer.Ordinal);

    /// <summary><paramref name="words"/> in the request's language; the English text itself when no resource has them.</summary>
    public static string Say(this IStringLocalizer text, Words words) => words.Value is { } value
        ? text[words.Text] is { ResourceNotFound: false } label ? label.Value : value
        : words.Args.Length == 0
            ? text[words.Text].Value
            : text[words.Text, [.. words.Args.Select(arg => arg is Words inner ? text.Say(inner) : arg)]].Value;

    /// <summary>
    /// The label of a value (an order's status, a role, a notification mode): the resource <c>{kind}.{value}</c>, or the value
    /// itself when it has none. The value stays what forms post and exports carry.
    /// </summary>
    public static string Label(this IStringLocalizer text, string kind, string value) => text.Say(Words.Label(kind, value));
}
