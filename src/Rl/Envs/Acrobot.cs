// Acrobot: Gymnasium's Acrobot-v1 physics (Sutton 1996; two-link underactuated pendulum, RK4), float64 state, float32 observations.
namespace Tiny.Rl;

/// <summary>Which equations of motion <see cref="Acrobot"/> integrates (Gymnasium's <c>book_or_nips</c>).</summary>
public enum AcrobotDynamics
{
    /// <summary>Sutton and Barto's book and the Java implementation (Gymnasium's default): ddtheta2 includes the
    /// -m2*l1*lc2*dtheta1^2*sin(theta2) term.</summary>
    Book,
    /// <summary>The NIPS 1996 paper's equations: the same without that term.</summary>
    Nips,
}

/// <summary>
/// Acrobot-v1 with Gymnasium's dynamics, operation for operation: torque -1, 0 or +1 (actions 0, 1, 2) on the joint
/// between the links; one RK4 step of 0.2 s per action; then theta1 and theta2 are wrapped into [-pi, pi] and the
/// velocities bounded to [-4pi, 4pi] and [-9pi, 9pi]. State [theta1, theta2, dtheta1, dtheta2] in float64 (theta1 = 0
/// hangs down, theta2 relative to link 1); observation [cos theta1, sin theta1, cos theta2, sin theta2, dtheta1,
/// dtheta2] as float32. Terminated when the tip is above the bar, -cos(theta1) - cos(theta2 + theta1) &gt; 1; reward -1
/// per step and 0 on the terminating one. No step limit here: <see cref="Env.Make"/> adds TimeLimit(500).
/// Gymnasium uses NumPy's SIMD sin/cos, which differ from libm (Math.Sin/Cos) by 1-3 ulp on most inputs, so states
/// agree with Gymnasium to ~1e-13 relative per step (growing with the motion's chaos), not bit for bit.
/// </summary>
public sealed class Acrobot : Env
{
    /// <summary>Seconds per step (one RK4 step).</summary>
    public const double Dt = 0.2;
    /// <summary>Length of link 1 (m).</summary>
    public const double LinkLength1 = 1.0;
    /// <summary>Length of link 2 (m).</summary>
    public const double LinkLength2 = 1.0;
    /// <summary>Mass of link 1 (kg).</summary>
    public const double LinkMass1 = 1.0;
    /// <summary>Mass of link 2 (kg).</summary>
    public const double LinkMass2 = 1.0;
    /// <summary>Position of link 1's centre of mass along it (m).</summary>
    public const double LinkComPos1 = 0.5;
    /// <summary>Position of link 2's centre of mass along it (m).</summary>
    public const double LinkComPos2 = 0.5;
    /// <summary>Moment of inertia of either link.</summary>
    public const double LinkMoi = 1.0;
    /// <summary>Gravity (m/s^2).</summary>
    public const double Gravity = 9.8;
    /// <summary>Largest |dtheta1| (4 pi).</summary>
    public const double MaxVel1 = 4 * Math.PI;
    /// <summary>Largest |dtheta2| (9 pi).</summary>
    public const double MaxVel2 = 9 * Math.PI;

    private static readonly double[] AvailTorque = [-1.0, 0.0, 1.0];

    private static readonly Box ObsSpace = new(
        [-1f, -1f, -1f, -1f, -(float)MaxVel1, -(float)MaxVel2], [1f, 1f, 1f, 1f, (float)MaxVel1, (float)MaxVel2], [6]);
    private static readonly Discrete ActSpace = new(3);

    private double[]? _state;

    /// <summary>Creates the env with the given equations of motion (Gymnasium's default: book).</summary>
    public Acrobot(AcrobotDynamics dynamics = AcrobotDynamics.Book) : base("Acrobot-v1")
    {
        if (!Enum.IsDefined(dynamics)) throw new ArgumentOutOfRangeException(nameof(dynamics), dynamics, "Acrobot-v1: dynamics must be Book or Nips");
        Dynamics = dynamics;
    }

    /// <summary>The equations of motion integrated.</summary>
    public AcrobotDynamics Dynamics { get; }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => ActSpace;

