// Env: the Gymnasium-style environment base (reset, step, spaces, seeding, saved state) and the registry behind Env.Make.
namespace Tiny.Rl;

/// <summary>What one step returns: the new observation, the reward, and whether the episode ended.</summary>
/// <param name="Observation">The observation after the step (a fresh array owned by the caller).</param>
/// <param name="Reward">The reward of the step.</param>
/// <param name="Terminated">The MDP reached a terminal state (bootstrapping must stop).</param>
/// <param name="Truncated">The episode was cut off from outside (e.g. a time limit); the state is not terminal.</param>
public readonly record struct StepResult(float[] Observation, double Reward, bool Terminated, bool Truncated);

/// <summary>
/// An environment with Gymnasium's API: <see cref="Reset"/> then <see cref="Step(int)"/> (discrete actions) or
/// <see cref="Step(ReadOnlySpan{float})"/> (continuous actions) until terminated or truncated.
/// Randomness comes from the env's own <see cref="Tiny.Rng"/>: <c>Reset(seed)</c> reseeds it (like Gymnasium's
/// <c>np_random</c>), <c>Reset()</c> continues its stream; an env never seeded draws its first seed from the OS.
/// Streams are Tiny's, not numpy's: the same seed gives the same episode here, not the one Gymnasium gives.
/// </summary>
public abstract class Env : IDisposable
{
    private Rng? _rng;

    /// <summary>Creates an env with the given id (e.g. "CartPole-v1").</summary>
    protected Env(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id;
    }

    /// <summary>The registered id, e.g. "CartPole-v1".</summary>
    public string Id { get; }

    /// <summary>The observations this env returns.</summary>
    public abstract Space ObservationSpace { get; }

    /// <summary>The actions this env accepts.</summary>
    public abstract Space ActionSpace { get; }

    /// <summary>Starts a new episode and returns its first observation; a seed reseeds the env's generator first.</summary>
    public abstract float[] Reset(int? seed = null);

    /// <summary>Takes a discrete action. Envs with a non-discrete action space throw <see cref="InvalidOperationException"/>.</summary>
    public virtual StepResult Step(int action) =>
        throw new InvalidOperationException(
            $"{Id}: action space is {ActionSpace}; call Step(ReadOnlySpan<float>), not Step(int) (got {action})");

    /// <summary>
    /// Takes a continuous action. On a <see cref="Discrete"/> action space a 1-element span holding an integral
    /// value is accepted and passed to <see cref="Step(int)"/>.
    /// </summary>
    public virtual StepResult Step(ReadOnlySpan<float> action)
    {
        if (ActionSpace is not Discrete d)
            throw new InvalidOperationException($"{Id} ({GetType().Name}) does not implement Step(ReadOnlySpan<float>) for action space {ActionSpace}");
        if (action.Length != 1)
            throw new ArgumentException($"{Id}: action space is {d}; a float action must have 1 element, got {action.Length}", nameof(action));
        float a = action[0];
        if (!(a >= 0 && a < d.N) || a != MathF.Floor(a))
            throw new ArgumentException($"{Id}: action {a} is not in {d}", nameof(action));
        return Step((int)a);
    }

    /// <summary>The innermost env below all wrappers (this env if it is not a wrapper).</summary>
    public virtual Env Unwrapped => this;

    /// <summary>The outermost env of type T in this wrapper chain (this env included), or null.</summary>
    public T? Find<T>() where T : Env
    {
        for (Env? e = this; e is not null; e = (e as Wrapper)?.Inner)
            if (e is T t) return t;
        return null;
    }

    /// <summary>The env's generator, for its reset distribution and any other randomness.</summary>
    protected Rng Rng => _rng ??= new Rng(unchecked((ulong)System.Random.Shared.NextInt64()));

    /// <summary>Reseeds <see cref="Rng"/> when a seed is given (call first thing in <see cref="Reset"/>).</summary>
    protected void Reseed(int? seed)
    {
        if (seed is int s) _rng = new Rng(s);
    }

    /// <summary>
    /// Everything this env's future depends on (its physics state, counters, generator; a wrapper's own state and its
    /// inner env's) as JSON, so a training run can stop and later continue exactly: <see cref="LoadState"/> on a fresh
    /// env made the same way continues with the same observations, rewards and random draws. Envs write their part
    /// in <see cref="WriteState"/>; one that does not throws <see cref="NotSupportedException"/>.
    /// </summary>
    public JsonObject SaveState()
    {
        var state = new JsonObject { ["type"] = GetType().Name };
        if (_rng is not null) state["rng"] = StateJson.Rng(_rng);
        WriteState(state);
        return state;
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote (from an env of the same type and construction);
    /// <see cref="InvalidDataException"/> for a state of another env or a malformed one.</summary>
    public void LoadState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string type = state["type"]?.GetValue<string>() ?? "?";
        if (type != GetType().Name) throw new InvalidDataException($"{Id}: the saved env state is of a {type}, this env is a {GetType().Name}");
        _rng = state.ContainsKey("rng") ? StateJson.ReadRng(state, "rng") : null;
        ReadState(state);
    }

