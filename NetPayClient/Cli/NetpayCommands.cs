using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Mesh.NetPay.Api;
using Mesh.NetPay.Reconciliation;
using Mesh.NetPay.Signing;

namespace Mesh.NetPay.Cli;

/// <summary>
/// <c>netpay</c>: keygen, sign, verify, order create/get/list/close/void/capture/release, refund, query (NetPay's order query), recon download. Settings
/// come from options or the environment (<c>NETPAY_GATEWAY</c>, <c>NETPAY_MERCHANT_ID</c>,
/// <c>NETPAY_KEY</c>, <c>NETPAY_PLATFORM_CERT</c>). Exit codes: 0 done, 1 usage, 2 refused by the
/// platform, 3 not signed by the platform (or a signature that does not verify), 4 no answer.
/// </summary>
public static class NetpayCommands
{
    public const int Refused = 2;
    public const int Untrusted = 3;
    public const int Unreachable = 4;

    private static readonly Option<Uri> Gateway = new("--gateway")
    {
        Description = "The gateway's merchant API (env NETPAY_GATEWAY)",
        Recursive = true,
        DefaultValueFactory = _ => new Uri(Environment.GetEnvironmentVariable("NETPAY_GATEWAY") ?? "http://localhost:5080"),
    };

    private static readonly Option<string> MerchantId = new("--merchant-id")
    {
        Description = "The merchant's 15 digits (env NETPAY_MERCHANT_ID)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NETPAY_MERCHANT_ID") ?? "",
    };

    private static readonly Option<FileInfo?> Key = new("--key")
    {
        Description = "The merchant's private key, PEM (env NETPAY_KEY)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NETPAY_KEY") is { Length: > 0 } path ? new FileInfo(path) : null,
    };

    private static readonly Option<FileInfo?> PlatformCert = new("--platform-cert")
    {
        Description = "The platform's certificate, PEM, as given at onboarding (env NETPAY_PLATFORM_CERT); fetched from the gateway when absent",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NETPAY_PLATFORM_CERT") is { Length: > 0 } path ? new FileInfo(path) : null,
    };

    private static readonly Option<bool> Seal = new("--seal") { Description = "Seal requests in a digital envelope to the platform", Recursive = true };

    private static readonly Option<bool> Json = new("--json") { Description = "Print JSON for scripts instead of tables", Recursive = true };

    public static RootCommand Root()
    {
        var root = new RootCommand("netpay: the Mesh merchant's command line") { Gateway, MerchantId, Key, PlatformCert, Seal, Json };
        root.Subcommands.Add(KeyGen());
        root.Subcommands.Add(Sign());
        root.Subcommands.Add(Verify());
        root.Subcommands.Add(Orders());
        root.Subcommands.Add(RefundCommand());
        root.Subcommands.Add(Query());
        root.Subcommands.Add(Recon());
        return root;
    }

    private static Command KeyGen()
    {
        var algorithm = new Option<string>("--algorithm") { Description = "rsa-2048 (/v1), rsa-1024 (NetPay forms) or ecdsa-p256 (/v1)", DefaultValueFactory = _ => "rsa-2048" };
        algorithm.AcceptOnlyFromAmong("rsa-2048", "rsa-1024", "ecdsa-p256");
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Where to write merchant.key.pem, merchant.pub.pem and merchant.csr.pem", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var subject = new Option<string>("--subject") { Description = "The certificate request's subject", DefaultValueFactory = _ => "CN=Merchant, O=Merchant" };
        var command = new Command("keygen", "A new merchant key pair and a certificate request") { algorithm, outDir, subject };
        command.SetAction(result =>
        {
            using var key = result.GetValue(algorithm) switch
            {
                "rsa-1024" => MerchantKey.CreateRsa(1024),
                "ecdsa-p256" => MerchantKey.CreateEcdsaP256(),
                _ => MerchantKey.CreateRsa(2048),
            };
            var dir = result.GetValue(outDir)!;
            dir.Create();
            var privatePath = Path.Combine(dir.FullName, "merchant.key.pem");
            if (File.Exists(privatePath))
            {
                Console.Error.WriteLine($"{privatePath} exists; a key is never overwritten");
                return 1;
            }
            File.WriteAllText(privatePath, key.ExportPrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(privatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.WriteAllText(Path.Combine(dir.FullName, "merchant.pub.pem"), key.ExportPublicKeyPem());
            File.WriteAllText(Path.Combine(dir.FullName, "merchant.csr.pem"), key.CreateCertificateRequestPem(result.GetValue(subject)!));
            new Output(Console.Out, result.GetValue(Json)).Record(new
            {
                privateKey = privatePath,
                publicKey = Path.Combine(dir.FullName, "merchant.pub.pem"),
                certificateRequest = Path.Combine(dir.FullName, "merchant.csr.pem")
            },
                [("private key", privatePath + " (owner only)"), ("public key", Path.Combine(dir.FullName, "merchant.pub.pem")),
                 ("certificate request", Path.Combine(dir.FullName, "merchant.csr.pem"))]);
            return 0;
        });
        return command;
    }

    private static readonly Option<string> Protocol = new("--protocol") { Description = "v1 or netpay", DefaultValueFactory = _ => "v1" };

    private static readonly Option<FileInfo?> Input = new("--file") { Description = "A JSON object of string fields (standard input when absent)" };

    private static Command Sign()
    {
        var command = new Command("sign", "Signs a JSON object of fields: /v1 adds signature; netpay adds ChkValue (a purchase, or a refund with TransType 0002, 0012, 0102 or 0112)")
        {
            Protocol, Input,
        };
        command.SetAction(result =>
        {
            using var key = LoadKey(result);
            var fields = ReadFields(result);
            if (result.GetValue(Protocol) == "netpay")
            {
                string Get(string name) => fields.GetValueOrDefault(name) ?? "";
                var text = RefundTransTypes.Contains(Get("TransType"))
                    ? string.Concat(Get("MerID"), Get("TransDate"), Get("TransType"), Get("OrderId"), Get("RefundAmount"), Get("Priv1"))
                    : string.Concat(Get("MerId"), Get("OrdId"), Get("TransAmt"), Get("CuryId"), Get("TransDate"), Get("TransType"), Get("Priv1"));
                fields["ChkValue"] = NetPayForm.ChkValue(text, key);
            }
            else
            {
                try
                {
                    V1Signature.SignInPlace(fields, key);
                }
                catch (ArgumentException ex)
                {
                    // An RSA-1024 key is the NetPay protocol's: /v1 would refuse what it signs.
                    Console.Error.WriteLine(ex.Message);
                    return 1;
                }
            }
            Console.Out.WriteLine(JsonSerializer.Serialize(fields, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var command = new Command("verify", "Checks that an answer or notification (a JSON object of fields) is signed by the platform: /v1 signature and certId, or NetPay checkvalue")
        {
            Protocol, Input,
        };
        command.SetAction(async (result, ct) =>
        {
            var fields = ReadFields(result);
            var output = new Output(Console.Out, result.GetValue(Json));
            bool valid;
            string signer;
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                if (result.GetValue(Protocol) == "netpay")
                {
                    // NetPay answers name no key: during a rotation's overlap either PGID key in use may have signed.
                    var netPayKeys = await PlatformKeys.FetchNetPayKeysAsync(http, result.GetValue(Gateway)!, ct);
                    var answer = fields.ToDictionary(f => f.Key, f => f.Value ?? "");
                    valid = netPayKeys.Any(key => answer.ContainsKey("RefundAmout") ? NetPayForm.IsRefundAnswerSigned(answer, key) : NetPayForm.IsPlatformSigned(answer, key));
                    foreach (var key in netPayKeys)
                    {
                        key.Dispose();
                    }
                    signer = "the platform's NetPay key";
                }
                else
                {
                    var gateway = result.GetValue(Gateway)!;
                    using var platform = result.GetValue(PlatformCert) is { } pinned
                        ? X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(pinned.FullName, ct))
                        : await PlatformKeys.FetchCertificateAsync(http, gateway, ct);
                    var certId = fields.GetValueOrDefault(V1Signature.CertIdField) ?? "";
                    using var rotated = certId == V1Signature.CertIdOf(platform) ? null : await RotatedCertificateAsync(http, gateway, platform, certId, ct);
                    var signedBy = rotated ?? platform;
                    valid = rotated is not null || certId == V1Signature.CertIdOf(platform)
                        ? V1Signature.IsPlatformSigned(fields, fields.GetValueOrDefault(V1Signature.SignatureField), signedBy)
                        : false;
                    signer = $"platform certificate {V1Signature.CertIdOf(signedBy)}";
                }
            }
            catch (HttpRequestException ex)
            {
                Console.Error.WriteLine($"no answer from {result.GetValue(Gateway)}: {ex.Message}");
                return Unreachable;
            }
            output.Record(new { valid, signer }, [("valid", valid ? "yes" : "NO"), ("signer", signer)]);
            return valid ? 0 : Untrusted;
        });
        return command;
    }

    /// <summary>
    /// The certificate of a key the platform rotated to (or from, while it overlaps), by the certId an answer names: believed only
    /// when the issuing certificate, which issued the pinned one, issued it for answers. Null when the platform has none in use.
    /// </summary>
    private static async Task<X509Certificate2?> RotatedCertificateAsync(HttpClient http, Uri gateway, X509Certificate2 pinned, string certId, CancellationToken ct)
    {
        using var issuing = X509Certificate2.CreateFromPem(await http.GetStringAsync(new Uri(gateway, PlatformKeys.IssuingCertificatePath), ct));
        if (!PlatformKeys.IsIssuedBy(issuing, issuing) || !PlatformKeys.IsIssuedBy(pinned, issuing))
        {
            return null;
        }
        try
        {
            return await PlatformKeys.FetchCertificateByIdAsync(http, gateway, PlatformKeys.CertificatePath, certId, issuing,
                c => PlatformKeys.HasPurpose(c, PlatformKeys.AnswersPurposeOid), ct);
        }
        catch (NetPayException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
    }

    private static Command Orders()
    {
        var orderId = new Option<string>("--order-id") { Description = "The order number (1-32 of A-Z a-z 0-9 _ -); a new one when absent" };
        var amount = new Option<long>("--amount-minor") { Description = "The amount in minor units (fen)", Required = true };
        var currency = new Option<string>("--currency") { DefaultValueFactory = _ => "CNY" };
        var backUrl = new Option<string?>("--back-url") { Description = "Where notifications go" };
        var frontUrl = new Option<string?>("--front-url") { Description = "Where the consumer returns" };
        var hold = new Option<bool>("--hold") { Description = "Pre-authorization: the payment only holds the amount, to be captured or released later" };
        var create = new Command("create", "Creates an order and prints where the consumer pays it") { orderId, amount, currency, backUrl, frontUrl, hold };
        create.SetAction((result, ct) => Call(result, async client =>
        {
            var order = await client.CreateOrderAsync(new CreateOrder(result.GetValue(orderId) ?? NewOrderId(), result.GetValue(amount), result.GetValue(currency)!,
                BackUrl: result.GetValue(backUrl), FrontUrl: result.GetValue(frontUrl), Hold: result.GetValue(hold)), ct);
            PrintOrder(result, order);
        }));
        var id = new Argument<string>("orderId") { Description = "The order number" };
        var get = new Command("get", "An order, as the platform signed it") { id };
        get.SetAction((result, ct) => Call(result, async client => PrintOrder(result, await client.GetOrderAsync(result.GetValue(id)!, ct))));
        var from = new Option<DateTimeOffset>("--from") { Description = "From (UTC), e.g. 2026-11-26 or 2026-11-26T08:00:00Z", Required = true };
        var to = new Option<DateTimeOffset>("--to") { Description = "Up to, not including (UTC)", Required = true };
        var list = new Command("list", "Orders created in [from, to), oldest first") { from, to };
        list.SetAction((result, ct) => Call(result, async client =>
        {
            var orders = new List<Order>();
            await foreach (var order in client.ListOrdersAsync(Utc(result.GetValue(from)), Utc(result.GetValue(to)), ct))
            {
                orders.Add(order);
            }
            new Output(Console.Out, result.GetValue(Json)).Table(orders,
                ("ORDER", o => o.OrderId, false), ("STATUS", o => o.Status, false), ("AMOUNT", o => Output.Money(o.AmountMinor, o.Currency), true),
                ("REFUNDED", o => Output.Money(o.RefundedMinor, o.Currency), true), ("CARD", o => o.MaskedPan ?? "", false),
                ("CREATED (UTC)", o => o.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), false));
        }));
        var closeId = new Argument<string>("orderId") { Description = "The order number" };
        var close = new Command("close", "Closes an order that is not paid, so that it can no longer be paid; safe to repeat") { closeId };
        close.SetAction((result, ct) => Call(result, async client => PrintOrder(result, await client.CloseOrderAsync(result.GetValue(closeId)!, ct))));
        var voidId = new Argument<string>("orderId") { Description = "The order number" };
        var @void = new Command("void", "Voids a paid order before the day's cut-off: the whole amount goes back to the card; safe to repeat") { voidId };
        @void.SetAction((result, ct) => Call(result, async client => PrintOrder(result, await client.VoidOrderAsync(result.GetValue(voidId)!, ct))));
        var captureId = new Argument<string>("orderId") { Description = "The order number" };
        var captureAmount = new Option<long>("--amount-minor") { Description = "The amount to capture in minor units (fen), at most the amount held", Required = true };
        var capture = new Command("capture", "Captures a held order once, up to the amount held; the rest goes back to the card") { captureId, captureAmount };
        capture.SetAction((result, ct) => Call(result, async client =>
            PrintOrder(result, await client.CaptureOrderAsync(result.GetValue(captureId)!, result.GetValue(captureAmount), ct))));
        var releaseId = new Argument<string>("orderId") { Description = "The order number" };
        var release = new Command("release", "Releases a held order: nothing is charged; safe to repeat") { releaseId };
        release.SetAction((result, ct) => Call(result, async client => PrintOrder(result, await client.ReleaseOrderAsync(result.GetValue(releaseId)!, ct))));
        return new Command("order", "Create, get, list, close, void, capture and release orders") { create, get, list, close, @void, capture, release };
    }

    private static Command RefundCommand()
    {
        var orderId = new Option<string>("--order-id") { Required = true };
        var refundId = new Option<string>("--refund-id") { Description = "The merchant's refund id; the same id is the same refund. A new one when absent" };
        var amount = new Option<long>("--amount-minor") { Required = true };
        var command = new Command("refund", "Refunds all or part of a paid order; safe to repeat with the same --refund-id") { orderId, refundId, amount };
        command.SetAction((result, ct) => Call(result, async client =>
        {
            var refund = await client.RefundAsync(result.GetValue(orderId)!, result.GetValue(refundId) ?? "r" + NewOrderId(), result.GetValue(amount), ct);
            new Output(Console.Out, result.GetValue(Json)).Record(refund,
            [
                ("refund", refund.RefundId), ("order", refund.OrderId), ("amount", Output.Money(refund.AmountMinor, refund.Currency)), ("status", refund.Status),
                ("response code", refund.ResponseCode),
            ]);
        }));
        return command;
    }

    private static readonly string[] RefundTransTypes = [NetPayForm.Refund, "0012", "0102", "0112"];

    private static Command Query()
    {
        var orderId = new Option<string>("--order-id") { Description = "The NetPay order's 16 digits (OrdId)", Required = true };
        var transDate = new Option<string>("--trans-date") { Description = "The order's date, yyyyMMdd (TransDate)", Required = true };
        var command = new Command("query", "NetPay's order query, signed with the NetPay (RSA-1024) key; prints the order's status, checked against the platform's NetPay key")
        {
            orderId, transDate,
        };
        command.SetAction(async (result, ct) =>
        {
            var output = new Output(Console.Out, result.GetValue(Json));
            try
            {
                using var key = LoadKey(result);
                var form = NetPayForm.SignQuery(new NetPayQuery(result.GetValue(MerchantId)!, result.GetValue(orderId)!, result.GetValue(transDate)!), key);
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                using var content = new FormUrlEncodedContent(form);
                using var response = await http.PostAsync(new Uri(result.GetValue(Gateway)!, NetPayForm.QueryPath), content, ct);
                var answer = NetPayForm.ReadAnswer(await response.Content.ReadAsByteArrayAsync(ct));
                if (answer.GetValueOrDefault("ResponeseCode") != "0")
                {
                    Console.Error.WriteLine($"refused: {answer.GetValueOrDefault("ResponeseCode") ?? $"HTTP {(int)response.StatusCode}"} {answer.GetValueOrDefault("Message")}");
                    return Refused;
                }
                using var netPayKey = await PlatformKeys.FetchNetPayKeyAsync(http, result.GetValue(Gateway)!, ct);
                var valid = NetPayForm.IsPlatformSigned(answer, netPayKey);
                output.Record(answer, [.. answer.Where(f => f.Key != "checkvalue").Select(f => (f.Key, (string?)f.Value)), ("signed by the platform", valid ? "yes" : "NO")]);
                return valid ? 0 : Untrusted;
            }
            catch (HttpRequestException ex)
            {
                Console.Error.WriteLine($"no answer from {result.GetValue(Gateway)}: {ex.Message}");
                return Unreachable;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or CryptographicException)
            {
                Console.Error.WriteLine(ex.Message);
                return 1;
            }
        });
        return command;
    }

    private static Command Recon()
    {
        var date = new Option<DateOnly>("--date") { Description = "The settlement date (yyyy-MM-dd), closed", Required = true };
        var kind = new Option<string>("--kind") { Description = "detail or totals", DefaultValueFactory = _ => "detail" };
        kind.AcceptOnlyFromAmong("detail", "totals");
        var output = new Option<FileInfo?>("--out") { Description = "Where to save the file (its own name in this folder when absent)" };
        var download = new Command("download", "Downloads a reconciliation file, checks the platform's signature over it, and sums it up") { date, kind, output };
        download.SetAction((result, ct) => Call(result, async client =>
        {
            var isDetail = result.GetValue(kind) == "detail";
            var temporary = Path.GetTempFileName();
            string name;
            long bytes;
            await using (var file = File.Create(temporary))
            {
                (name, bytes) = await client.DownloadReconciliationAsync(result.GetValue(date), isDetail ? ReconciliationKind.Detail : ReconciliationKind.Totals, file,
                    result.GetValue(Json) ? null : new Output.Progress(Console.Error), ct);
            }
            if (!result.GetValue(Json))
            {
                Console.Error.WriteLine();
            }
            var path = result.GetValue(output)?.FullName ?? Path.Combine(Environment.CurrentDirectory, Path.GetFileName(name));
            File.Move(temporary, path, overwrite: true);
            await using var read = File.OpenRead(path);
            var printer = new Output(Console.Out, result.GetValue(Json));
            if (isDetail)
            {
                var lines = new List<DetailLine>();
                await foreach (var line in ReconciliationFile.ReadDetailAsync(read))
                {
                    lines.Add(line);
                }
                printer.Record(new { file = path, bytes, signature = "valid", lines = lines.Count, netMinor = lines.Sum(l => l.NetMinor) },
                    [("file", path), ("bytes", bytes.ToString(CultureInfo.InvariantCulture)), ("signature", "valid (platform)"),
                     ("lines", lines.Count.ToString(CultureInfo.InvariantCulture)),
                     ("net", string.Join(", ", lines.GroupBy(l => l.Currency).Select(g => Output.Money(g.Sum(l => l.NetMinor), g.Key))))]);
            }
            else
            {
                var totals = new List<TotalsLine>();
                await foreach (var line in ReconciliationFile.ReadTotalsAsync(read))
                {
                    totals.Add(line);
                }
                printer.Table(totals, ("CURRENCY", t => t.Currency, false), ("TXNS", t => t.Transactions.ToString(CultureInfo.InvariantCulture), true),
                    ("GROSS", t => Output.Money(t.GrossSalesMinor, t.Currency), true), ("REFUNDS", t => Output.Money(t.RefundsMinor, t.Currency), true),
                    ("FEES", t => Output.Money(t.FeesMinor, t.Currency), true), ("NET PAYABLE", t => Output.Money(t.NetPayableMinor, t.Currency), true),
                    ("FUNDS", t => t.FundStatus, false));
            }
        }));
        return new Command("recon", "Reconciliation files") { download };
    }

    private static void PrintOrder(ParseResult result, Order order)
    {
        List<(string, string?)> fields =
        [
            ("order", order.OrderId), ("status", order.Status), ("amount", Output.Money(order.AmountMinor, order.Currency)),
            ("paid", Output.Money(order.PaidMinor, order.Currency)), ("refunded", Output.Money(order.RefundedMinor, order.Currency)),
            ("response code", order.ResponseCode), ("card", order.MaskedPan), ("version", order.Version.ToString(CultureInfo.InvariantCulture)),
            ("pay at", order.PayUrl?.ToString()),
        ];
        if (order.RiskRefusal is not null)
        {
            fields.Insert(6, ("refused by risk control", order.RiskRefusal));
        }
        if (order.CaptureMode == "hold")
        {
            fields.Add(("held", Output.Money(order.HeldMinor, order.Currency)));
            fields.Add(("captured", Output.Money(order.CapturedMinor, order.Currency)));
            fields.Add(("hold expires (UTC)", order.HoldExpiresAt?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)));
        }
        new Output(Console.Out, result.GetValue(Json)).Record(order, fields);
    }

    /// <summary>Runs a call to the platform and maps its failures to exit codes, with the reason on standard error.</summary>
    private static async Task<int> Call(ParseResult result, Func<NetPayClient, Task> call)
    {
        try
        {
            using var client = Client(result);
            await call(client);
            return 0;
        }
        catch (NetPayException ex)
        {
            Console.Error.WriteLine(ex.Code is null ? ex.Message : $"{ex.Message} [code {ex.Code}]");
            return ex.Status == 0 ? Untrusted : Refused;
        }
        catch (HttpRequestException ex)
        {
            Console.Error.WriteLine($"no answer from {result.GetValue(Gateway)}: {ex.Message}");
            return Unreachable;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or CryptographicException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }

    private static NetPayClient Client(ParseResult result) => new(new NetPayClientOptions
    {
        GatewayUrl = result.GetValue(Gateway)!,
        MerchantId = result.GetValue(MerchantId)!,
        Key = LoadKey(result),
        PlatformCertificatePem = result.GetValue(PlatformCert) is { } cert ? File.ReadAllText(cert.FullName) : null,
        SealRequests = result.GetValue(Seal),
    });

    private static MerchantKey LoadKey(ParseResult result) =>
        result.GetValue(Key) is { Exists: true } file
            ? MerchantKey.FromPem(File.ReadAllText(file.FullName))
            : throw new ArgumentException("--key (or NETPAY_KEY) names the merchant's private key file");

    private static Dictionary<string, string?> ReadFields(ParseResult result)
    {
        var text = result.GetValue(Input) is { } file ? File.ReadAllText(file.FullName) : Console.In.ReadToEnd();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string?>>(text) ?? throw new FormatException("no JSON object");
        }
        catch (JsonException ex)
        {
            throw new FormatException("the input is not a JSON object of string fields: " + ex.Message);
        }
    }

    private static DateTimeOffset Utc(DateTimeOffset at) => at.Offset == TimeSpan.Zero ? at : new DateTimeOffset(at.DateTime, TimeSpan.Zero);

    private static string NewOrderId() => DateTime.UtcNow.ToString("yyMMddHHmmss", CultureInfo.InvariantCulture) + RandomNumberGenerator.GetInt32(1_000_000).ToString("D6", CultureInfo.InvariantCulture);
}
