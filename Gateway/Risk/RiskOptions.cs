namespace Mesh.Gateway.Risk;

/// <summary>
/// The platform's velocity defaults per card, used until an operator sets them in the operator console (<c>/ops/risk</c>),
/// which stores them for every replica. A limit of 0 is off; both are off unless the deployment sets them.
/// </summary>
public sealed class RiskOptions
{
    public const string Section = "Risk";

    /// <summary>Attempts sent to the switch per card per window (declined ones count: that is what card testing does).</summary>
    public int VelocityAttemptsMax { get; set; }

    /// <summary>Amount approved or in flight per card per window, in minor units.</summary>
    public long VelocityAmountMinorMax { get; set; }

    /// <summary>The fixed window of the velocity counters.</summary>
    public int VelocityWindowMinutes { get; set; } = 60;

    public bool IsValid() =>
        VelocityAttemptsMax is >= 0 and <= RiskRules.AttemptsMaxLimit && VelocityAmountMinorMax is >= 0 and <= RiskRules.LimitMinorMax
        && VelocityWindowMinutes is > 0 and <= RiskRules.WindowMinutesMax;

    public VelocitySettings Defaults => new(VelocityAttemptsMax, VelocityAmountMinorMax, VelocityWindowMinutes);
}
