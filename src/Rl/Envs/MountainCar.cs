// MountainCar: Gymnasium's MountainCar-v0 physics (Moore 1990; an underpowered car in a valley), float64 state, float32 observations.
namespace Tiny.Rl;

/// <summary>
/// MountainCar-v0 with Gymnasium's dynamics, operation for operation: accelerate left (action 0), not at all (1) or
/// right (2); the car must rock back and forth to climb the right hill to position 0.5. State [position, velocity] in
/// float64, observation the same as float32. Terminated when position &gt;= 0.5 and velocity &gt;= goal velocity (0);
/// reward -1 on every step, the terminating one included. The left wall at -1.2 is inelastic (velocity set to 0),
/// the right end at 0.6 only clips the position. No step limit here: <see cref="Env.Make"/> adds TimeLimit(200).
/// Gymnasium computes with Python floats and <c>math.cos</c> (libm, as Math.Cos), so this port is bit-exact.
/// </summary>
public sealed class MountainCar : Env
{
    /// <summary>Left end of the track (an inelastic wall).</summary>
    public const double MinPosition = -1.2;
    /// <summary>Right end of the track (position clipped).</summary>
    public const double MaxPosition = 0.6;
    /// <summary>Largest |velocity|.</summary>
    public const double MaxSpeed = 0.07;
    /// <summary>Position at or past which the episode ends (with velocity at least the goal velocity).</summary>
    public const double GoalPosition = 0.5;
    /// <summary>Acceleration of a push.</summary>
    public const double Force = 0.001;
    /// <summary>Gravity's coefficient: the slope adds -gravity*cos(3 position) per step.</summary>
    public const double Gravity = 0.0025;

    private static readonly Box ObsSpace = new([(float)MinPosition, -(float)MaxSpeed], [(float)MaxPosition, (float)MaxSpeed], [2]);
    private static readonly Discrete ActSpace = new(3);

    private double[]? _state;

    /// <summary>Creates the env; <paramref name="goalVelocity"/> is Gymnasium's <c>goal_velocity</c> keyword (default 0).</summary>
    public MountainCar(double goalVelocity = 0.0) : base("MountainCar-v0")
    {
        if (!double.IsFinite(goalVelocity)) throw new ArgumentOutOfRangeException(nameof(goalVelocity), goalVelocity, "MountainCar-v0: the goal velocity must be finite");
        GoalVelocity = goalVelocity;
    }

    /// <summary>Least velocity that counts as reaching the goal.</summary>
    public double GoalVelocity { get; }

    /// <inheritdoc/>
    public override Space ObservationSpace => ObsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => ActSpace;

    /// <summary>The float64 state [position, velocity] (a copy); settable, e.g. to replay a recorded trajectory.</summary>
    public double[] State
    {
        get => _state is null ? throw new InvalidOperationException("MountainCar-v0: no state before the first Reset") : (double[])_state.Clone();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 2) throw new ArgumentException($"MountainCar-v0: the state has 2 elements, got {value.Length}", nameof(value));
            _state = (double[])value.Clone();
        }
    }

    /// <summary>The observation of the current state (float32).</summary>
    public float[] GetObservation()
    {
        var s = _state ?? throw new InvalidOperationException("MountainCar-v0: call Reset before GetObservation");
        return [(float)s[0], (float)s[1]];
    }

    /// <summary>Starts an episode: position ~ U(-0.6, -0.4), velocity 0.</summary>
    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _state = [Rng.Uniform(-0.6, -0.4), 0.0];
        return GetObservation();
    }

    /// <inheritdoc/>
    public override StepResult Step(int action)
    {
        if (!ActSpace.Contains(action)) throw new ArgumentException($"MountainCar-v0: action {action} is not in {ActSpace}", nameof(action));
        var s = _state ?? throw new InvalidOperationException("MountainCar-v0: call Reset before Step");
        double position = s[0], velocity = s[1];
        // Gymnasium's order: velocity += (action - 1)*force + cos(3*position)*(-gravity); clip the velocity;
        // position += velocity; clip the position; at the left wall a leftward velocity becomes 0.
        velocity += (action - 1) * Force + Math.Cos(3 * position) * (-Gravity);
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0.0;

        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        s[0] = position; s[1] = velocity;
        return new StepResult(GetObservation(), -1.0, terminated, false);
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
        if (_state is { Length: not 2 }) throw new InvalidDataException($"MountainCar-v0: the saved state has {_state.Length} values, not 2");
    }
}
