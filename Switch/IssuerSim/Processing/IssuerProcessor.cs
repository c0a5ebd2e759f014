using System.Diagnostics;
using Mesh.Iso8583.Messages;
using Mesh.IssuerSim.Options;
using Microsoft.Extensions.Options;

namespace Mesh.IssuerSim.Processing;

/// <summary>
/// What the bank does with a message from the switch. Each request is one server span, joined
/// to the payment's trace through the context the switch put in field 124.
/// </summary>
public sealed class IssuerProcessor(IOptions<BankOptions> bank, ILogger<IssuerProcessor> logger)
{
    public ValueTask<IsoMessage?> HandleAsync(IsoMessage request, CancellationToken ct)
    {
        IsoTraceContext.TryExtract(request, out var parent);
        using var activity = IssuerTelemetry.Source.StartActivity($"iso8583 {request.Mti} ← switch", ActivityKind.Server, parent);
        activity?.SetTag("iso8583.mti", request.Mti);
        activity?.SetTag("iso8583.stan", request.GetString(IsoFields.Stan));
        activity?.SetTag("mesh.bank_id", bank.Value.Id);

        var answer = request.Mti switch
        {
            "0800" => NetworkManagement(request),
            _ => Answer(request, ResponseCodes.InvalidTransaction),
        };
        activity?.SetTag("iso8583.response_code", answer.GetString(IsoFields.ResponseCode));
        logger.LogDebug("Answered {Request} with {Answer}", request, answer);
        return ValueTask.FromResult<IsoMessage?>(answer);
    }

    private static IsoMessage NetworkManagement(IsoMessage request) =>
        request.GetString(IsoFields.NetworkManagementCode) switch
        {
            NetworkManagementCodes.SignOn or NetworkManagementCodes.SignOff or NetworkManagementCodes.Echo =>
                Answer(request, ResponseCodes.Approved).Set(IsoFields.NetworkManagementCode, request.GetString(IsoFields.NetworkManagementCode)!),
            _ => Answer(request, ResponseCodes.InvalidTransaction),
        };

    /// <summary>The response MTI, echoing 7, 11, 32 and 33, with the given field 39.</summary>
    private static IsoMessage Answer(IsoMessage request, string responseCode)
    {
        var answer = new IsoMessage(IsoMessage.ResponseMti(request.Mti));
        foreach (var echoed in new[] { IsoFields.TransmissionDateTime, IsoFields.Stan, IsoFields.AcquirerId, IsoFields.ForwardingId })
        {
            if (request.GetString(echoed) is { } value)
            {
                answer.Set(echoed, value);
            }
        }
        return answer.Set(IsoFields.ResponseCode, responseCode);
    }
}
