// MinAtarEnv: what every MinAtar game shares (kenjyoung/MinAtar minatar/environment.py and minatar/gym.py): the 10x10
// grid, the action sets, sticky actions, numpy's generator, the observation layout and the saved state.
using System.Runtime.InteropServices;

namespace Tiny.Rl;

/// <summary>
/// The base of the MinAtar games (Young and Tian 2019), each rule for rule as kenjyoung/MinAtar's reference.
/// <para>Actions: "-v1" uses the game's minimal action set, "-v0" the full MinAtar set {0: n, 1: l, 2: u, 3: r,
/// 4: d, 5: f} (as the reference's gym registrations). Sticky actions (environment.py's <c>act</c>): before every
/// step one <c>rand()</c> is drawn, also after the episode ended, and when it is below
/// <see cref="StickyActionProb"/> the previous (full-set) action is taken instead; the previous action starts at noop
/// when the env is created and is not reset by Reset.</para>
/// <para>Observation: float32 0/1, shape [C, 10, 10] channel-major: obs[c*100 + y*10 + x] is the reference's
/// <c>state()[y, x, c]</c>, with the reference's channel order.</para>
/// <para>Randomness: one numpy <c>RandomState</c> stream (<see cref="NumpyRandom"/>) shared by the sticky draws and
/// the game, as the reference's <c>Environment.seed</c> shares it. <c>Reset(seed)</c> is the reference gym env's
/// <c>reset(seed=seed)</c> (a new <c>RandomState(seed)</c>, then the game's reset), so a seed gives the reference's
/// episode for the same actions; <c>Reset()</c> continues the stream; an env never seeded seeds from the OS. A
/// negative seed is taken modulo 2^32 (numpy refuses it).</para>
/// <para>No step limit: the reference's gym registrations set none (Freeway ends itself after 2500 frames).</para>
/// </summary>
public abstract class MinAtarEnv : Env
{
    /// <summary>Grid side (rows and columns).</summary>
    public const int Size = 10;
    /// <summary>The reference's sticky action probability.</summary>
    public const double DefaultStickyActionProb = 0.1;
    /// <summary>Number of actions in the full MinAtar set (n, l, u, r, d, f).</summary>
    public const int FullActionCount = 6;

    /// <summary>Full-set action indices (the reference's <c>action_map</c> ['n','l','u','r','d','f']).</summary>
    protected const int ActNoop = 0, ActLeft = 1, ActUp = 2, ActRight = 3, ActDown = 4, ActFire = 5;

    private readonly int[] _minimalToFull;
    private readonly Discrete _actSpace;
    private readonly Box _obsSpace;
    private NumpyRandom? _random;
    private bool _started;

    /// <summary>Creates the game; call <see cref="Reset"/> before stepping.</summary>
    /// <param name="game">The game's registered name, e.g. "Asterix" (the id is "MinAtar/{game}-v1" or "-v0").</param>
    /// <param name="channels">Observation channels.</param>
    /// <param name="minimalActions">The game's minimal action set as full-set indices (its <c>minimal_action_set()</c>).</param>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: the minimal set (v1); false: the 6 full-set actions (v0).</param>
    /// <param name="difficultyRamping">The reference's <c>difficulty_ramping</c> (default on; games without a ramp ignore it).</param>
    protected MinAtarEnv(string game, int channels, int[] minimalActions, double stickyActionProb, bool minimalActionSet, bool difficultyRamping)
        : base($"MinAtar/{game}-v{(minimalActionSet ? 1 : 0)}")
    {
        ArgumentNullException.ThrowIfNull(minimalActions);
        if (!(stickyActionProb >= 0 && stickyActionProb <= 1))
            throw new ArgumentOutOfRangeException(nameof(stickyActionProb), stickyActionProb, $"{GetType().Name}: the sticky action probability must be in [0, 1]");
        StickyActionProb = stickyActionProb;
        DifficultyRamping = difficultyRamping;
        ChannelCount = channels;
        IsMinimalActionSet = minimalActionSet;
        _minimalToFull = minimalActions;
        _actSpace = new Discrete(minimalActionSet ? minimalActions.Length : FullActionCount);
        _obsSpace = new Box(0f, 1f, channels, Size, Size);
    }

    /// <inheritdoc/>
    public override Space ObservationSpace => _obsSpace;
    /// <inheritdoc/>
    public override Space ActionSpace => _actSpace;

    /// <summary>Number of observation channels.</summary>
    public int ChannelCount { get; }
    /// <summary>Probability that a step repeats the previous action instead of the given one.</summary>
    public double StickyActionProb { get; }
    /// <summary>Whether the game's difficulty ramps up (the reference's <c>difficulty_ramping</c>).</summary>
    public bool DifficultyRamping { get; }
    /// <summary>True for the minimal action set (v1), false for the full set (v0).</summary>
    public bool IsMinimalActionSet { get; }
    /// <summary>The minimal action set as full-set indices.</summary>
    public IReadOnlyList<int> MinimalActions => _minimalToFull;

    /// <summary>The episode has ended; further steps change nothing and give reward 0.</summary>
    public bool Terminal { get; set; }
    /// <summary>The previous action in the full 6-action set (what a sticky step repeats).</summary>
    public int LastAction { get; set; } = ActNoop;

    /// <summary>The shared numpy stream (sticky draws and the game's draws).</summary>
    internal NumpyRandom Random => _random ??= new NumpyRandom((uint)System.Random.Shared.Next());

