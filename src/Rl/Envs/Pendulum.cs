// Pendulum: Gymnasium's Pendulum-v1 physics (swing up and balance an inverted pendulum with a torque in [-2, 2]).
namespace Tiny.Rl;

/// <summary>
/// Pendulum-v1 with Gymnasium's dynamics, operation for operation. Action [torque], clipped to [-2, 2]; observation
/// [cos theta, sin theta, theta_dot] as float32; state [theta, theta_dot] in float64, theta never wrapped. Reward
/// -(angle_normalize(theta)^2 + 0.1*theta_dot^2 + 0.001*u^2) from the state before the step. Never terminates:
/// <see cref="Env.Make"/> adds TimeLimit(200). The torque is used in float64 (Gymnasium keeps a float32 action
/// float32 in 3*u and 0.001*u^2; the two agree to ~1e-10 and exactly for torques like 2 or 0.5).
/// </summary>
public sealed class Pendulum : Env
{
    /// <summary>Largest |theta_dot|.</summary>
    public const double MaxSpeed = 8.0;
    /// <summary>Largest |torque|.</summary>
    public const double MaxTorque = 2.0;
    /// <summary>Seconds per step.</summary>
    public const double Dt = 0.05;
    /// <summary>Pendulum mass.</summary>
    public const double M = 1.0;
    /// <summary>Pendulum length.</summary>
    public const double L = 1.0;

    private static readonly Box ObsSpace = new([-1f, -1f, -(float)MaxSpeed], [1f, 1f, (float)MaxSpeed], [3]);
    private static readonly Box ActSpace = new(-(float)MaxTorque, (float)MaxTorque, 1);

    private double[]? _state;

    /// <summary>Creates the env with gravity g (Gymnasium's default 10).</summary>
    public Pendulum(double g = 10.0) : base("Pendulum-v1")
    {
        if (!double.IsFinite(g)) throw new ArgumentOutOfRangeException(nameof(g), g, "Pendulum-v1: g must be finite");
        G = g;
    }

    /// <summary>Gravity.</summary>
    public double G { get; }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => ActSpace;

    /// <summary>The float64 state [theta, theta_dot] (a copy); settable, e.g. to replay a recorded trajectory.</summary>
    public double[] State
    {
        get => _state is null ? throw new InvalidOperationException("Pendulum-v1: no state before the first Reset") : (double[])_state.Clone();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 2) throw new ArgumentException($"Pendulum-v1: the state has 2 elements, got {value.Length}", nameof(value));
            _state = (double[])value.Clone();
        }
    }

    /// <summary>((x + pi) mod 2pi) - pi with a floor modulo (as Python's and numpy's %), in [-pi, pi).</summary>
    public static double AngleNormalize(double x)
    {
        const double twoPi = 2 * Math.PI;
        double r = (x + Math.PI) % twoPi;              // fmod: the sign of the dividend
        if (r != 0) { if (r < 0) r += twoPi; }         // floor mod: the sign of the divisor
        else r = 0.0;                                  // copysign(0, 2pi)
        return r - Math.PI;
    }

    /// <summary>The observation of the current state (float32).</summary>
    public float[] GetObservation()
    {
        var s = _state ?? throw new InvalidOperationException("Pendulum-v1: call Reset before GetObservation");
        return [(float)Math.Cos(s[0]), (float)Math.Sin(s[0]), (float)s[1]];
    }

    /// <summary>Starts an episode: theta ~ U(-pi, pi), theta_dot ~ U(-1, 1).</summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        double theta = Rng.Uniform(-Math.PI, Math.PI);
        double thetaDot = Rng.Uniform(-1.0, 1.0);
        _state = [theta, thetaDot];
        return GetObservation();
    }

    /// <summary>Applies the torque action[0] (clipped to [-2, 2]); NaN or infinite torques throw.</summary>
    public override StepResult Step(ReadOnlySpan<float> action)
    {
        if (action.Length != 1) throw new ArgumentException($"Pendulum-v1: action space is {ActSpace}; the action must have 1 element, got {action.Length}", nameof(action));
        if (!float.IsFinite(action[0])) throw new ArgumentException($"Pendulum-v1: the torque must be finite, got {action[0]}", nameof(action));
        var s = _state ?? throw new InvalidOperationException("Pendulum-v1: call Reset before Step");
        double th = s[0], thDot = s[1];
        double u = Math.Clamp((double)action[0], -MaxTorque, MaxTorque);

        double an = AngleNormalize(th);
        double costs = an * an + 0.1 * (thDot * thDot) + 0.001 * (u * u);       // from the old state

        double newThDot = thDot + (3 * G / (2 * L) * Math.Sin(th) + 3.0 / (M * (L * L)) * u) * Dt;
        newThDot = Math.Clamp(newThDot, -MaxSpeed, MaxSpeed);
        double newTh = th + newThDot * Dt;                                          // semi-implicit Euler, no wrap

        s[0] = newTh; s[1] = newThDot;
        return new StepResult(GetObservation(), -costs, false, false);
    }

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        if (_state is not null) state["state"] = StateJson.Nums(_state);
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        _state = state.ContainsKey("state") ? StateJson.Doubles(state, "state") : null;
        if (_state is { Length: not 2 }) throw new InvalidDataException($"Pendulum-v1: the saved state has {_state.Length} values, not 2");
    }
}
