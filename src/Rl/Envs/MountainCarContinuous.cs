// MountainCarContinuous: Gymnasium's MountainCarContinuous-v0 physics (the mountain car with a continuous force and an energy cost).
namespace Tiny.Rl;

/// <summary>
/// MountainCarContinuous-v0 with Gymnasium's dynamics, operation for operation. Action [a]: the force is a clipped to
/// [-1, 1]; the reward is (100 on reaching the goal, else 0) - 0.1*a^2 of the UNCLIPPED a (so actions beyond the
/// box are accepted and cost more). Goal: position &gt;= 0.45 and velocity &gt;= goal velocity (0). The left wall at
/// -1.2 is inelastic. State [position, velocity]: float64 after <see cref="Reset"/>, and, as in Gymnasium (which
/// stores <c>np.array([position, velocity], dtype=np.float32)</c>), rounded to float32 at the end of every step; the
/// step itself computes in float64 (NumPy 1.x promotion of float32 scalars with Python floats), so this port is
/// bit-exact. Observation = the state as float32. No step limit here: <see cref="Env.Make"/> adds TimeLimit(999).
/// Unlike Gymnasium, a NaN or infinite action throws instead of giving a NaN state or an infinite reward.
/// </summary>
public sealed class MountainCarContinuous : Env
{
    /// <summary>Lower bound of the force.</summary>
    public const double MinAction = -1.0;
    /// <summary>Upper bound of the force.</summary>
    public const double MaxAction = 1.0;
    /// <summary>Left end of the track (an inelastic wall).</summary>
    public const double MinPosition = -1.2;
    /// <summary>Right end of the track (position clipped).</summary>
    public const double MaxPosition = 0.6;
    /// <summary>Largest |velocity|.</summary>
    public const double MaxSpeed = 0.07;
    /// <summary>Position at or past which the episode ends (with velocity at least the goal velocity); 0.45, not
    /// MountainCar-v0's 0.5.</summary>
    public const double GoalPosition = 0.45;
    /// <summary>Acceleration per unit of force.</summary>
    public const double Power = 0.0015;
    /// <summary>Gravity's coefficient: the slope adds -0.0025*cos(3 position) per step.</summary>
    public const double Gravity = 0.0025;

    private static readonly Box ObsSpace = new([(float)MinPosition, -(float)MaxSpeed], [(float)MaxPosition, (float)MaxSpeed], [2]);
    private static readonly Box ActSpace = new((float)MinAction, (float)MaxAction, 1);

    private double[]? _state;

    /// <summary>Creates the env; <paramref name="goalVelocity"/> is Gymnasium's <c>goal_velocity</c> keyword (default 0).</summary>
    public MountainCarContinuous(double goalVelocity = 0.0) : base("MountainCarContinuous-v0")
    {
        if (!double.IsFinite(goalVelocity)) throw new ArgumentOutOfRangeException(nameof(goalVelocity), goalVelocity, "MountainCarContinuous-v0: the goal velocity must be finite");
        GoalVelocity = goalVelocity;
    }

    /// <summary>Least velocity that counts as reaching the goal.</summary>
    public double GoalVelocity { get; }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => ActSpace;

    /// <summary>The state [position, velocity] as float64 (a copy; float32-exact after any step); settable, e.g. to
    /// replay a recorded trajectory.</summary>
    public double[] State
    {
        get => _state is null ? throw new InvalidOperationException("MountainCarContinuous-v0: no state before the first Reset") : (double[])_state.Clone();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 2) throw new ArgumentException($"MountainCarContinuous-v0: the state has 2 elements, got {value.Length}", nameof(value));
            _state = (double[])value.Clone();
        }
    }

    /// <summary>The observation of the current state (float32).</summary>
    public float[] GetObservation()
    {
        var s = _state ?? throw new InvalidOperationException("MountainCarContinuous-v0: call Reset before GetObservation");
        return [(float)s[0], (float)s[1]];
    }

    /// <summary>Starts an episode: position ~ U(-0.6, -0.4), velocity 0 (kept in float64 until the first step).</summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _state = [Rng.Uniform(-0.6, -0.4), 0.0];
        return GetObservation();
    }

    /// <summary>Pushes with force clip(action[0], -1, 1); any finite action is accepted (the reward charges its
    /// unclipped square). Throws for a NaN or infinite action or one not of 1 element.</summary>
    public override StepResult Step(ReadOnlySpan<float> action)
    {
        if (action.Length != 1) throw new ArgumentException($"MountainCarContinuous-v0: action space is {ActSpace}; the action must have 1 element, got {action.Length}", nameof(action));
        if (!float.IsFinite(action[0])) throw new ArgumentException($"MountainCarContinuous-v0: the action must be finite, got {action[0]}", nameof(action));
        var s = _state ?? throw new InvalidOperationException("MountainCarContinuous-v0: call Reset before Step");
        double a = action[0];                                           // float32 -> float64 exactly
        double position = s[0], velocity = s[1];

        // Gymnasium's order: force = min(max(a, -1), 1); velocity += force*power - 0.0025*cos(3*position);
        // clip the velocity; position += velocity; clip the position; at the left wall a leftward velocity becomes 0.
        double force = Math.Min(Math.Max(a, MinAction), MaxAction);
        velocity += force * Power - Gravity * Math.Cos(3 * position);
        if (velocity > MaxSpeed) velocity = MaxSpeed;
        if (velocity < -MaxSpeed) velocity = -MaxSpeed;
        position += velocity;
        if (position > MaxPosition) position = MaxPosition;
        if (position < MinPosition) position = MinPosition;
        if (position == MinPosition && velocity < 0) velocity = 0.0;

        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        double reward = (terminated ? 100.0 : 0.0) - Math.Pow(a, 2) * 0.1;   // reward = 0 or 100; reward -= math.pow(a, 2)*0.1

        // self.state = np.array([position, velocity], dtype=np.float32): the stored state is rounded every step.
        s[0] = (float)position; s[1] = (float)velocity;
        return new StepResult(GetObservation(), reward, terminated, false);
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
        if (_state is { Length: not 2 }) throw new InvalidDataException($"MountainCarContinuous-v0: the saved state has {_state.Length} values, not 2");
    }
}
