namespace Mesh.Telemetry.Tests;

/// <summary>
/// The recording rules' names and every expression of deploy/prometheus/mesh-rules.yml, read line by
/// line (an <c>expr:</c> on one line, or a <c>|</c> block of the lines indented under it).
/// </summary>
public sealed record RuleFile(IReadOnlyList<string> Records, IReadOnlyList<string> Expressions)
{
    public static readonly string RelativePath = Path.Combine("deploy", "prometheus", "mesh-rules.yml");

    public static RuleFile Load()
    {
        var lines = File.ReadAllLines(Repository.PathOf(RelativePath));
        var (records, expressions) = (new List<string>(), new List<string>());
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimStart('-').TrimStart();
            if (Value(line, "record:") is { } record)
            {
                records.Add(record);
            }
            if (Value(line, "expr:") is not { } expression)
            {
                continue;
            }
            if (expression != "|")
            {
                expressions.Add(expression);
                continue;
            }
            var indent = Indent(lines[i]);
            var block = new List<string>();
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || Indent(lines[i + 1]) > indent))
            {
                block.Add(lines[++i].Trim());
            }
            expressions.Add(string.Join(' ', block));
        }
        return new RuleFile(records, expressions);
    }

    private static string? Value(string line, string key) =>
        line.StartsWith(key, StringComparison.Ordinal) ? line[key.Length..].Trim() : null;

    private static int Indent(string line) => line.Length - line.TrimStart().Length;
}
