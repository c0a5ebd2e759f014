using System.Diagnostics;
using System.Globalization;
using Mesh.Iso8583.Channel;
using Mesh.Iso8583.Messages;
using Mesh.Iso8583.Packaging;

namespace Mesh.Testing;

/// <summary>What a campaign found: counts, and the first failures with the seed and case that replay them.</summary>
public sealed record IsoFuzzReport(long Cases, long Unpacked, long FormatErrors, long Frames, long FramingRefusals, double SlowestCaseMs,
    long ManagedBytesGrowth, IReadOnlyList<string> Failures)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Cases:N0} cases: {Unpacked:N0} unpacked, {FormatErrors:N0} format errors (answered 30); {Frames:N0} frames read, {FramingRefusals:N0} refused; "
        + $"slowest case {SlowestCaseMs:F2} ms; managed memory grew {ManagedBytesGrowth / 1024:N0} KiB; failures {Failures.Count}");
}

/// <summary>
/// Random and mutated ISO 8583 input against the packager's unpacking, the format-error answer a
/// server builds from what it could read, and the channel's framing: no exception may escape
/// (framing may refuse with its own IOException), no case may take long, memory stays bounded.
/// Seeded: a failure names its seed and case index, and <see cref="Case"/> rebuilds its input.
/// </summary>
public sealed class IsoFuzzCampaign(int seed)
{
    /// <summary>A case slower than this counts as a hang.</summary>
    public const double CaseMsMax = 250;

    private const int FailuresKept = 20;
    private static readonly IsoPackager Packager = new(IsoDialect.UnionPay1987);
    private readonly byte[][] _corpus = Corpus();

