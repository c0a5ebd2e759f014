using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Mesh.Gateway.Apis;

/// <summary>
/// What the <c>/v1</c> operations say about themselves in <c>/openapi/v1.json</c>: the request record (as JSON, or sealed
/// as a compact JWE), the signed answer, every problem (<see cref="V1Problem"/>), and the parameters that are read by hand
/// (the signature's query parameters on a GET, <c>Idempotency-Key</c> on a POST) through <see cref="V1Parameters"/>.
/// </summary>
public static class V1OpenApi
{
    /// <summary>The query parameters a GET reads and signs (<see cref="OrdersApi.Query"/>), for the document.</summary>
    public sealed record V1Query(IReadOnlyList<string> Names);

    /// <summary>Marks a POST that honours <c>Idempotency-Key</c>.</summary>
    public sealed record V1Idempotent;

    private static readonly Dictionary<string, string> QueryDescriptions = new(StringComparer.Ordinal)
    {
        ["merId"] = "The merchant's number: 15 digits.",
        ["timestamp"] = "yyyyMMddHHmmss UTC, within the gateway's allowed skew of its clock (signed: a captured query is not replayed for long).",
        ["signature"] = "The merchant's signature over the query's other parameters and the path's values (see \"Signing /v1 requests\").",
        ["from"] = "The start of the range, yyyyMMddHHmmss UTC.",
        ["to"] = "The end of the range (excluded), yyyyMMddHHmmss UTC.",
        ["limit"] = $"Orders per page, 1 to {Orders.OrderBook.ListLimitMax} (default 50).",
        ["cursor"] = "The nextCursor of the previous page.",
    };

    private static readonly string[] Required = ["merId", "timestamp", "signature", "from", "to"];

    public static RouteHandlerBuilder V1Post<TRequest, TAnswer>(this RouteHandlerBuilder builder, params int[] statuses) where TRequest : V1Body
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Accepts<TRequest>("application/json", EnvelopeOpening.ContentType).WithMetadata(new V1Idempotent());
        foreach (var status in statuses)
        {
            builder.Produces<TAnswer>(status);
        }
        return builder;
    }

    public static RouteHandlerBuilder V1Get<TAnswer>(this RouteHandlerBuilder builder, params string[] query)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Produces<TAnswer>(StatusCodes.Status200OK).WithMetadata(new V1Query(query.Length > 0 ? query : ["merId", "timestamp", "signature"]));
    }

    public static RouteHandlerBuilder V1Problems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var status in statuses.Append(StatusCodes.Status503ServiceUnavailable))
        {
            builder.Produces<V1Problem>(status, Apis.V1Problems.ProblemContentType);
        }
        return builder;
    }

    /// <summary>
    /// A request's required fields as a client generator should see them: required and not nullable. The records take each
    /// field as <c>string?</c> so that a request without one is still read and answered with a problem naming it; the
    /// document states the contract, not that leniency. Optional fields stay nullable (null is the same as left out).
    /// </summary>
    public sealed class V1RequiredFields : IOpenApiSchemaTransformer
    {
        public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(schema);
            ArgumentNullException.ThrowIfNull(context);
            if (!typeof(V1Body).IsAssignableFrom(context.JsonTypeInfo.Type) || schema.Required is not { } required || schema.Properties is not { } properties)
            {
                return Task.CompletedTask;
            }
            foreach (var name in required)
            {
                if (properties.TryGetValue(name, out var property) && property is OpenApiSchema field && field.Type is { } type)
                {
                    field.Type = type & ~JsonSchemaType.Null;
                }
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>Adds the parameters the handlers read by hand: the signed query of a GET, <c>Idempotency-Key</c> on a POST.</summary>
    public sealed class V1Parameters : IOpenApiOperationTransformer
    {
        public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(operation);
            ArgumentNullException.ThrowIfNull(context);
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<V1Query>().FirstOrDefault() is { } query)
            {
                operation.Parameters ??= [];
                foreach (var name in query.Names)
                {
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = name,
                        In = ParameterLocation.Query,
                        Required = Required.Contains(name),
                        Description = QueryDescriptions.GetValueOrDefault(name),
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = V1Body.FieldCharsMax },
                    });
                }
            }
            if (metadata.OfType<V1Idempotent>().Any())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = IdempotencyKeys.Header,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "The merchant's key for this request (24 hours): the same key and parameters get the first answer again "
                        + "(Idempotent-Replayed: true); other parameters are refused (422); while the first runs, 409.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyKeys.KeyCharsMax },
                });
            }
            return Task.CompletedTask;
        }
    }
}
