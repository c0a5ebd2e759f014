using System.Text;
using System.Text.Json;

namespace Mesh.NetPay.Cli;

/// <summary>What a command prints: a table or key/value lines for people, one JSON document with <c>--json</c> for scripts.</summary>
public sealed class Output(TextWriter stdout, bool json)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public bool IsJson => json;

    public void Record(object value, IEnumerable<(string Name, string? Value)> fields)
    {
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(value, Json));
            return;
        }
        var rows = fields.ToList();
        var width = rows.Max(r => r.Name.Length);
        foreach (var (name, v) in rows)
        {
            stdout.WriteLine($"{name.PadRight(width)}  {v}");
        }
    }

    public void Table<T>(IReadOnlyList<T> items, params (string Header, Func<T, string> Cell, bool Right)[] columns)
    {
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(items, Json));
            return;
        }
        var widths = columns.Select(c => Math.Max(c.Header.Length, items.Count == 0 ? 0 : items.Max(i => c.Cell(i).Length))).ToArray();
        string Line(IEnumerable<string> cells) =>
            string.Join("  ", cells.Select((cell, i) => columns[i].Right ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd();
        stdout.WriteLine(Line(columns.Select(c => c.Header)));
        stdout.WriteLine(Line(widths.Select(w => new string('-', w))));
        foreach (var item in items)
        {
            stdout.WriteLine(Line(columns.Select(c => c.Cell(item))));
        }
        stdout.WriteLine($"{items.Count} row{(items.Count == 1 ? "" : "s")}");
    }

    /// <summary>An amount in major units with its currency's letters (the platform may name CNY by its ISO 4217 number, 156).</summary>
    public static string Money(long minor, string currency) =>
        $"{(minor < 0 ? "-" : "")}{Math.Abs(minor) / 100}.{Math.Abs(minor) % 100:D2} {(currency == "156" ? "CNY" : currency)}";

    /// <summary>A progress line rewritten in place: bytes so far, of the total when known.</summary>
    public sealed class Progress(TextWriter stderr) : IProgress<(long Received, long? Total)>
    {
        private long _lastReported = -1;

        public void Report((long Received, long? Total) value)
        {
            if (value.Received - _lastReported < 64 * 1024 && value.Received != value.Total)
            {
                return;
            }
            _lastReported = value.Received;
            var line = new StringBuilder("\r  ").Append(Size(value.Received));
            if (value.Total is { } total && total > 0)
            {
                line.Append(" of ").Append(Size(total)).Append($" ({100 * value.Received / total}%)");
            }
            stderr.Write(line.ToString().PadRight(40));
        }

        private static string Size(long bytes) => bytes < 1024 * 1024 ? $"{bytes / 1024.0:F1} KiB" : $"{bytes / (1024.0 * 1024):F1} MiB";
    }
}
