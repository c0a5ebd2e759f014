using System.Text.RegularExpressions;

namespace Mesh.Telemetry.Tests;

/// <summary>
/// The metric names a PromQL expression reads: identifiers that are not functions, keywords,
/// label names (in <c>{…}</c> and in <c>by</c>, <c>without</c>, <c>on</c>, <c>ignoring</c>,
/// <c>group_left</c>, <c>group_right</c> lists), strings or durations.
/// </summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan",
    };

    public static IReadOnlySet<string> MetricNames(string expression)
    {
        var bare = Strings().Replace(expression, " ");
        bare = Matchers().Replace(bare, " ");
        bare = Ranges().Replace(bare, " ");
        bare = Groupings().Replace(bare, " ");
        return Identifiers().Matches(bare)
            .Where(m => !Keywords.Contains(m.Groups["name"].Value.ToLowerInvariant()))
            .Select(m => m.Groups["name"].Value)
            .ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"""([^""\\]|\\.)*""|'([^'\\]|\\.)*'")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Groupings();

    /// <summary>An identifier not followed by "(" (a function) and not part of a number (1e6, 0x10).</summary>
    [GeneratedRegex(@"(?<![\w.:])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\()(?![\w:])")]
    private static partial Regex Identifiers();
}
