using System.Globalization;
using Mesh.Iso8583.Messages;
using Mesh.Switch.Reversals;
using Xunit.Abstractions;

namespace Mesh.Switch.Tests;

/// <summary>
/// The reversal-and-repeat protocol under a seeded simulation: fake time, a network that drops,
/// delays, duplicates and reorders in both directions, a bank that sometimes answers 96, and a
/// switch that crashes and restarts. The switch side applies the real rules
/// (<see cref="ReversalProtocol"/>: what settles an outcome, the 0420/0421 advice, what
/// acknowledges it, the back-off); the bank follows its documented rules (a repeat gets the first
/// answer, a reversal posts back once, a reversal before its original is remembered and the late
/// original refused). Thousands of runs take seconds; a failure names its seed, and
/// <c>MESH_SIM_SEED</c> replays it.
/// </summary>
public sealed class ReversalSimulationTests(ITestOutputHelper output)
{
    public const int Runs = 3_000;

    [Fact]
    public void UnderLossDelayDuplicationReorderingAndCrashes_EveryUnknownOutcomeIsReversedUntilAcknowledged_AndTheBankAgreesWithTheAcquirer()
    {
        output.WriteLine(SeededRuns.Run(Runs, seed =>
        {
            var run = new ReversalSimulation(seed);
            return (run.Run(), run.Counts);
        },
            "unknown outcomes", "advices repeated", "late answers", "duplicates delivered", "messages dropped", "switch crashes",
            "orphans swept", "reversals before their original", "approved"));
    }

    [Fact]
    public void TheSameSeed_ReplaysTheSameRun()
    {
        var first = new ReversalSimulation(20261127);
        var second = new ReversalSimulation(20261127);
        Assert.Empty(first.Run());
        Assert.Empty(second.Run());
        Assert.Equal(first.Counts, second.Counts);
        Assert.Equal(first.Trace, second.Trace);
    }
}

/// <summary>One seeded run: purchases through a switch to a bank over lossy links, then the invariants.</summary>
internal sealed class ReversalSimulation
{
    private const long TimeoutMs = 2_000;
    private const long PollMs = 200;
    private const long BackoffMsMax = 16_000;
    private const int BatchMax = 50;
    private const string Institution = "00010000";
    private const string BankId = "01020000";
    private const string AcquirerId = "08010000";
    private const long EndMs = 6 * 3_600_000;

    private readonly SimulatedWorld _world;
    private readonly LossyNetwork _toBank;
    private readonly LossyNetwork _toSwitch;
    private readonly double _malfunctionRate;
    private readonly SimulatedBank _bank;
    private readonly Dictionary<string, Purchase> _purchases = new(StringComparer.Ordinal);
    private readonly List<Advice> _advices = [];
    private readonly List<string> _broken = [];
    private int _incarnation;
    private bool _down;
    private bool _pollScheduled;

    public ReversalSimulation(int seed)
    {
        _world = new SimulatedWorld(seed);
        var drop = _world.Between(0, 0.3);
        var duplicate = _world.Between(0, 0.2);
        var delayMax = (long)_world.Between(50, 3 * TimeoutMs);
        _toBank = new LossyNetwork(_world, drop, duplicate, delayMax);
        _toSwitch = new LossyNetwork(_world, drop, duplicate, delayMax);
        _malfunctionRate = _world.Between(0, 0.1);
        _bank = new SimulatedBank(_world, _malfunctionRate);
    }

    public Dictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

    /// <summary>What happened, in order: two runs of one seed give the same trace.</summary>
    public List<string> Trace { get; } = [];

    private sealed class Purchase(string stan, long amountMinor, int incarnation, long claimedMs)
    {
        public string Stan { get; } = stan;
        public long AmountMinor { get; } = amountMinor;
        public int Incarnation { get; } = incarnation;
        public long ClaimedMs { get; } = claimedMs;
        public string? Outcome { get; set; }
    }

    private sealed class Advice(PendingAdvice pending)
    {
        public PendingAdvice Pending { get; set; } = pending;
        public long NextMs { get; set; }
        public bool Acknowledged { get; set; }
        public int? InFlightAttempt { get; set; }
        public IsoMessage? InFlight { get; set; }
        public List<(long AtMs, string Mti, int Attempt)> Sent { get; } = [];
        public List<(long AtMs, int Attempt)> Failed { get; } = [];
    }

