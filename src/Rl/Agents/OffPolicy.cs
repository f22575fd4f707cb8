// OffPolicy: what DQN and TD3 truly share: soft/hard target updates, copying arrays into reused tensors, and the
// checkpoint directory (model.safetensors + config.json) with clear errors for a missing or corrupt one.
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>Helpers shared by the off-policy agents.</summary>
public static class OffPolicy
{
    /// <summary>ArgumentException "algo: what" unless ok (an option's name, its allowed range and the value given).</summary>
    internal static void Check(bool ok, string algo, string what)
    {
        if (!ok) throw new ArgumentException($"{algo}: {what}");
    }

    /// <summary>The checks DQN and TD3 share: a budget that can train (more steps than learning-starts), a batch
    /// the buffer can serve, and a replay buffer that fits in memory before it is allocated.</summary>
    internal static void CheckBudget(string algo, long totalTimesteps, int learningStarts, int bufferSize, int batchSize, int obsDim, int actionDim)
    {
        Check(totalTimesteps > learningStarts, algo,
              $"totalTimesteps ({totalTimesteps}) must exceed learningStarts ({learningStarts}): no gradient step would run");
        Check(batchSize <= bufferSize, algo, $"batchSize ({batchSize}) must not exceed bufferSize ({bufferSize})");
        // Floats per transition: obs, next obs, action, reward, terminated.
        double bytes = (double)bufferSize * (2.0 * obsDim + actionDim + 2) * sizeof(float);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Check(bytes <= 0.8 * available && (long)bufferSize * obsDim <= Array.MaxLength, algo,
              $"bufferSize {bufferSize} needs {bytes / (1 << 20):F0} MiB of replay memory, more than 80% of the {available / (1 << 20)} MiB available");
    }

    /// <summary>
    /// Polyak averaging, target = tau * source + (1 - tau) * target, over matching parameter lists (tau = 1 is a
    /// hard copy). Allocation-free: one fused pass per parameter on its backend, which bumps the target's version.
    /// </summary>
    public static void SoftUpdate(IReadOnlyList<Tensor> target, IReadOnlyList<Tensor> source, double tau)
    {
        if (target.Count != source.Count) throw new ArgumentException($"SoftUpdate: {target.Count} target vs {source.Count} source parameters");
        var polyak = new Polyak<float> { Tau = (float)tau, Keep = (float)(1.0 - tau) };
        for (int p = 0; p < target.Count; p++)
        {
            if (target[p].Numel != source[p].Numel) throw new ArgumentException($"SoftUpdate: parameter {p} has {target[p].Numel} vs {source[p].Numel} elements");
            if (tau == 1.0) { using (Tensor.NoGrad()) target[p].CopyFrom(source[p]); }
            else target[p].Backend.FusedMap<Polyak<float>, float>(polyak, target[p].Storage, source[p].Storage, []);
        }
    }

    /// <summary>x = tau * y + keep * x in T, two products and one sum rounded as written (no FMA).</summary>
    public struct Polyak<T> : IFusedMap<Polyak<T>, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        /// <summary>The source's weight tau, and the target's, 1 - tau (both rounded to T).</summary>
        public T Tau, Keep;

        /// <inheritdoc/>
        public static void Apply<L>(in Polyak<T> c, L r, ref L x, L y, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T> =>
            x = L.Splat(c.Tau) * y + L.Splat(c.Keep) * x;
    }

    /// <summary>SoftUpdate over two modules of the same structure (allocates the parameter lists; cache them in hot loops).</summary>
    public static void SoftUpdate(Module target, Module source, double tau) =>
        SoftUpdate(target.Parameters().ToList(), source.Parameters().ToList(), tau);

    /// <summary>
    /// Runs episodes with the agent's deterministic action (greedy / mean) on a fresh envId (with its time limit)
    /// and returns each episode's return; episode i resets with seed + i.
    /// </summary>
    public static double[] Evaluate(IAgent agent, string envId, int episodes, int seed)
    {
        using var env = Env.Make(envId);
        bool discrete = env.ActionSpace is Discrete;
        var returns = new double[episodes];
        for (int e = 0; e < episodes; e++)
        {
            var obs = env.Reset(unchecked(seed + e));
            double ret = 0;
            while (true)
            {
                var a = agent.Act(obs);
                var r = discrete ? env.Step((int)a[0]) : env.Step(a);
                ret += r.Reward;
                obs = r.Observation;
                if (r.Terminated || r.Truncated) break;
            }
            returns[e] = ret;
        }
        return returns;
    }

    /// <summary>A float32 tensor's values on the host (a copy).</summary>
    public static ReadOnlySpan<float> Host(Tensor t) => t.ToArray();

    /// <summary>Copies data into a reused float32 tensor of the same size (on any device) and marks it modified.</summary>
    public static Tensor Fill(Tensor t, ReadOnlySpan<float> data) => t.CopyFrom(data);