    /// <summary>Starts an episode: a seed first replaces the stream by <c>RandomState(seed)</c>; then the game's reset.</summary>
    public override float[] Reset(int? seed = null)
    {
        if (seed is int s) _random = new NumpyRandom(unchecked((uint)s));
        Terminal = false;
        ResetGame();
        _started = true;
        return GetObservation();
    }

    /// <inheritdoc/>
    public override StepResult Step(int action)
    {
        if (!_actSpace.Contains(action)) throw new ArgumentException($"{Id}: action {action} is not in {_actSpace}", nameof(action));
        if (!_started) throw new InvalidOperationException($"{Id}: call Reset before Step");
        int a = IsMinimalActionSet ? _minimalToFull[action] : action;
        if (Random.Rand() < StickyActionProb) a = LastAction;
        LastAction = a;
        double reward = Act(a);
        return new StepResult(GetObservation(), reward, Terminal, false);
    }

    /// <summary>One step of the game with an action of the full set (no sticky draw); returns the reward.</summary>
    public double Act(int fullAction)
    {
        if ((uint)fullAction >= FullActionCount) throw new ArgumentException($"{Id}: full-set action {fullAction} is not in 0..5", nameof(fullAction));
        return Terminal ? 0 : ActGame(fullAction);
    }

    /// <summary>The game's reset (the stream is already seeded; <see cref="Terminal"/> is already false).</summary>
    protected abstract void ResetGame();

    /// <summary>The game's <c>act</c> on a live episode; sets <see cref="Terminal"/> and returns the reward.</summary>
    protected abstract double ActGame(int fullAction);

    /// <summary>Sets the cells of the current state in a cleared [C, 10, 10] buffer (<see cref="Cell"/>).</summary>
    protected abstract void Draw(Span<float> obs);

    /// <summary>The index of cell (y, x) of channel c in the [C, 10, 10] observation.</summary>
    protected static int Cell(int c, int y, int x) => (c * Size + y) * Size + x;

    /// <summary>The observation of the current state: [C, 10, 10] channel-major, 0/1.</summary>
    public float[] GetObservation()
    {
        var obs = new float[ChannelCount * Size * Size];
        WriteObservation(obs);
        return obs;
    }

    /// <summary>Writes the observation into a C*100-element buffer (cleared first).</summary>
    public void WriteObservation(Span<float> obs)
    {
        if (obs.Length != ChannelCount * Size * Size) throw new ArgumentException($"{Id}: the observation buffer needs {ChannelCount * Size * Size} elements, got {obs.Length}", nameof(obs));
        obs.Clear();
        Draw(obs);
    }

    /// <summary>Throws when (x, y) is off the grid (a cell the state was edited into by hand).</summary>
    protected void CheckCell(int x, int y, string what)
    {
        if ((uint)x >= Size || (uint)y >= Size) throw new InvalidOperationException($"{Id}: {what} at (x {x}, y {y}) is off the 10x10 grid");
    }

    /// <inheritdoc/>
    protected sealed override void WriteState(JsonObject state)
    {
        state["started"] = _started;
        state["terminal"] = Terminal;
        state["last_action"] = LastAction;
        if (_random is not null)
        {
            var (key, pos) = _random.State;
            state["numpy_key"] = StateJson.Ints(MemoryMarshal.Cast<uint, int>(key));
            state["numpy_pos"] = pos;
        }
        WriteGame(state);
    }

    /// <inheritdoc/>
    protected sealed override void ReadState(JsonObject state)
    {
        _started = StateJson.Bool(state, "started");
        Terminal = StateJson.Bool(state, "terminal");
        LastAction = StateJson.Int(state, "last_action");
        if ((uint)LastAction >= FullActionCount) throw new InvalidDataException($"{Id}: saved last action {LastAction} is not in 0..5");
        _random = state.ContainsKey("numpy_key")
            ? NumpyRandom.FromState(MemoryMarshal.Cast<int, uint>(StateJson.IntArray(state, "numpy_key")).ToArray(), StateJson.Int(state, "numpy_pos"))
            : null;
        ReadGame(state);
    }

    /// <summary>Adds the game's own state (positions, entities, timers, speeds).</summary>
    protected abstract void WriteGame(JsonObject state);

    /// <summary>Restores what <see cref="WriteGame"/> wrote.</summary>
    protected abstract void ReadGame(JsonObject state);

    /// <summary>A list of entities (each an int array) as a JSON array of int arrays.</summary>
    protected static JsonArray EntityList(IEnumerable<int[]> entities)
    {
        var a = new JsonArray();
        foreach (var e in entities) a.Add(StateJson.Ints(e));
        return a;
    }

    /// <summary>Reads a list written by <see cref="EntityList"/>, each entity with <paramref name="width"/> values.</summary>
    protected List<int[]> ReadEntityList(JsonObject state, string key, int width)
    {
        var list = new List<int[]>();
        foreach (var node in StateJson.Get(state, key) as JsonArray ?? throw new InvalidDataException($"{Id}: saved '{key}' is not an array"))
        {
            var e = (node as JsonArray ?? throw new InvalidDataException($"{Id}: saved '{key}' holds a non-array")).Select(v => v!.GetValue<int>()).ToArray();
            if (e.Length != width) throw new InvalidDataException($"{Id}: saved '{key}' holds an entity of {e.Length} values, not {width}");
            list.Add(e);
        }
        return list;
    }
}