    public List<string> Run()
    {
        var purchases = _world.Random.Next(5, 30);
        for (var i = 0; i < purchases; i++)
        {
            var stan = (i + 1).ToString("D6", CultureInfo.InvariantCulture);
            var amount = _world.Random.NextInt64(1, 100_000);
            _world.At(_world.Random.NextInt64(0, 20_000), () => Authorize(stan, amount));
        }
        for (var crashes = _world.Random.Next(0, 3); crashes > 0; crashes--)
        {
            _world.At(_world.Random.NextInt64(0, 25_000), Crash);
        }
        SchedulePoll(PollMs);
        _world.Run(Settled, EndMs, eventsMax: 1_000_000);
        Check();
        return _broken;
    }

    private void Count(string name, long by = 1) => Counts[name] = Counts.GetValueOrDefault(name) + by;

    private void Log(string what) => Trace.Add($"{_world.NowMs} {what}");

    private bool Settled() =>
        _world.NowMs > 30_000 && !_down && _purchases.Values.All(p => p.Outcome is not null) && _advices.All(a => a.Acknowledged);

    private void Authorize(string stan, long amountMinor)
    {
        if (_down)
        {
            Count("refused while the switch was down");
            return;
        }
        var purchase = new Purchase(stan, amountMinor, _incarnation, _world.NowMs);
        _purchases[stan] = purchase;
        var request = new IsoMessage("0200")
            .Set(IsoFields.ProcessingCode, "000000")
            .Set(IsoFields.AmountTransaction, amountMinor.ToString("D12", CultureInfo.InvariantCulture))
            .Set(IsoFields.TransmissionDateTime, "1127000000")
            .Set(IsoFields.Stan, stan)
            .Set(IsoFields.AcquirerId, AcquirerId)
            .Set(IsoFields.Currency, "156");
        Log($"0200 {stan} sent");
        _toBank.Send(() => _bank.Handle(request, answer => _toSwitch.Send(() => Answered(answer))));
        var incarnation = _incarnation;
        _world.After(TimeoutMs, () =>
        {
            if (purchase.Outcome is null && incarnation == _incarnation && !_down)
            {
                Unknown(purchase, "no answer in time");
            }
        });
    }

    private void Unknown(Purchase purchase, string reason)
    {
        purchase.Outcome = ResponseCodes.IssuerUnavailable;
        Count("unknown outcomes");
        Log($"0200 {purchase.Stan} unknown ({reason}): 91, reversal queued");
        _advices.Add(new Advice(new PendingAdvice(_advices.Count + 1, "bank", AcquirerId, purchase.Stan, "1127000000", purchase.AmountMinor, "000000", "156",
            0, ReversalProtocol.AdviceFor("0200"), "0200", null))
        { NextMs = _world.NowMs });
    }

    private void Answered(IsoMessage answer)
    {
        if (_down)
        {
            Count("answers lost to a crash");
            return;
        }
        var stan = answer.GetString(IsoFields.Stan)!;
        if (answer.Mti == "0210")
        {
            var purchase = _purchases[stan];
            if (purchase.Outcome is not null || purchase.Incarnation != _incarnation)
            {
                Count("late answers");
                return;
            }
            var code = answer.GetString(IsoFields.ResponseCode);
            if (ReversalProtocol.SettlesTheOutcome(code, macValid: true))
            {
                purchase.Outcome = code;
                Count(code == ResponseCodes.Approved ? "approved" : "declined");
                Log($"0210 {stan} {code}");
            }
            else
            {
                Unknown(purchase, $"answer {code}");
            }
            return;
        }
        var advice = _advices.Single(a => a.Pending.Stan == stan);
        if (advice.InFlight is not { } sent || answer.GetString(IsoFields.ResponseCode) is null)
        {
            Count("late answers");
            return;
        }
        var attempt = advice.InFlightAttempt;
        if (ReversalProtocol.Acknowledgement(sent, answer, macValid: true) is not null)
        {
            advice.Acknowledged = true;
            advice.InFlight = null;
            Log($"{answer.Mti} {stan} acknowledged on attempt {attempt}");
        }
        else
        {
            Failed(advice);
        }
    }