    /// <summary>Adds this env's own state to <paramref name="state"/> (the generator is saved by the base). Every
    /// built-in env overrides it; a user's env overrides it (with <see cref="ReadState"/>) to make its runs resumable.</summary>
    protected virtual void WriteState(JsonObject state) =>
        throw new NotSupportedException($"{Id} ({GetType().Name}) cannot save its state, so a run on it cannot be checkpointed: override Env.WriteState and Env.ReadState");

    /// <summary>Restores what <see cref="WriteState"/> added.</summary>
    protected virtual void ReadState(JsonObject state) =>
        throw new NotSupportedException($"{Id} ({GetType().Name}) cannot restore its state: override Env.WriteState and Env.ReadState");

    /// <summary>Releases the env (wrappers release what they wrap).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({Id})";

    // ---------------------------------------------------------------- registry

    private sealed record Registration(Func<Env> Factory, int? MaxEpisodeSteps, string? Source = null);

    private static readonly object RegistryLock = new();
    private static readonly Dictionary<string, Registration> Registry = new(StringComparer.Ordinal)
    {
        ["CartPole-v1"] = new(() => new CartPole(), 500),
        ["Pendulum-v1"] = new(() => new Pendulum(), 200),
        ["Acrobot-v1"] = new(() => new Acrobot(), 500),
        ["MountainCar-v0"] = new(() => new MountainCar(), 200),
        ["MountainCarContinuous-v0"] = new(() => new MountainCarContinuous(), 999),
        // MinAtar's gym registration sets no step limit; v0 has the full 6-action set, v1 the minimal one.
        ["MinAtar/Breakout-v0"] = new(() => new MinAtarBreakout(minimalActionSet: false), null),
        ["MinAtar/Breakout-v1"] = new(() => new MinAtarBreakout(), null),
        ["MinAtar/Asterix-v0"] = new(() => new MinAtarAsterix(minimalActionSet: false), null),
        ["MinAtar/Asterix-v1"] = new(() => new MinAtarAsterix(), null),
        ["MinAtar/Freeway-v0"] = new(() => new MinAtarFreeway(minimalActionSet: false), null),
        ["MinAtar/Freeway-v1"] = new(() => new MinAtarFreeway(), null),
        ["MinAtar/Seaquest-v0"] = new(() => new MinAtarSeaquest(minimalActionSet: false), null),
        ["MinAtar/Seaquest-v1"] = new(() => new MinAtarSeaquest(), null),
        ["MinAtar/SpaceInvaders-v0"] = new(() => new MinAtarSpaceInvaders(minimalActionSet: false), null),
        ["MinAtar/SpaceInvaders-v1"] = new(() => new MinAtarSpaceInvaders(), null),
    };

    /// <summary>The ids <see cref="Make"/> knows, sorted.</summary>
    public static IReadOnlyList<string> Registered
    {
        get { lock (RegistryLock) return Registry.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    /// <summary>
    /// Registers an id for <see cref="Make"/>; with a step limit, Make wraps the env in <see cref="TimeLimit"/>.
    /// Throws if the id is taken, unless <paramref name="replace"/>.
    /// </summary>
    public static void Register(string id, Func<Env> factory, int? maxEpisodeSteps = null, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(factory);
        if (maxEpisodeSteps is <= 0) throw new ArgumentOutOfRangeException(nameof(maxEpisodeSteps), maxEpisodeSteps, $"Env.Register({id}): the step limit must be positive");
        lock (RegistryLock)
        {
            if (!replace && Registry.ContainsKey(id)) throw new ArgumentException($"Env.Register: '{id}' is already registered", nameof(id));
            Registry[id] = new(factory, maxEpisodeSteps, Plugins.Registering);
        }
    }

    /// <summary>Whether id is registered (<see cref="Make"/> knows it).</summary>
    public static bool IsRegistered(string id)
    {
        lock (RegistryLock) return Registry.ContainsKey(id);
    }

    /// <summary>The assembly file whose plugin registered id (null when built in or registered in code).</summary>
    internal static string? SourceOf(string id)
    {
        lock (RegistryLock) return Registry.TryGetValue(id, out var r) ? r.Source : null;
    }

    /// <summary>
    /// Creates a registered env, wrapped in <see cref="TimeLimit"/> like <c>gym.make</c> (CartPole-v1: 500 steps,
    /// Pendulum-v1: 200); <paramref name="maxEpisodeSteps"/> overrides the registered limit.
    /// </summary>
    public static Env Make(string id, int? maxEpisodeSteps = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        Registration? reg;
        lock (RegistryLock) Registry.TryGetValue(id, out reg);
        if (reg is null)
            throw new ArgumentException($"Env.Make: unknown env id '{id}'; known ids: {string.Join(", ", Registered)} (register others with Env.Register, or load the assembly that does: tiny ... --assembly FILE.dll)", nameof(id));
        if (maxEpisodeSteps is <= 0) throw new ArgumentOutOfRangeException(nameof(maxEpisodeSteps), maxEpisodeSteps, $"Env.Make({id}): the step limit must be positive");
        Env env = reg.Factory();
        int? limit = maxEpisodeSteps ?? reg.MaxEpisodeSteps;
        return limit is int n ? new TimeLimit(env, n) : env;
    }
}
