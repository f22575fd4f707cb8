// RunningMeanStd and the wrappers that use it: NormalizeObservation and NormalizeReward (Gymnasium's, float64 stats).
namespace Tiny.Rl;

/// <summary>
/// Running mean and variance merged batch by batch (Chan et al.), as Gymnasium's RunningMeanStd: mean starts at 0,
/// variance at 1, count at <c>epsilon</c> (1e-4), so the statistics never divide by zero. Float64 throughout.
/// </summary>
public sealed class RunningMeanStd
{
    /// <summary>Statistics of vectors of length dim.</summary>
    public RunningMeanStd(int dim, double epsilon = 1e-4)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "RunningMeanStd: dim must be positive");
        Mean = new double[dim];
        Var = new double[dim];
        Array.Fill(Var, 1.0);
        Count = epsilon;
    }

    /// <summary>Per-element running mean (writable: copy frozen statistics in).</summary>
    public double[] Mean { get; }
    /// <summary>Per-element running (population) variance (writable).</summary>
    public double[] Var { get; }
    /// <summary>Number of samples seen, plus the initial epsilon.</summary>
    public double Count { get; set; }
    /// <summary>Vector length.</summary>
    public int Dim => Mean.Length;

    /// <summary>Replaces the statistics (e.g. with those saved alongside an agent).</summary>
    public void Set(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double count)
    {
        if (mean.Length != Dim || variance.Length != Dim) throw new ArgumentException($"RunningMeanStd.Set: expected {Dim} elements, got mean {mean.Length}, var {variance.Length}");
        mean.CopyTo(Mean); variance.CopyTo(Var); Count = count;
    }

    /// <summary>The statistics as JSON, exactly (for checkpoints).</summary>
    public JsonObject ToJson() => new() { ["mean"] = StateJson.Nums(Mean), ["var"] = StateJson.Nums(Var), ["count"] = StateJson.Num(Count) };

    /// <summary>Restores what <see cref="ToJson"/> wrote; InvalidDataException for another dimension.</summary>
    public void LoadJson(JsonObject o)
    {
        var mean = StateJson.Doubles(o, "mean");
        var variance = StateJson.Doubles(o, "var");
        if (mean.Length != Dim || variance.Length != Dim) throw new InvalidDataException($"RunningMeanStd: saved statistics have {mean.Length} elements, not {Dim}");
        Set(mean, variance, StateJson.Double(o, "count"));
    }

    /// <summary>Adds one sample.</summary>
    public void Update(ReadOnlySpan<float> x)
    {
        CheckDim(x.Length);
        for (int i = 0; i < Dim; i++) Merge(i, x[i], 0.0, 1.0);
        Count += 1.0;
    }

    /// <summary>Adds one sample.</summary>
    public void Update(ReadOnlySpan<double> x)
    {
        CheckDim(x.Length);
        for (int i = 0; i < Dim; i++) Merge(i, x[i], 0.0, 1.0);
        Count += 1.0;
    }

    /// <summary>Merges a batch given by its mean, (population) variance and size.</summary>
    public void UpdateFromMoments(ReadOnlySpan<double> batchMean, ReadOnlySpan<double> batchVar, double batchCount)
    {
        CheckDim(batchMean.Length); CheckDim(batchVar.Length);
        for (int i = 0; i < Dim; i++) Merge(i, batchMean[i], batchVar[i], batchCount);
        Count += batchCount;
    }

    // delta = bm - m; tot = n + bn; m += delta*bn/tot; var = (var*n + bvar*bn + delta^2*n*bn/tot)/tot  (Gymnasium's order)
    private void Merge(int i, double batchMean, double batchVar, double batchCount)
    {
        double delta = batchMean - Mean[i];
        double totCount = Count + batchCount;
        Mean[i] = Mean[i] + delta * batchCount / totCount;
        double m2 = Var[i] * Count + batchVar * batchCount + delta * delta * Count * batchCount / totCount;
        Var[i] = m2 / totCount;
    }

    private void CheckDim(int n)
    {
        if (n != Dim) throw new ArgumentException($"RunningMeanStd: expected {Dim} elements, got {n}");
    }
}

/// <summary>
/// Normalises observations to roughly zero mean and unit variance: while <see cref="Training"/>, each observation
/// (Reset's too) first updates the running statistics, then becomes (obs - mean) / sqrt(var + epsilon), optionally
/// clipped to [-clip, clip] (CleanRL's TransformObservation clip 10). Set Training false to evaluate with frozen
/// statistics. Statistics are float64 (Gymnasium 1.x keeps them in the observation dtype, float32).
/// </summary>
public sealed class NormalizeObservation : Wrapper
{
    /// <summary>Wraps an env with a <see cref="Box"/> observation space.</summary>
    public NormalizeObservation(Env env, double epsilon = 1e-8, float? clip = null) : base(env)
    {
        var box = env.ObservationSpace as Box ?? throw new ArgumentException($"NormalizeObservation({env.Id}): needs a Box observation space, got {env.ObservationSpace}", nameof(env));
        if (clip is float c && !(c > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "NormalizeObservation: clip must be positive");
        Epsilon = epsilon;
        Clip = clip;
        Stats = new RunningMeanStd(box.Dim);
        float bound = clip ?? float.PositiveInfinity;
        ObservationSpace = new Box(-bound, bound, box.Shape);
    }

    /// <inheritdoc/>
    public override Space ObservationSpace { get; }
    /// <summary>The running statistics (readable and settable).</summary>
    public RunningMeanStd Stats { get; }
    /// <summary>Per-element mean (writable array).</summary>
    public double[] Mean => Stats.Mean;
    /// <summary>Per-element variance (writable array).</summary>
    public double[] Var => Stats.Var;
    /// <summary>Sample count of the statistics.</summary>
    public double Count { get => Stats.Count; set => Stats.Count = value; }
    /// <summary>Whether observations update the statistics (false: frozen).</summary>
    public bool Training { get; set; } = true;
    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }
    /// <summary>Clip bound of the normalised observation, or null.</summary>
    public float? Clip { get; }