    private void Failed(Advice advice)
    {
        advice.InFlight = null;
        advice.Pending = advice.Pending with { Attempts = advice.Pending.Attempts + 1 };
        advice.Failed.Add((_world.NowMs, advice.Pending.Attempts));
        advice.NextMs = _world.NowMs + ReversalProtocol.BackoffMs(advice.Pending.Attempts, BackoffMsMax);
        Log($"advice {advice.Pending.Stan} attempt {advice.Pending.Attempts} failed; next at {advice.NextMs}");
    }

    private void Crash()
    {
        if (_down)
        {
            return;
        }
        _down = true;
        _incarnation++;
        Count("switch crashes");
        Log("switch killed");
        foreach (var advice in _advices.Where(a => a.InFlight is not null))
        {
            // The pass's transaction never committed: the attempt is not counted, the advice is due again.
            advice.InFlight = null;
        }
        _world.After(_world.Random.NextInt64(500, 5_000), () =>
        {
            _down = false;
            Log("switch started");
        });
    }

    private void SchedulePoll(long delayMs)
    {
        if (!_pollScheduled)
        {
            _pollScheduled = true;
            _world.After(delayMs, Poll);
        }
    }

    /// <summary>One pass of the queue: sweep requests a stopped switch left unanswered, send the advices that are due.</summary>
    private void Poll()
    {
        _pollScheduled = false;
        if (!_down)
        {
            foreach (var orphan in _purchases.Values.Where(p =>
                         p.Outcome is null && p.Incarnation != _incarnation && p.ClaimedMs < _world.NowMs - (3 * TimeoutMs)))
            {
                Count("orphans swept");
                Unknown(orphan, "claimed but never answered: the switch stopped");
            }
            foreach (var advice in _advices.Where(a => !a.Acknowledged && a.InFlight is null && a.NextMs <= _world.NowMs).Take(BatchMax).ToList())
            {
                Send(advice);
            }
        }
        if (Settled())
        {
            return;
        }
        // Nothing happens on an empty pass: the next one that can do something is the next poll after the earliest due advice or orphan.
        var next = _advices.Where(a => !a.Acknowledged && a.InFlight is null).Select(a => a.NextMs)
            .Concat(_purchases.Values.Where(p => p.Outcome is null).Select(p => p.ClaimedMs + (3 * TimeoutMs) + 1))
            .DefaultIfEmpty(_world.NowMs + PollMs).Min();
        SchedulePoll(Math.Max(PollMs, next - _world.NowMs));
    }

    private void Send(Advice advice)
    {
        var message = ReversalProtocol.Message(advice.Pending, Institution, BankId);
        advice.InFlight = message;
        var attempt = advice.InFlightAttempt = advice.Pending.Attempts + 1;
        advice.Sent.Add((_world.NowMs, message.Mti, attempt.Value));
        if (advice.Pending.Attempts > 0)
        {
            Count("advices repeated");
        }
        Log($"{message.Mti} {advice.Pending.Stan} attempt {attempt}");
        _toBank.Send(() => _bank.Handle(message, answer => _toSwitch.Send(() => Answered(answer))));
        var incarnation = _incarnation;
        _world.After(TimeoutMs, () =>
        {
            if (advice.InFlight == message && advice.InFlightAttempt == attempt && incarnation == _incarnation && !_down)
            {
                Failed(advice);
            }
        });
    }

