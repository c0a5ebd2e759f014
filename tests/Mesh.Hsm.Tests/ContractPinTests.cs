using Google.Protobuf.Reflection;
using Mesh.Contracts.Hsm;
using Mesh.Contracts.Switch;

namespace Mesh.Hsm.Tests;

/// <summary>
/// A PIN exists in clear only inside the Hsm: no gRPC contract has a field that could carry one
/// anywhere else. Every message each service sends or receives is walked, nested messages too.
/// </summary>
public sealed class ContractPinTests
{
    /// <summary>Field names that would hold a PIN or something that reveals it.</summary>
    private static readonly string[] PinWords = ["pin", "passcode", "password"];

    [Fact]
    public void TheSwitchAndSettlementContracts_HaveNoFieldThatCouldCarryAPin()
    {
        var fields = Fields(CardSwitch.Descriptor).Concat(Fields(Contracts.Settlement.Settlement.Descriptor)).ToList();

        Assert.NotEmpty(fields);
        Assert.DoesNotContain(fields, f => PinWords.Any(w => f.Name.Contains(w, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void TheHsmGivesNoPinBack_OnlyPinBlocksUnderAKey()
    {
        var replies = Contracts.Hsm.Hsm.Descriptor.Methods.Select(m => m.OutputType).Append(HsmResult.Descriptor);
        var pinFields = replies.SelectMany(Walk).SelectMany(m => m.Fields.InDeclarationOrder())
            .Where(f => f.Name.Contains("pin", StringComparison.OrdinalIgnoreCase)).ToList();

        // Encrypted PIN blocks (bytes) and verification results may leave; a PIN in characters never does.
        Assert.All(pinFields, f => Assert.True(f.FieldType is FieldType.Bytes or FieldType.Bool or FieldType.Enum or FieldType.Message,
            $"{f.ContainingType.Name}.{f.Name} is a {f.FieldType}: a PIN could leave the Hsm in it"));
        Assert.Contains(pinFields, f => f.Name == "pin_block" && f.FieldType == FieldType.Bytes);
    }

    [Fact]
    public void TheOnlyClearPinTheHsmTakes_IsThePinIssuanceCommand()
    {
        var requests = Contracts.Hsm.Hsm.Descriptor.Methods.Select(m => m.InputType).Append(HsmCommand.Descriptor);
        var clearPins = requests.SelectMany(Walk).SelectMany(m => m.Fields.InDeclarationOrder())
            .Where(f => f.FieldType == FieldType.String && PinWords.Any(w => f.Name.Contains(w, StringComparison.OrdinalIgnoreCase)))
            .Select(f => $"{f.ContainingType.Name}.{f.Name}").Distinct().ToList();

        Assert.Equal(["EncryptClearPinRequest.pin"], clearPins);
    }

    private static IEnumerable<FieldDescriptor> Fields(ServiceDescriptor service) =>
        service.Methods.SelectMany(m => new[] { m.InputType, m.OutputType }).SelectMany(Walk).SelectMany(m => m.Fields.InDeclarationOrder());

    /// <summary>A message and every message type reachable from its fields, each once.</summary>
    private static IEnumerable<MessageDescriptor> Walk(MessageDescriptor root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<MessageDescriptor>([root]);
        while (pending.TryPop(out var message))
        {
            if (!seen.Add(message.FullName))
            {
                continue;
            }
            yield return message;
            foreach (var field in message.Fields.InDeclarationOrder().Where(f => f.FieldType == FieldType.Message))
            {
                pending.Push(field.MessageType);
            }
        }
    }
}
