// SyncVectorEnv: several copies of an env stepped one after another, batched, with Gymnasium's two autoreset modes.
using System.Diagnostics;

namespace Tiny.Rl;

/// <summary>When a vector env restarts an env whose episode ended.</summary>
public enum AutoresetMode
{
    /// <summary>
    /// Gymnasium 1.x's default: the step after an episode ends resets that env, ignores its action, and returns the
    /// reset observation with reward 0 and both flags false.
    /// </summary>
    NextStep,
    /// <summary>
    /// Gymnasium 0.29's (what CleanRL's scripts expect): the ending step resets at once and returns the reset
    /// observation with the ending step's reward and flags; the true last observation is in
    /// <see cref="SyncVectorEnv.FinalObservations"/>.
    /// </summary>
    SameStep,
}

/// <summary>One batched step: views of the vector env's own arrays, overwritten by its next Step or Reset.</summary>
/// <param name="Observations">float[NumEnvs * ObservationDim], env i at [i*ObservationDim, (i+1)*ObservationDim).</param>
/// <param name="Rewards">Reward per env.</param>
/// <param name="Terminated">Terminated per env.</param>
/// <param name="Truncated">Truncated per env.</param>
public readonly record struct VectorStepResult(float[] Observations, double[] Rewards, bool[] Terminated, bool[] Truncated);

/// <summary>
/// Runs NumEnvs envs made by a factory, in turn, on this thread (Gymnasium's SyncVectorEnv). Observations are one flat
/// row-major float[NumEnvs * ObservationDim]. Returned arrays (<see cref="Observations"/>, <see cref="Rewards"/>,
/// <see cref="Terminated"/>, <see cref="Truncated"/>, <see cref="FinishedEpisodes"/>, <see cref="FinalObservations"/>)
/// are reused: the next Step or Reset overwrites them, so copy what you keep.
/// Finished episodes are reported on the step that ends them: from a <see cref="RecordEpisodeStatistics"/> in an
/// env's wrapper chain if there is one (raw returns when it sits below reward wrappers, as in CleanRL), otherwise
/// from the rewards this vector env sees.
/// </summary>
public sealed class SyncVectorEnv : IDisposable
{
    private readonly Env[] _envs;
    private readonly RecordEpisodeStatistics?[] _recorders;
    private readonly bool[] _autoreset;
    private readonly double[] _episodeReturn;
    private readonly int[] _episodeLength;
    private readonly long[] _episodeStart;
    private bool _wasReset;

    /// <summary>Creates numEnvs envs with factory(i); they must share observation and action spaces.</summary>
    public SyncVectorEnv(Func<int, Env> factory, int numEnvs, AutoresetMode autoresetMode = AutoresetMode.NextStep)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (numEnvs <= 0) throw new ArgumentOutOfRangeException(nameof(numEnvs), numEnvs, "SyncVectorEnv: numEnvs must be positive");
        _envs = new Env[numEnvs];
        for (int i = 0; i < numEnvs; i++)
        {
            _envs[i] = factory(i) ?? throw new ArgumentException($"SyncVectorEnv: the factory returned null for env {i}", nameof(factory));
            if (!_envs[i].ObservationSpace.Equals(_envs[0].ObservationSpace) || !_envs[i].ActionSpace.Equals(_envs[0].ActionSpace))
                throw new ArgumentException($"SyncVectorEnv: env {i} ({_envs[i].Id}) has spaces {_envs[i].ObservationSpace}, {_envs[i].ActionSpace}; env 0 has {_envs[0].ObservationSpace}, {_envs[0].ActionSpace}");
        }
        SingleObservationSpace = _envs[0].ObservationSpace;
        SingleActionSpace = _envs[0].ActionSpace;
        ObservationDim = SingleObservationSpace is Box box ? box.Dim
            : throw new ArgumentException($"SyncVectorEnv: needs a Box observation space, {_envs[0].Id} has {SingleObservationSpace}");
        ActionDim = SingleActionSpace is Box abox ? abox.Dim : 1;
        AutoresetMode = autoresetMode;