    private void Check()
    {
        Count("messages dropped", _toBank.Dropped + _toSwitch.Dropped);
        Count("duplicates delivered", _toBank.Duplicated + _toSwitch.Duplicated);
        Count("reversals before their original", _bank.ReversedBeforeOriginal);
        if (!Settled())
        {
            _broken.Add($"not settled after {EndMs / 3_600_000} h: {_purchases.Values.Count(p => p.Outcome is null)} unanswered, "
                + $"{_advices.Count(a => !a.Acknowledged)} advices unacknowledged");
        }
        foreach (var purchase in _purchases.Values)
        {
            var net = _bank.NetMinor(purchase.Stan);
            var expected = purchase.Outcome == ResponseCodes.Approved ? -purchase.AmountMinor : 0;
            if (net != expected)
            {
                _broken.Add($"STAN {purchase.Stan}: the acquirer was told {purchase.Outcome}, the bank's postings net {net} (expected {expected})");
            }
            if (_bank.Debits(purchase.Stan) > 1)
            {
                _broken.Add($"STAN {purchase.Stan} debited {_bank.Debits(purchase.Stan)} times");
            }
        }
        foreach (var advice in _advices)
        {
            // A pass that dies with its advice in flight never counted the attempt: that attempt is sent again, as itself.
            if (advice.Sent.Count == 0 || advice.Sent.Any(x => x.Mti != (x.Attempt == 1 ? "0420" : "0421")))
            {
                _broken.Add($"advice {advice.Pending.Stan} was sent as {string.Join(' ', advice.Sent.Select(x => $"{x.Mti}#{x.Attempt}"))}: 0420 first, then 0421");
            }
            foreach (var (failedAtMs, attempt) in advice.Failed)
            {
                var earliest = failedAtMs + ReversalProtocol.BackoffMs(attempt, BackoffMsMax);
                foreach (var early in advice.Sent.Where(x => x.Attempt == attempt + 1 && x.AtMs < earliest))
                {
                    _broken.Add($"advice {advice.Pending.Stan} attempt {early.Attempt} at {early.AtMs} ms, before its back-off ended at {earliest} ms");
                }
            }
        }
        Count("purchases", _purchases.Count);
        Count("advices", _advices.Count);
    }
}

/// <summary>
/// The bank's documented rules, as the issuer simulator applies them: a request seen before gets
/// its first answer; a reversal posts back what the original posted, once; a reversal for a request
/// never seen is acknowledged and remembered, so the late original is refused (12); sometimes the
/// bank answers 96 without deciding anything.
/// </summary>
internal sealed class SimulatedBank(SimulatedWorld world, double malfunctionRate)
{
    private static readonly int[] Echoed = [IsoFields.ProcessingCode, IsoFields.AmountTransaction, IsoFields.TransmissionDateTime, IsoFields.Stan,
        IsoFields.AcquirerId, IsoFields.Currency];

    private readonly Dictionary<string, string> _decisions = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reversed = new(StringComparer.Ordinal);
    private readonly List<(string Stan, long DeltaMinor)> _postings = [];

    public long ReversedBeforeOriginal { get; private set; }

    public long NetMinor(string stan) => _postings.Where(p => p.Stan == stan).Sum(p => p.DeltaMinor);

    public int Debits(string stan) => _postings.Count(p => p.Stan == stan && p.DeltaMinor < 0);

    public void Handle(IsoMessage request, Action<IsoMessage> answer)
    {
        var stan = request.GetString(IsoFields.Stan)!;
        var amount = long.Parse(request.GetString(IsoFields.AmountTransaction)!, CultureInfo.InvariantCulture);
        if (world.Chance(malfunctionRate))
        {
            answer(IsoMessage.AnswerTo(request, ResponseCodes.SystemMalfunction, Echoed));
            return;
        }
        if (request.Mti == "0200")
        {
            if (!_decisions.TryGetValue(stan, out var code))
            {
                code = world.Chance(0.8) ? ResponseCodes.Approved : "51";
                _decisions[stan] = code;
                if (code == ResponseCodes.Approved)
                {
                    _postings.Add((stan, -amount));
                }
            }
            answer(IsoMessage.AnswerTo(request, code, Echoed));
            return;
        }
        // 0420 or 0421
        if (!_decisions.TryGetValue(stan, out var decided))
        {
            _decisions[stan] = "12";
            ReversedBeforeOriginal++;
        }
        else if (decided == ResponseCodes.Approved && !_reversed.Contains(stan))
        {
            _postings.Add((stan, amount));
        }
        _reversed.Add(stan);
        answer(IsoMessage.AnswerTo(request, ResponseCodes.Approved, Echoed));
    }
}