    /// <summary>Writes DIR/model.safetensors (the named tensors) and DIR/config.json.</summary>
    public static void SaveModel(string dir, IEnumerable<KeyValuePair<string, Tensor>> tensors, JsonObject config)
    {
        Directory.CreateDirectory(dir);
        Safetensors.Save(Path.Combine(dir, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads DIR/config.json and checks its "algorithm"; throws a clear exception when missing or corrupt.</summary>
    public static JsonObject ReadConfig(string dir, string algorithm)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{algorithm} checkpoint: directory '{dir}' does not exist");
        string path = Path.Combine(dir, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{algorithm} checkpoint: '{path}' is missing", path);
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
            throw new FileNotFoundException($"{algorithm} checkpoint: '{Path.Combine(dir, "model.safetensors")}' is missing");
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object"); }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        { throw new InvalidDataException($"{algorithm} checkpoint: '{path}' is not valid JSON: {e.Message}", e); }
        string? alg = config["algorithm"]?.GetValue<string>();
        if (alg != algorithm) throw new InvalidDataException($"{algorithm} checkpoint: '{path}' holds algorithm '{alg}', expected '{algorithm}'");
        return config;
    }

    /// <summary>Loads DIR/model.safetensors into the named tensors; a corrupt or mismatched file throws InvalidDataException.</summary>
    public static void LoadWeights(string dir, IReadOnlyList<KeyValuePair<string, Tensor>> targets, string algorithm)
    {
        string path = Path.Combine(dir, "model.safetensors");
        try { Safetensors.LoadInto(path, targets); }
        catch (Exception e) when (e is not InvalidDataException and not FileNotFoundException)
        { throw new InvalidDataException($"{algorithm} checkpoint: cannot read '{path}': {e.Message}", e); }
    }

    /// <summary>Options record -> JSON (public properties, camelCase).</summary>
    public static JsonNode OptionsToJson<T>(T options) =>
        JsonSerializer.SerializeToNode(options, JsonOpts) ?? throw new InvalidOperationException("options serialised to null");

    /// <summary>JSON -> options record; clear error when corrupt.</summary>
    public static T OptionsFromJson<T>(JsonNode? node, string algorithm)
    {
        if (node is null) throw new InvalidDataException($"{algorithm} checkpoint: config.json has no 'options'");
        try { return node.Deserialize<T>(JsonOpts) ?? throw new InvalidDataException("null options"); }
        catch (JsonException e) { throw new InvalidDataException($"{algorithm} checkpoint: bad 'options' in config.json: {e.Message}", e); }
    }

    private static readonly JsonSerializerOptions JsonOpts = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>
/// The part of an off-policy training run in progress that DQN and TD3 share: three generators forked from the seed
/// (env resets, exploration, replay sampling), the one-env vector env, the replay buffer, the current observation and
/// the step; and its checkpoint (each agent adds its optimizers and logged values).
/// </summary>
internal abstract class OffPolicySession(Rng root, SyncVectorEnv envs, ReplayBuffer buffer, int obsDim)
{
    /// <summary>Seeds the env resets.</summary>
    public Rng EnvRng { get; } = root.Fork();
    /// <summary>Exploration: DQN's epsilon-greedy draws, TD3's action and target-policy noise.</summary>
    public Rng ActRng { get; } = root.Fork();
    /// <summary>Replay sampling.</summary>
    public Rng SampleRng { get; } = root.Fork();
    public SyncVectorEnv Envs { get; } = envs;
    public ReplayBuffer Buffer { get; } = buffer;
    public float[] Obs { get; } = new float[obsDim];
    public long Step { get; set; }
    /// <summary>Eval() was called on the optimizers (a finished run).</summary>
    public bool EvalMode { get; set; }

    /// <summary>The optimizers by checkpoint name.</summary>
    public abstract (string Name, Optimizer Optimizer)[] Optimizers { get; }

    /// <summary>Starts the run: resets the env with a seed from <see cref="EnvRng"/>.</summary>
    public void Reset()
    {
        Envs.Reset(unchecked((int)EnvRng.NextUInt64()));
        Envs.Observations.AsSpan(0, Obs.Length).CopyTo(Obs);
    }

    /// <summary>The shared checkpoint: step, vector env, observation, replay buffer, generators and optimizers.</summary>
    public CheckpointWriter Checkpoint(string algorithm)
    {
        var w = new CheckpointWriter();
        w.Json["algorithm"] = algorithm;
        w.Json["global_step"] = Step;
        w.Json["envs"] = Envs.SaveState();
        w.Json["obs"] = StateJson.Nums(Obs);
        w.Json["rngs"] = new JsonArray(StateJson.Rng(EnvRng), StateJson.Rng(ActRng), StateJson.Rng(SampleRng));
        Buffer.SaveTo(w, "replay");
        foreach (var (name, optimizer) in Optimizers) w.Add(name, optimizer);
        return w;
    }

    /// <summary>Restores what <see cref="Checkpoint"/> wrote into this fresh (not reset) run; returns the reader for
    /// the agent's own entries.</summary>
    public CheckpointReader Restore(string dir, string algorithm)
    {
        var r = CheckpointReader.Open(dir);
        var j = r.Json;
        if (j["algorithm"]?.GetValue<string>() != algorithm) throw new InvalidDataException($"{dir}: the checkpoint is not a {algorithm} one");
        Envs.LoadState(StateJson.Object(j, "envs"));
        var saved = StateJson.Floats(j, "obs");
        if (saved.Length != Obs.Length) throw new InvalidDataException($"{dir}: the checkpoint's observation has {saved.Length} floats, the env's {Obs.Length}");
        saved.CopyTo(Obs, 0);
        var rngs = StateJson.Get(j, "rngs") as JsonArray ?? throw new InvalidDataException($"{dir}: 'rngs' is not an array");
        if (rngs.Count != 3) throw new InvalidDataException($"{dir}: {rngs.Count} generators saved, 3 expected");
        var gens = new[] { EnvRng, ActRng, SampleRng };
        for (int i = 0; i < 3; i++) gens[i].State = StateJson.ReadRng(new JsonObject { ["r"] = rngs[i]!.DeepClone() }, "r").State;
        Buffer.LoadFrom(r, "replay");
        foreach (var (name, optimizer) in Optimizers) r.Load(name, optimizer);
        Step = StateJson.Long(j, "global_step");
        return r;
    }
}
