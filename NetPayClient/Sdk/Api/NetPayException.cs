namespace Mesh.NetPay.Api;

/// <summary>
/// The platform refused a request (an RFC 9457 problem: <see cref="Status"/>, <see cref="Title"/>,
/// <see cref="Detail"/> and the per-field <see cref="Errors"/>), or its answer could not be trusted
/// (<see cref="Status"/> 0: a bad signature, an unknown certificate).
/// </summary>
public sealed class NetPayException : Exception
{
    /// <summary>A refusal by the platform.</summary>
    public NetPayException(int status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null, string? code = null)
        : base($"{status} {title}{(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}{Describe(errors)}")
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        Code = code;
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
    /// The refusal's stable code, when the platform gives one: a risk control's (<c>risk.limit_per_payment</c>, ...), as
    /// <see cref="Order.ResponseCode"/> carries it for a payment the risk controls refused.
    /// </summary>
    public string? Code { get; }

    /// <summary>What is wrong with each field, for a validation problem.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    private static string Describe(IReadOnlyDictionary<string, string[]>? errors) =>
        errors is { Count: > 0 } ? " (" + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")) + ")" : "";
}
