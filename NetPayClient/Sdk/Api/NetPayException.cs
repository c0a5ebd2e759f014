namespace Mesh.NetPay.Api;

/// <summary>
/// The platform refused a request (an RFC 9457 problem: <see cref="Status"/>, <see cref="Title"/>,
/// <see cref="Detail"/>, the stable <see cref="Code"/> and <see cref="Type"/>, and the per-field <see cref="Errors"/>), or its answer could not be trusted
/// (<see cref="Status"/> 0: a bad signature, an unknown certificate).
/// </summary>
public sealed class NetPayException : Exception
{
    /// <summary>A refusal by the platform.</summary>
    public NetPayException(int status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null, string? code = null,
        Uri? type = null)
        : base($"{status} {title}{(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}{Describe(errors)}")
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        Code = code;
        Type = type;
    }

    /// <summary>An answer that is not the platform's.</summary>
    public NetPayException(string untrusted) : this(0, "Untrusted answer", untrusted)
    {
    }

    /// <inheritdoc />
    public NetPayException() : this(0, "NetPay error", null)
    {
    }

    /// <inheritdoc />
    public NetPayException(string message, Exception inner) : base(message, inner)
    {
        Title = message;
        Errors = new Dictionary<string, string[]>();
    }

    /// <summary>The HTTP status of the refusal; 0 for an answer that failed verification.</summary>
    public int Status { get; }

    /// <summary>The problem's title.</summary>
    public string Title { get; }

    /// <summary>The problem's detail.</summary>
    public string? Detail { get; }

    /// <summary>
    /// The refusal's stable, machine-readable code (<c>order.duplicate</c>, <c>refund.over_remainder</c>, <c>signature.invalid</c>,
    /// a risk control's <c>risk.limit_per_payment</c>, ...: the table in the merchant integration guide); null for an answer that
    /// failed verification. Branch on this, not on <see cref="Title"/>.
    /// </summary>
    public string? Code { get; }

    /// <summary>The problem's stable type URI (<c>https://mesh.example/problems/</c> and the <see cref="Code"/>), when the platform gives one.</summary>
    public Uri? Type { get; }

    /// <summary>What is wrong with each field, for a validation problem.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    private static string Describe(IReadOnlyDictionary<string, string[]>? errors) =>
        errors is { Count: > 0 } ? " (" + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")) + ")" : "";
}