        _recorders = Array.ConvertAll(_envs, e => e.Find<RecordEpisodeStatistics>());
        _autoreset = new bool[numEnvs];
        _episodeReturn = new double[numEnvs];
        _episodeLength = new int[numEnvs];
        _episodeStart = new long[numEnvs];
        Observations = new float[numEnvs * ObservationDim];
        Rewards = new double[numEnvs];
        Terminated = new bool[numEnvs];
        Truncated = new bool[numEnvs];
        FinalObservations = new float[]?[numEnvs];
        FinishedEpisodes = new EpisodeInfo?[numEnvs];
    }

    /// <summary>Number of envs.</summary>
    public int NumEnvs => _envs.Length;
    /// <summary>The envs, in order.</summary>
    public IReadOnlyList<Env> Envs => _envs;
    /// <summary>How ended episodes are restarted.</summary>
    public AutoresetMode AutoresetMode { get; }
    /// <summary>Observation space of one env.</summary>
    public Space SingleObservationSpace { get; }
    /// <summary>Action space of one env.</summary>
    public Space SingleActionSpace { get; }
    /// <summary>Floats per observation.</summary>
    public int ObservationDim { get; }
    /// <summary>Floats per action in <see cref="Step(ReadOnlySpan{float})"/> (1 for a Discrete action space).</summary>
    public int ActionDim { get; }

    /// <summary>Current observations, float[NumEnvs * ObservationDim] (reused).</summary>
    public float[] Observations { get; }
    /// <summary>Rewards of the last step (reused).</summary>
    public double[] Rewards { get; }
    /// <summary>Terminated flags of the last step (reused).</summary>
    public bool[] Terminated { get; }
    /// <summary>Truncated flags of the last step (reused).</summary>
    public bool[] Truncated { get; }
    /// <summary>
    /// SameStep mode: for each env whose episode ended on the last step, its true last observation (Observations
    /// already holds the reset one); null elsewhere and always null in NextStep mode.
    /// </summary>
    public float[]?[] FinalObservations { get; }
    /// <summary>For each env whose episode ended on the last step, its return and length; null elsewhere.</summary>
    public EpisodeInfo?[] FinishedEpisodes { get; }

    /// <summary>Resets every env (env i with seed + i, or all unseeded) and returns <see cref="Observations"/>.</summary>
    public float[] Reset(int? seed = null)
    {
        for (int i = 0; i < NumEnvs; i++)
        {
            Write(i, _envs[i].Reset(seed is int s ? unchecked(s + i) : null));
            Rewards[i] = 0; Terminated[i] = false; Truncated[i] = false;
            FinalObservations[i] = null; FinishedEpisodes[i] = null;
            _autoreset[i] = false;
            StartEpisode(i);
        }
        _wasReset = true;
        return Observations;
    }

    /// <summary>Steps every env with its discrete action (one per env).</summary>
    public VectorStepResult Step(ReadOnlySpan<int> actions)
    {
        Check(actions.Length, NumEnvs, "int");
        for (int i = 0; i < NumEnvs; i++)
            Finish(i, _autoreset[i] ? null : _envs[i].Step(actions[i]));
        return Result;
    }

    /// <summary>Steps every env with its continuous action: float[NumEnvs * ActionDim], env i's at [i*ActionDim, ...).</summary>
    public VectorStepResult Step(ReadOnlySpan<float> actions)
    {
        Check(actions.Length, NumEnvs * ActionDim, "float");
        for (int i = 0; i < NumEnvs; i++)
            Finish(i, _autoreset[i] ? null : _envs[i].Step(actions.Slice(i * ActionDim, ActionDim)));
        return Result;
    }

    private VectorStepResult Result => new(Observations, Rewards, Terminated, Truncated);

    private void Check(int got, int expected, string kind)
    {
        if (!_wasReset) throw new InvalidOperationException($"SyncVectorEnv({_envs[0].Id}): call Reset before Step");
        if (got != expected)
            throw new ArgumentException($"SyncVectorEnv({_envs[0].Id}): expected {expected} {kind} actions ({NumEnvs} envs x {(kind == "int" ? 1 : ActionDim)}), got {got}");
    }

    // r is null for an env autoreset this step (NextStep mode).
    private void Finish(int i, StepResult? r)
    {
        FinalObservations[i] = null;
        FinishedEpisodes[i] = null;
        if (r is not StepResult step)
        {
            Write(i, _envs[i].Reset());
            Rewards[i] = 0; Terminated[i] = false; Truncated[i] = false;
            _autoreset[i] = false;
            StartEpisode(i);
            return;
        }
        Rewards[i] = step.Reward; Terminated[i] = step.Terminated; Truncated[i] = step.Truncated;
        _episodeReturn[i] += step.Reward;
        _episodeLength[i]++;
        bool done = step.Terminated || step.Truncated;
        if (!done) { Write(i, step.Observation); return; }

        var rec = _recorders[i];
        FinishedEpisodes[i] = rec is { EpisodeEnded: true, LastEpisode: EpisodeInfo e } ? e
            : new EpisodeInfo(_episodeReturn[i], _episodeLength[i], Stopwatch.GetElapsedTime(_episodeStart[i]).TotalSeconds);
        if (AutoresetMode == AutoresetMode.SameStep)
        {
            FinalObservations[i] = step.Observation;
            Write(i, _envs[i].Reset());
            StartEpisode(i);
        }
        else
        {
            Write(i, step.Observation);
            _autoreset[i] = true;
        }
    }

    private void StartEpisode(int i)
    {
        _episodeReturn[i] = 0; _episodeLength[i] = 0;
        _episodeStart[i] = Stopwatch.GetTimestamp();
    }

    private void Write(int i, float[] obs)
    {
        if (obs.Length != ObservationDim)
            throw new InvalidOperationException($"SyncVectorEnv: env {i} ({_envs[i].Id}) returned {obs.Length} floats, its space {SingleObservationSpace} has {ObservationDim}");
        obs.CopyTo(Observations, i * ObservationDim);
    }

    /// <summary>
    /// The vector env's whole state as JSON: each env's <see cref="Env.SaveState"/>, the current observations, the
    /// pending autoresets and the episodes in progress, so that <see cref="LoadState"/> on a vector env made the same
    /// way continues exactly (the arrays of the last step are not kept: they are read right after each step).
    /// </summary>
    public JsonObject SaveState() => new()
    {
        ["envs"] = new JsonArray(_envs.Select(e => (JsonNode)e.SaveState()).ToArray()),
        ["observations"] = StateJson.Nums(Observations),
        ["autoreset"] = StateJson.Ints(_autoreset.Select(b => b ? 1 : 0).ToArray()),
        ["episode_return"] = StateJson.Nums(_episodeReturn),
        ["episode_length"] = StateJson.Ints(_episodeLength),
        ["was_reset"] = _wasReset,
    };

    /// <summary>Restores what <see cref="SaveState"/> wrote; InvalidDataException when it does not fit these envs.</summary>
    public void LoadState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var envs = StateJson.Get(state, "envs") as JsonArray ?? throw new InvalidDataException("SyncVectorEnv state: 'envs' is not an array");
        var obs = StateJson.Floats(state, "observations");
        var autoreset = StateJson.IntArray(state, "autoreset");
        var ret = StateJson.Doubles(state, "episode_return");
        var len = StateJson.IntArray(state, "episode_length");
        if (envs.Count != NumEnvs || obs.Length != Observations.Length || autoreset.Length != NumEnvs || ret.Length != NumEnvs || len.Length != NumEnvs)
            throw new InvalidDataException($"SyncVectorEnv state: saved for {envs.Count} envs with {obs.Length / Math.Max(1, envs.Count)} floats each; this one has {NumEnvs} x {ObservationDim}");
        for (int i = 0; i < NumEnvs; i++)
        {
            _envs[i].LoadState(envs[i] as JsonObject ?? throw new InvalidDataException($"SyncVectorEnv state: env {i} is not an object"));
            _autoreset[i] = autoreset[i] != 0;
            _episodeReturn[i] = ret[i]; _episodeLength[i] = len[i];
            _episodeStart[i] = Stopwatch.GetTimestamp();
            FinalObservations[i] = null; FinishedEpisodes[i] = null;
        }
        obs.CopyTo(Observations, 0);
        _wasReset = StateJson.Bool(state, "was_reset");
    }

    /// <summary>Disposes every env.</summary>
    public void Dispose()
    {
        foreach (var e in _envs) e.Dispose();
    }
}