    public IsoFuzzReport Run(long cases, Action<long>? progress = null)
    {
        long unpacked = 0, formatErrors = 0, frames = 0, refusals = 0;
        double slowest = 0;
        var failures = new List<string>();
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (long i = 0; i < cases; i++)
        {
            var input = Case(i);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = Packager.Unpack(input);
                if (result.Ok)
                {
                    unpacked++;
                    _ = Packager.Pack(result.Message!);
                }
                else
                {
                    formatErrors++;
                    if (result.Error is null)
                    {
                        throw new InvalidOperationException("neither a message nor a format error");
                    }
                    _ = IsoServer.FormatErrorAnswer(result.Partial) is { } answer ? Packager.Pack(answer) : null;
                }
                (frames, refusals) = ReadFrames(input, frames, refusals);
            }
            catch (Exception ex) when (failures.Count < FailuresKept)
            {
                failures.Add($"seed {seed} case {i}: {ex.GetType().Name}: {ex.Message} input {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 64)))}");
            }
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            slowest = Math.Max(slowest, ms);
            if (ms > CaseMsMax && failures.Count < FailuresKept)
            {
                failures.Add($"seed {seed} case {i}: took {ms:F0} ms");
            }
            if (i % 100_000 == 0)
            {
                progress?.Invoke(i);
            }
        }
        var growth = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        return new IsoFuzzReport(cases, unpacked, formatErrors, frames, refusals, slowest, growth, failures);
    }

    /// <summary>The input of case <paramref name="index"/>: a corpus message mutated by a generator seeded from the campaign's seed and the index.</summary>
    public byte[] Case(long index)
    {
        var random = new Random(HashCode.Combine(seed, index));
        var input = _corpus[random.Next(_corpus.Length)].ToList();
        var mutations = random.Next(1, 5);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(9))
            {
                case 0 when input.Count > 0: // flip a bit
                    var at = random.Next(input.Count);
                    input[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when input.Count > 0: // any byte
                    input[random.Next(input.Count)] = (byte)random.Next(256);
                    break;
                case 2: // insert bytes
                    input.InsertRange(random.Next(input.Count + 1), Bytes(random, random.Next(1, 40)));
                    break;
                case 3 when input.Count > 1: // delete a range
                    var from = random.Next(input.Count);
                    input.RemoveRange(from, random.Next(1, Math.Min(40, input.Count - from) + 1));
                    break;
                case 4: // cut short
                    input = input.Take(random.Next(input.Count + 1)).ToList();
                    break;
                case 5 when input.Count > 4: // a length prefix of digits, too long or not digits
                    var digits = random.Next(input.Count - 3);
                    foreach (var (offset, digit) in (random.Next(3) switch { 0 => "999", 1 => "000", _ => "9Z9" }).Select((c, k) => (k, c)))
                    {
                        input[digits + offset] = (byte)digit;
                    }
                    break;
                case 6: // a chunk of another message spliced in
                    var other = _corpus[random.Next(_corpus.Length)];
                    var start = random.Next(other.Length);
                    input.InsertRange(random.Next(input.Count + 1), other.Skip(start).Take(random.Next(1, other.Length - start + 1)));
                    break;
                case 7 when input.Count > 20: // every bit of the primary bitmap set
                    for (var b = 4; b < 12 && b < input.Count; b++)
                    {
                        input[b] = 0xFF;
                    }
                    break;
                default: // random bytes altogether
                    input = Bytes(random, random.Next(0, 300)).ToList();
                    break;
            }
        }
        return [.. input.Take(IsoPackager.MessageBytesMax + 64)];
    }

    /// <summary>The input as a byte stream of frames: read until it ends or framing refuses it.</summary>
    private static (long Frames, long Refusals) ReadFrames(byte[] input, long frames, long refusals)
    {
        using var stream = new MemoryStream(input, writable: false);
        try
        {
            for (var read = 0; read < 64; read++)
            {
                if (IsoFraming.ReadFrameAsync(stream, CancellationToken.None).AsTask().GetAwaiter().GetResult() is null)
                {
                    break;
                }
                frames++;
            }
        }
        catch (IsoFramingException)
        {
            refusals++;
        }
        return (frames, refusals);
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Valid messages of each kind the link carries, packed, and framed.</summary>
    private static byte[][] Corpus()
    {
        var purchase = new IsoMessage("0200")
            .Set(IsoFields.Pan, "6222021234567890").Set(IsoFields.ProcessingCode, "000000").Set(IsoFields.AmountTransaction, "000000012345")
            .Set(IsoFields.TransmissionDateTime, "1126083000").Set(IsoFields.Stan, "000123").Set(IsoFields.ExpiryDate, "3012")
            .Set(IsoFields.MerchantType, "5411").Set(IsoFields.PosEntryMode, "012").Set(IsoFields.PosConditionCode, "00")
            .Set(IsoFields.AcquirerId, "08010000").Set(IsoFields.Rrn, "261126000123").Set(IsoFields.TerminalId, "MESHWEB1")
            .Set(IsoFields.MerchantId, "808080000000001").Set(IsoFields.Currency, "156").Set(IsoFields.AdditionalData, "order 42")
            .SetBinary(IsoFields.PinBlock, new byte[8]).SetBinary(IsoFields.Mac, new byte[8]);
        var answer = IsoMessage.AnswerTo(purchase, "00", [IsoFields.ProcessingCode, IsoFields.AmountTransaction, IsoFields.Stan, IsoFields.Rrn])
            .Set(IsoFields.AuthCode, "A1B2C3");
        var reversal = new IsoMessage("0420").Set(IsoFields.Pan, "6217001234567894").Set(IsoFields.AmountTransaction, "000000000100")
            .Set(IsoFields.Stan, "000124").Set(IsoFields.TransmissionDateTime, "1126083001")
            .Set(IsoFields.OriginalDataElements, "020000012311260830000000801000000000000000");
        var echo = new IsoMessage("0800").Set(IsoFields.TransmissionDateTime, "1126083002").Set(IsoFields.Stan, "000125")
            .Set(IsoFields.NetworkManagementCode, "301");
        var packed = new[] { purchase, answer, reversal, echo }.Select(m => Packager.Pack(m)).ToArray();
        return [.. packed, .. packed.Select(p => IsoFraming.Frame(p))];
    }
}
