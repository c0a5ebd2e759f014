using System.Diagnostics;

namespace Mesh.Iso8583.Messages;

/// <summary>
/// W3C trace context in the private-use field 124, so that the spans of a bank on the far side of
/// a TCP link join the trace of the payment: <c>traceparent</c>, then a space and <c>tracestate</c>.
/// </summary>
public static class IsoTraceContext
{
    public static void Inject(IsoMessage message, Activity? activity)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null)
        {
            return;
        }
        var value = string.IsNullOrEmpty(activity.TraceStateString) ? activity.Id : $"{activity.Id} {activity.TraceStateString}";
        message.Set(IsoFields.TraceContext, value);
    }

    public static bool TryExtract(IsoMessage message, out ActivityContext context)
    {
        context = default;
        var value = message.GetString(IsoFields.TraceContext);
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var traceParent = space < 0 ? value : value[..space];
        var traceState = space < 0 ? null : value[(space + 1)..];
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out context);
    }
}
