// CartPole: Gymnasium's CartPole-v1 physics (Barto, Sutton and Anderson 1983), float64 state, float32 observations.
namespace Tiny.Rl;

/// <summary>
/// CartPole-v1 with Gymnasium's dynamics, operation for operation (explicit Euler, tau 0.02): push the cart left
/// (action 0, force -10) or right (1, +10) to keep the pole up. Observation [x, x_dot, theta, theta_dot] as float32;
/// the state stays float64. Terminated when |x| &gt; 2.4 or |theta| &gt; 12 degrees in the new state; reward 1 every step
/// including the terminating one. Stepping on after termination without a reset does what Gymnasium does: the physics
/// keeps running, the reward is 0 and a warning is traced once. No step limit here: <see cref="Env.Make"/> adds
/// TimeLimit(500).
/// </summary>
public sealed class CartPole : Env
{
    /// <summary>Gravity (m/s^2).</summary>
    public const double Gravity = 9.8;
    /// <summary>Cart mass.</summary>
    public const double MassCart = 1.0;
    /// <summary>Pole mass.</summary>
    public const double MassPole = 0.1;
    /// <summary>Cart plus pole mass.</summary>
    public const double TotalMass = MassPole + MassCart;
    /// <summary>Half the pole's length.</summary>
    public const double Length = 0.5;
    /// <summary>Pole mass times half length.</summary>
    public const double PoleMassLength = MassPole * Length;
    /// <summary>Magnitude of the push.</summary>
    public const double ForceMag = 10.0;
    /// <summary>Seconds per step.</summary>
    public const double Tau = 0.02;
    /// <summary>|theta| above this (12 degrees) terminates.</summary>
    public const double ThetaThreshold = 12 * 2 * Math.PI / 360;
    /// <summary>|x| above this terminates.</summary>
    public const double XThreshold = 2.4;

    private static readonly Box ObsSpace = new(
        [(float)(-XThreshold * 2), -float.MaxValue, (float)(-ThetaThreshold * 2), -float.MaxValue],
        [(float)(XThreshold * 2), float.MaxValue, (float)(ThetaThreshold * 2), float.MaxValue], [4]);
    private static readonly Discrete ActSpace = new(2);

    private double[]? _state;
    private int? _stepsBeyondTerminated;

    /// <summary>Creates the env; call <see cref="Reset"/> before stepping.</summary>
    public CartPole() : base("CartPole-v1") { }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => ActSpace;

    /// <summary>
    /// The float64 state [x, x_dot, theta, theta_dot] (a copy). Setting it starts a fresh episode from that state
    /// (e.g. to replay a recorded trajectory).
    /// </summary>
    public double[] State
    {
        get => _state is null ? throw new InvalidOperationException("CartPole-v1: no state before the first Reset") : (double[])_state.Clone();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 4) throw new ArgumentException($"CartPole-v1: the state has 4 elements, got {value.Length}", nameof(value));
            _state = (double[])value.Clone();
            _stepsBeyondTerminated = null;
        }
    }

    /// <summary>The observation of the current state (float32).</summary>
    public float[] GetObservation()
    {
        var s = _state ?? throw new InvalidOperationException("CartPole-v1: call Reset before GetObservation");
        return [(float)s[0], (float)s[1], (float)s[2], (float)s[3]];
    }

    /// <summary>Starts an episode: every state variable ~ U(-0.05, 0.05).</summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _state = new double[4];
        for (int i = 0; i < 4; i++) _state[i] = Rng.Uniform(-0.05, 0.05);
        _stepsBeyondTerminated = null;
        return GetObservation();
    }

    /// <inheritdoc/>
    public override StepResult Step(int action)
    {
        if (action is not (0 or 1)) throw new ArgumentException($"CartPole-v1: action {action} is not in {ActSpace}", nameof(action));
        var s = _state ?? throw new InvalidOperationException("CartPole-v1: call Reset before Step");
        double x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
        double force = action == 1 ? ForceMag : -ForceMag;
        double cosTheta = Math.Cos(theta), sinTheta = Math.Sin(theta);

        // Gymnasium's order (bit-exactness depends on it):
        // temp = (F + ml*w^2*sin)/M; thetaacc = (g*sin - cos*temp)/(l*(4/3 - m*cos^2/M)); xacc = temp - ml*thetaacc*cos/M
        double temp = (force + PoleMassLength * (thetaDot * thetaDot) * sinTheta) / TotalMass;
        double thetaAcc = (Gravity * sinTheta - cosTheta * temp) / (Length * (4.0 / 3.0 - MassPole * (cosTheta * cosTheta) / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cosTheta / TotalMass;

        // Explicit Euler: positions advance with the old velocities.
        s[0] = x + Tau * xDot;
        s[1] = xDot + Tau * xAcc;
        s[2] = theta + Tau * thetaDot;
        s[3] = thetaDot + Tau * thetaAcc;

        bool terminated = s[0] < -XThreshold || s[0] > XThreshold || s[2] < -ThetaThreshold || s[2] > ThetaThreshold;
        double reward;
        if (!terminated) reward = 1.0;
        else if (_stepsBeyondTerminated is null) { _stepsBeyondTerminated = 0; reward = 1.0; }
        else
        {
            if (_stepsBeyondTerminated == 0)
                System.Diagnostics.Trace.TraceWarning("CartPole-v1: Step called after the episode terminated; call Reset. Further steps give reward 0.");
            _stepsBeyondTerminated++;
            reward = 0.0;
        }
        return new StepResult(GetObservation(), reward, terminated, false);
    }

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        if (_state is not null) state["state"] = StateJson.Nums(_state);
        if (_stepsBeyondTerminated is int n) state["steps_beyond_terminated"] = n;
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        _state = state.ContainsKey("state") ? StateJson.Doubles(state, "state") : null;
        if (_state is { Length: not 4 }) throw new InvalidDataException($"CartPole-v1: the saved state has {_state.Length} values, not 4");
        _stepsBeyondTerminated = state.ContainsKey("steps_beyond_terminated") ? StateJson.Int(state, "steps_beyond_terminated") : null;
    }
}
