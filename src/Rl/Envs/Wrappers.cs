// Wrapper, the base of env wrappers, and the two simplest ones: TimeLimit (truncation) and ClipAction.
namespace Tiny.Rl;

/// <summary>An env that forwards everything to <see cref="Inner"/>; subclasses override what they change.</summary>
public abstract class Wrapper : Env
{
    /// <summary>Wraps <paramref name="inner"/>; the wrapper takes its id.</summary>
    protected Wrapper(Env inner) : base((inner ?? throw new ArgumentNullException(nameof(inner))).Id) => Inner = inner;

    /// <summary>The wrapped env.</summary>
    public Env Inner { get; }

    /// <inheritdoc/>
    public override Space ObservationSpace => Inner.ObservationSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => Inner.ActionSpace;
    /// <inheritdoc/>
    public override Env Unwrapped => Inner.Unwrapped;
    /// <inheritdoc/>
    public override float[] Reset(int? seed = null) => Inner.Reset(seed);
    /// <inheritdoc/>
    public override StepResult Step(int action) => Inner.Step(action);
    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action) => Inner.Step(action);

    /// <summary>Saves the inner env's state under "inner"; wrappers with state of their own add it after calling this.</summary>
    protected override void WriteState(JsonObject state) => state["inner"] = Inner.SaveState();

    /// <summary>Restores the inner env's state; wrappers with state of their own read it after calling this.</summary>
    protected override void ReadState(JsonObject state) => Inner.LoadState(StateJson.Object(state, "inner"));

    /// <inheritdoc/>
    public override void Dispose()
    {
        Inner.Dispose();
        base.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}<{Inner}>";
}

/// <summary>
/// Sets Truncated once an episode reaches <see cref="MaxEpisodeSteps"/> steps (also when that step terminates),
/// as Gymnasium's TimeLimit. The count restarts at Reset.
/// </summary>
public sealed class TimeLimit : Wrapper
{
    /// <summary>Wraps env with a limit of maxEpisodeSteps steps per episode.</summary>
    public TimeLimit(Env env, int maxEpisodeSteps) : base(env)
    {
        if (maxEpisodeSteps <= 0) throw new ArgumentOutOfRangeException(nameof(maxEpisodeSteps), maxEpisodeSteps, $"TimeLimit({env.Id}): the limit must be positive");
        MaxEpisodeSteps = maxEpisodeSteps;
    }

    /// <summary>The step limit.</summary>
    public int MaxEpisodeSteps { get; }

    /// <summary>Steps taken since the last Reset.</summary>
    public int ElapsedSteps { get; private set; }

    /// <inheritdoc/>
    public override float[] Reset(int? seed = null)
    {
        ElapsedSteps = 0;
        return Inner.Reset(seed);
    }

    /// <inheritdoc/>
    public override StepResult Step(int action) => Count(Inner.Step(action));
    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action) => Count(Inner.Step(action));

    private StepResult Count(StepResult r) => ++ElapsedSteps >= MaxEpisodeSteps ? r with { Truncated = true } : r;

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        base.WriteState(state);
        state["elapsed_steps"] = ElapsedSteps;
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        base.ReadState(state);
        ElapsedSteps = StateJson.Int(state, "elapsed_steps");
    }
}

/// <summary>
/// Clips continuous actions to the wrapped env's <see cref="Box"/> bounds before stepping (Gymnasium's ClipAction);
/// like Gymnasium, the wrapper's own action space is unbounded. NaN passes through (for the env to reject).
/// </summary>
public sealed class ClipAction : Wrapper
{
    private readonly Box _box;
    private readonly float[] _buffer;

    /// <summary>Wraps an env whose action space is a <see cref="Box"/>.</summary>
    public ClipAction(Env env) : base(env)
    {
        _box = env.ActionSpace as Box ?? throw new ArgumentException($"ClipAction({env.Id}): needs a Box action space, got {env.ActionSpace}", nameof(env));
        _buffer = new float[_box.Dim];
        ActionSpace = new Box(float.NegativeInfinity, float.PositiveInfinity, _box.Shape);
    }

    /// <inheritdoc/>
    public override Space ActionSpace { get; }

    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action)
    {
        if (action.Length != _box.Dim) throw new ArgumentException($"ClipAction({Id}): the action has {action.Length} elements, {_box} needs {_box.Dim}", nameof(action));
        for (int i = 0; i < _buffer.Length; i++) _buffer[i] = Math.Clamp(action[i], _box.LowAt(i), _box.HighAt(i));
        return Inner.Step(_buffer);
    }
}
