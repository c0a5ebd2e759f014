namespace Mesh.Gateway.Pages;

/// <summary>
/// A NetPay server-to-server form's fields read one by one, each given exactly once and checked by
/// its rule; every problem is kept under the field's name, for the refusal's <c>Message</c>.
/// </summary>
public sealed class NetPayFormFields(IFormCollection form)
{
    private readonly Dictionary<string, string> _problems = new(StringComparer.Ordinal);

    public bool HasProblems => _problems.Count > 0;

    /// <summary>The problems as one line: <c>Field: rule; Field: rule</c>.</summary>
    public string Problems => string.Join("; ", _problems.Select(p => $"{p.Key}: {p.Value}"));

    /// <summary>The field's value ("" when absent), its problem noted when it is given twice or breaks <paramref name="rule"/>.</summary>
    public string Read(string name, Func<string, bool> ok, string rule)
    {
        var values = form[name];
        var value = values.Count == 1 ? values[0] ?? "" : "";
        if (values.Count > 1 || !ok(value))
        {
            _problems[name] = values.Count > 1 ? "given once" : rule;
        }
        return value;
    }
}