    /// <summary>The float64 state [theta1, theta2, dtheta1, dtheta2] (a copy); settable, e.g. to replay a recorded
    /// trajectory. Any finite values are accepted (Gymnasium does not wrap a state it is given until the next step).</summary>
    public double[] State
    {
        get => _state is null ? throw new InvalidOperationException("Acrobot-v1: no state before the first Reset") : (double[])_state.Clone();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 4) throw new ArgumentException($"Acrobot-v1: the state has 4 elements, got {value.Length}", nameof(value));
            _state = (double[])value.Clone();
        }
    }

    /// <summary>The observation of the current state (float32).</summary>
    public float[] GetObservation()
    {
        var s = _state ?? throw new InvalidOperationException("Acrobot-v1: call Reset before GetObservation");
        return [(float)Math.Cos(s[0]), (float)Math.Sin(s[0]), (float)Math.Cos(s[1]), (float)Math.Sin(s[1]), (float)s[2], (float)s[3]];
    }

    /// <summary>Starts an episode: each state variable ~ U(-0.1, 0.1), rounded to float32 as Gymnasium's
    /// <c>.astype(np.float32)</c> does (the first step then computes in float64 from those values).</summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _state = new double[4];
        for (int i = 0; i < 4; i++) _state[i] = (float)Rng.Uniform(-0.1, 0.1);
        return GetObservation();
    }

    /// <inheritdoc/>
    public override StepResult Step(int action)
    {
        if (!ActSpace.Contains(action)) throw new ArgumentException($"Acrobot-v1: action {action} is not in {ActSpace}", nameof(action));
        var s = _state ?? throw new InvalidOperationException("Acrobot-v1: call Reset before Step");
        double torque = AvailTorque[action];     // torque_noise_max = 0 in Gymnasium: no noise, no random draw

        // Gymnasium's rk4(self._dsdt, [s..., torque], [0, dt]): dt = t[1] - t[0], dt2 = dt / 2.0,
        // k1 = f(y0), k2 = f(y0 + dt2*k1), k3 = f(y0 + dt2*k2), k4 = f(y0 + dt*k3),
        // y = y0 + dt/6.0 * (k1 + 2*k2 + 2*k3 + k4), summed left to right. The torque's derivative is 0, so it stays.
        const double dt = Dt - 0.0, dt2 = dt / 2.0;
        Span<double> y0 = [s[0], s[1], s[2], s[3]];
        Span<double> k1 = stackalloc double[4], k2 = stackalloc double[4], k3 = stackalloc double[4], k4 = stackalloc double[4];
        Span<double> y = stackalloc double[4];
        Dsdt(y0, torque, k1);
        for (int i = 0; i < 4; i++) y[i] = y0[i] + dt2 * k1[i];
        Dsdt(y, torque, k2);
        for (int i = 0; i < 4; i++) y[i] = y0[i] + dt2 * k2[i];
        Dsdt(y, torque, k3);
        for (int i = 0; i < 4; i++) y[i] = y0[i] + dt * k3[i];
        Dsdt(y, torque, k4);
        for (int i = 0; i < 4; i++) s[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);

        // After the whole RK4 step (never inside it): wrap the angles, bound the velocities.
        s[0] = Wrap(s[0], -Math.PI, Math.PI);
        s[1] = Wrap(s[1], -Math.PI, Math.PI);
        s[2] = Bound(s[2], -MaxVel1, MaxVel1);
        s[3] = Bound(s[3], -MaxVel2, MaxVel2);

        bool terminated = -Math.Cos(s[0]) - Math.Cos(s[1] + s[0]) > 1.0;
        return new StepResult(GetObservation(), terminated ? 0.0 : -1.0, terminated, false);
    }

    /// <summary>
    /// Gymnasium's <c>_dsdt</c>: the time derivative (dtheta1, dtheta2, ddtheta1, ddtheta2) of state y under torque a,
    /// with Python's evaluation order (left to right, ** before unary minus), squares as pow(x, 2) like NumPy's
    /// float64 ** int:
    /// d1 = m1 lc1^2 + m2 (l1^2 + lc2^2 + 2 l1 lc2 cos t2) + I1 + I2; d2 = m2 (lc2^2 + l1 lc2 cos t2) + I2;
    /// phi2 = m2 lc2 g cos(t1 + t2 - pi/2);
    /// phi1 = -m2 l1 lc2 w2^2 sin t2 - 2 m2 l1 lc2 w2 w1 sin t2 + (m1 lc1 + m2 l1) g cos(t1 - pi/2) + phi2;
    /// ddt2 = (a + d2/d1 phi1 [- m2 l1 lc2 w1^2 sin t2, book only] - phi2) / (m2 lc2^2 + I2 - d2^2/d1);
    /// ddt1 = -(d2 ddt2 + phi1) / d1.
    /// </summary>
    private void Dsdt(ReadOnlySpan<double> y, double a, Span<double> dy)
    {
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1, lc1 = LinkComPos1, lc2 = LinkComPos2;
        const double i1 = LinkMoi, i2 = LinkMoi, g = Gravity;
        double theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
        double cosT2 = Math.Cos(theta2), sinT2 = Math.Sin(theta2);
        double d1 = m1 * Sq(lc1) + m2 * (Sq(l1) + Sq(lc2) + 2 * l1 * lc2 * cosT2) + i1 + i2;
        double d2 = m2 * (Sq(lc2) + l1 * lc2 * cosT2) + i2;
        double phi2 = m2 * lc2 * g * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        double phi1 = -m2 * l1 * lc2 * Math.Pow(dtheta2, 2) * sinT2
                      - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinT2
                      + (m1 * lc1 + m2 * l1) * g * Math.Cos(theta1 - Math.PI / 2)
                      + phi2;
        double ddtheta2 = Dynamics == AcrobotDynamics.Nips
            ? (a + d2 / d1 * phi1 - phi2) / (m2 * Sq(lc2) + i2 - Math.Pow(d2, 2) / d1)
            : (a + d2 / d1 * phi1 - m2 * l1 * lc2 * Math.Pow(dtheta1, 2) * sinT2 - phi2) / (m2 * Sq(lc2) + i2 - Math.Pow(d2, 2) / d1);
        double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        dy[0] = dtheta1; dy[1] = dtheta2; dy[2] = ddtheta1; dy[3] = ddtheta2;
    }

    // Squares of the constants (exact: 1.0 and 0.5 square exactly, as Python's 0.5**2 does).
    private static double Sq(double x) => x * x;

    /// <summary>Gymnasium's <c>wrap</c>: shifts x by whole periods (hi - lo) until lo &lt;= x &lt;= hi, by repeated
    /// subtraction (not a modulo), so the result's rounding matches.</summary>
    public static double Wrap(double x, double lo, double hi)
    {
        double diff = hi - lo;
        while (x > hi) x -= diff;
        while (x < lo) x += diff;
        return x;
    }

    /// <summary>Gymnasium's <c>bound</c>: min(max(x, lo), hi).</summary>
    public static double Bound(double x, double lo, double hi) => Math.Min(Math.Max(x, lo), hi);

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        if (_state is not null) state["state"] = StateJson.Nums(_state);
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        _state = state.ContainsKey("state") ? StateJson.Doubles(state, "state") : null;
        if (_state is { Length: not 4 }) throw new InvalidDataException($"Acrobot-v1: the saved state has {_state.Length} values, not 4");
    }
}
