using BenchmarkDotNet.Attributes;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Benchmarks.Iso8583;

/// <summary>Pack and unpack of a typical 0200 purchase (with PIN block, MAC and trace context), on one core.</summary>
[MemoryDiagnoser]
public class PackagerBenchmarks
{
    private readonly IsoPackager _packager = new(IsoDialect.UnionPay1987);
    private IsoMessage _purchase = null!;
    private byte[] _packed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _purchase = new IsoMessage("0200")
            .Set(IsoFields.Pan, "6222021234567890128")
            .Set(IsoFields.ProcessingCode, "000000")
            .Set(IsoFields.AmountTransaction, "000000012345")
            .Set(IsoFields.TransmissionDateTime, "1126093015")
            .Set(IsoFields.Stan, "123456")
            .Set(IsoFields.LocalTime, "173015")
            .Set(IsoFields.LocalDate, "1126")
            .Set(IsoFields.ExpiryDate, "2912")
            .Set(IsoFields.MerchantType, "5411")
            .Set(IsoFields.PosEntryMode, "012")
            .Set(IsoFields.PosConditionCode, "00")
            .Set(IsoFields.AcquirerId, "08010000")
            .Set(IsoFields.ForwardingId, "00010000")
            .Set(IsoFields.Rrn, "332609301512")
            .Set(IsoFields.TerminalId, "NETPAY01")
            .Set(IsoFields.MerchantId, "808080000000001")
            .Set(IsoFields.Currency, "156")
            .SetBinary(IsoFields.PinBlock, [0x04, 0x12, 0x77, 0xCD, 0xDE, 0xEF, 0xF6, 0x69])
            .Set(IsoFields.TraceContext, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .SetBinary(IsoFields.Mac, [1, 2, 3, 4, 5, 6, 7, 8]);
        _packed = _packager.Pack(_purchase);
    }

    [Benchmark]
    public byte[] Pack() => _packager.Pack(_purchase);

    [Benchmark]
    public IsoMessage? Unpack() => _packager.Unpack(_packed).Message;

    [Benchmark]
    public IsoMessage? PackThenUnpack() => _packager.Unpack(_packager.Pack(_purchase)).Message;
}
