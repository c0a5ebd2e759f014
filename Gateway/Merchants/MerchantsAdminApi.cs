using System.Security.Cryptography;
using System.Text;
using Mesh.Gateway.Localization;
using Mesh.Gateway.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Mesh.Gateway.Merchants;

/// <summary>
/// Merchant onboarding for the platform's operators, under <c>/admin</c>: every call carries the
/// operator key in <c>X-Mesh-Admin-Key</c>. Bad input is a validation problem (RFC 9457) naming
/// each field, and changes nothing.
/// </summary>
public static class MerchantsAdminApi
{
    public const string AdminKeyHeader = "X-Mesh-Admin-Key";

    public static RouteGroupBuilder MapMerchantsAdminApi(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var expected = context.HttpContext.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.AdminKey;
            var given = context.HttpContext.Request.Headers[AdminKeyHeader].ToString();
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given))
                ? await next(context)
                : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: $"The operator key is required in {AdminKeyHeader}");
        });
        group.MapPost("/merchants", OnboardAsync)
            .WithName("OnboardMerchant")
            .WithSummary("Onboards a merchant: id, public key or certificate, notification mode and protocol, fee, settlement account")
            .WithDescription("Idempotent on the merchant id: the same details again answer 200 with the merchant; other details for an onboarded id answer 409.")
            .WithTags("Admin");
        group.MapGet("/merchants/{merchantId}", GetAsync)
            .WithName("GetMerchant")
            .WithSummary("A merchant as onboarded, with its key's algorithm, size and SHA-256 fingerprint")
            .WithTags("Admin");
        group.MapPost("/merchants/{merchantId}/console-users", AddConsoleUserAsync)
            .WithName("AddConsoleUser")
            .WithSummary("Gives a merchant's person a merchant console login: operatorId, role (admin, operator, viewer), password (12 to 128 characters)")
            .WithTags("Admin");
        group.MapPost("/platform-operators", AddPlatformOperatorAsync)
            .WithName("AddPlatformOperator")
            .WithSummary("Gives one of the platform's operators an operator console login: operatorId, role (platform-admin, platform-operator), password")
            .WithTags("Admin");
        return group;
    }

    public sealed record ConsoleUserApplication(string? OperatorId, string? Role, string? Password);

    private static async Task<IResult> AddConsoleUserAsync(string merchantId, ConsoleUserApplication application, MerchantRegistry registry,
        Consoles.ConsoleAccounts accounts, CancellationToken ct)
    {
        if (UserProblems(application, Consoles.ConsoleRoles.All) is { Count: > 0 } problems)
        {
            return TypedResults.ValidationProblem(problems.English(), title: "The console user has errors");
        }
        if (!merchantId.All(char.IsAsciiDigit) || await registry.FindAsync(merchantId, ct) is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No merchant {merchantId}");
        }
        return await accounts.AddUserAsync(merchantId, application.OperatorId!, application.Role!, application.Password!, ct)
            ? TypedResults.Created($"/admin/merchants/{merchantId}/console-users/{application.OperatorId}", new { merchantId, application.OperatorId, application.Role })
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Merchant {merchantId} already has an operator {application.OperatorId}");
    }

    private static async Task<IResult> AddPlatformOperatorAsync(ConsoleUserApplication application, Consoles.ConsoleAccounts accounts, CancellationToken ct)
    {
        if (UserProblems(application, Consoles.ConsoleRoles.PlatformRoles) is { Count: > 0 } problems)
        {
            return TypedResults.ValidationProblem(problems.English(), title: "The platform operator has errors");
        }
        return await accounts.AddUserAsync(Consoles.ConsoleRoles.Platform, application.OperatorId!, application.Role!, application.Password!, ct)
            ? TypedResults.Created($"/admin/platform-operators/{application.OperatorId}", new { application.OperatorId, application.Role })
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"There is already a platform operator {application.OperatorId}");
    }

    /// <summary>A console user's problems in words, by field (none: it may be added); <c>/v1</c> answers their English.</summary>
    public static Dictionary<string, Words[]> UserProblems(ConsoleUserApplication application, string[] roles)
    {
        var problems = new Dictionary<string, Words[]>(StringComparer.Ordinal);
        if (application.OperatorId is not { Length: > 0 and <= 32 } operatorId || !operatorId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
        {
            problems["operatorId"] = [new Words("1 to 32 of A-Z a-z 0-9 _ . -")];
        }
        if (!roles.Contains(application.Role))
        {
            problems["role"] = [new Words("{0}", string.Join(", ", roles))];
        }
        if (application.Password is not { Length: >= Consoles.ConsoleAccounts.PasswordCharsMin and <= Consoles.ConsoleAccounts.PasswordCharsMax })
        {
            problems["password"] = [new Words("{0} to {1} characters", Consoles.ConsoleAccounts.PasswordCharsMin, Consoles.ConsoleAccounts.PasswordCharsMax)];
        }
        return problems;
    }

    /// <summary>A merchant application's problems by field (none: its key is parsed and it may be onboarded).</summary>
    public static (Dictionary<string, Words[]> Problems, MerchantKey? Key) Check(MerchantApplication application)
    {
        var problems = application.Problems();
        var (key, refusal) = MerchantKey.Parse(application.PublicKeyPem);
        if (refusal is not null)
        {
            problems["publicKeyPem"] = [refusal];
        }
        else if (application.NotificationProtocol == "envelope" && key!.Algorithm != MerchantKey.Rsa)
        {
            problems["notificationProtocol"] = [new Words("envelope needs an RSA key or certificate to encrypt to")];
        }
        return (problems, key);
    }

    private static async Task<Results<Created<Merchant>, Ok<Merchant>, ValidationProblem, ProblemHttpResult>> OnboardAsync(
        MerchantApplication application, MerchantRegistry registry, CancellationToken ct)
    {
        var (problems, key) = Check(application);
        if (problems.Count > 0)
        {
            return TypedResults.ValidationProblem(problems.English(), title: "The merchant application has errors");
        }
        var (outcome, merchant) = await registry.OnboardAsync(application, key!, ct);
        return outcome switch
        {
            MerchantRegistry.Outcome.Created => TypedResults.Created($"/admin/merchants/{merchant.MerchantId}", merchant),
            MerchantRegistry.Outcome.AlreadyTheSame => TypedResults.Ok(merchant),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Merchant {merchant.MerchantId} is already onboarded with other details"),
        };
    }

    private static async Task<Results<Ok<Merchant>, ProblemHttpResult>> GetAsync(string merchantId, MerchantRegistry registry, CancellationToken ct) =>
        merchantId.Length == 15 && await registry.FindAsync(merchantId, ct) is { } merchant
            ? TypedResults.Ok(merchant)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No merchant {merchantId}");
}