    /// <inheritdoc/>
    public override float[] Reset(int? seed = null) => Normalize(Inner.Reset(seed));
    /// <inheritdoc/>
    public override StepResult Step(int action) => Normalize(Inner.Step(action));
    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action) => Normalize(Inner.Step(action));

    private StepResult Normalize(StepResult r) => r with { Observation = Normalize(r.Observation) };

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        base.WriteState(state);
        state["stats"] = Stats.ToJson();
        state["training"] = Training;
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        base.ReadState(state);
        Stats.LoadJson(StateJson.Object(state, "stats"));
        Training = StateJson.Bool(state, "training");
    }

    private float[] Normalize(float[] obs)
    {
        if (Training) Stats.Update(obs);
        var result = new float[obs.Length];
        for (int i = 0; i < obs.Length; i++)
        {
            float v = (float)((obs[i] - Stats.Mean[i]) / Math.Sqrt(Stats.Var[i] + Epsilon));
            result[i] = Clip is float c ? Math.Clamp(v, -c, c) : v;
        }
        return result;
    }
}

/// <summary>
/// Scales rewards by the running standard deviation of the discounted return, as Gymnasium's NormalizeReward:
/// G = G*gamma*(1 - terminated) + r; while <see cref="Training"/> G updates the statistics; the reward becomes
/// r / sqrt(var + epsilon), optionally clipped to [-clip, clip]. Like Gymnasium, G carries over truncations and
/// resets (only termination zeroes it). With <see cref="RestartAtEpisodeEnd"/>, Stable-Baselines3's VecNormalize instead:
/// G = G*gamma + r, and G = 0 after every step that ends an episode (terminated or truncated).
/// </summary>
public sealed class NormalizeReward : Wrapper
{
    /// <summary>Wraps env with discount gamma; restartAtEpisodeEnd: VecNormalize's return (see the class).</summary>
    public NormalizeReward(Env env, double gamma = 0.99, double epsilon = 1e-8, double? clip = null, bool restartAtEpisodeEnd = false) : base(env)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "NormalizeReward: gamma must be in [0, 1]");
        if (clip is double c && !(c > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "NormalizeReward: clip must be positive");
        Gamma = gamma; Epsilon = epsilon; Clip = clip; RestartAtEpisodeEnd = restartAtEpisodeEnd;
    }

    /// <summary>True: G = G*gamma + r, zeroed after any episode end, as SB3's VecNormalize (so a time-out restarts it);
    /// false (default): Gymnasium's G = G*gamma*(1 - terminated) + r.</summary>
    public bool RestartAtEpisodeEnd { get; }

    /// <summary>The running statistics of the discounted return (Dim 1).</summary>
    public RunningMeanStd Stats { get; } = new(1);
    /// <summary>Variance of the discounted return.</summary>
    public double Var { get => Stats.Var[0]; set => Stats.Var[0] = value; }
    /// <summary>Mean of the discounted return (not used to scale, kept for completeness).</summary>
    public double Mean { get => Stats.Mean[0]; set => Stats.Mean[0] = value; }
    /// <summary>Sample count of the statistics.</summary>
    public double Count { get => Stats.Count; set => Stats.Count = value; }
    /// <summary>The discounted return accumulated so far.</summary>
    public double DiscountedReturn { get; set; }
    /// <summary>Whether steps update the statistics (false: frozen).</summary>
    public bool Training { get; set; } = true;
    /// <summary>Discount factor.</summary>
    public double Gamma { get; }
    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }
    /// <summary>Clip bound of the scaled reward, or null.</summary>
    public double? Clip { get; }

    /// <inheritdoc/>
    public override StepResult Step(int action) => Scale(Inner.Step(action));
    /// <inheritdoc/>
    public override StepResult Step(ReadOnlySpan<float> action) => Scale(Inner.Step(action));

    /// <inheritdoc/>
    protected override void WriteState(JsonObject state)
    {
        base.WriteState(state);
        state["stats"] = Stats.ToJson();
        state["discounted_return"] = StateJson.Num(DiscountedReturn);
        state["training"] = Training;
    }

    /// <inheritdoc/>
    protected override void ReadState(JsonObject state)
    {
        base.ReadState(state);
        Stats.LoadJson(StateJson.Object(state, "stats"));
        DiscountedReturn = StateJson.Double(state, "discounted_return");
        Training = StateJson.Bool(state, "training");
    }

    private StepResult Scale(StepResult r)
    {
        DiscountedReturn = DiscountedReturn * Gamma * (r.Terminated && !RestartAtEpisodeEnd ? 0.0 : 1.0) + r.Reward;
        if (Training) Stats.Update([DiscountedReturn]);
        if (RestartAtEpisodeEnd && (r.Terminated || r.Truncated)) DiscountedReturn = 0;
        double reward = r.Reward / Math.Sqrt(Stats.Var[0] + Epsilon);
        if (Clip is double c) reward = Math.Clamp(reward, -c, c);
        return r with { Reward = reward };
    }
}
