using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;

namespace Mesh.Load;

/// <summary>The credit cards of the mix, as a developer finds them: ICBC's published test cards and the cardholder's inbox, with the operator's credential.</summary>
public static class CreditShare
{
    private const string Bank = "issuer-icbc";
    private static readonly TimeSpan CodeWaitMax = TimeSpan.FromSeconds(10);

    public static async Task<CreditCards> ReadAsync(DistributedApplication app, int percent)
    {
        using var bank = await app.CreateCallerHttpClientAsync(Bank);
        var cards = (await bank.GetFromJsonAsync<List<JsonElement>>("/admin/test-cards"))!
            .Where(c => c.GetProperty("product").GetString() == "credit" && c.GetProperty("outcome").GetString() is "Approved" or "OneTimeCode")
            .ToDictionary(c => c.GetProperty("otpRequired").GetBoolean(), c => (c.GetProperty("pan").GetString()!, c.GetProperty("cvv2").GetString()!));
        var inbox = await app.CreateCallerHttpClientAsync(Bank);
        return new CreditCards(percent, cards[false], cards[true], async (pan, amountMinor) =>
        {
            var deadline = DateTime.UtcNow + CodeWaitMax;
            while (DateTime.UtcNow < deadline)
            {
                var messages = (await inbox.GetFromJsonAsync<List<JsonElement>>($"/admin/inbox?card={Uri.EscapeDataString(Mesh.Iso8583.Messages.Pan.Mask(pan))}"))!;
                // The newest message for this amount: the codes of purchases in flight at once are told apart by trying the newest.
                if (messages.FirstOrDefault(m => m.GetProperty("amountMinor").GetInt64() == amountMinor) is { ValueKind: JsonValueKind.Object } message)
                {
                    return message.GetProperty("code").GetString()!;
                }
                await Task.Delay(50);
            }
            throw new LoadException("no one-time code", pan);
        });
    }
}
