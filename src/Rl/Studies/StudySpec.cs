// StudySpec: what a study runs (tasks = agent x env with a step budget, optimizer variants with their sweeps, seeds,
// evaluation), read from JSON with one-line errors, validated against the agents, envs and optimizer registry, and
// expanded into its runs; the built-in presets.
using System.Globalization;
using System.Text.Json;

namespace Tiny.Rl.Studies;

/// <summary>One task of a study: an agent on an env with a step budget and agent options over its defaults for the env.</summary>
/// <param name="Agent">dqn, td3 or ppo.</param>
/// <param name="Env">The env id.</param>
/// <param name="TotalSteps">Env steps per run.</param>
/// <param name="Options">Agent options (camelCase keys) over <see cref="Agents.Defaults"/>.</param>
/// <param name="CheckpointEvery">Env steps between the resumable checkpoints of a run.</param>
public sealed record StudyTask(string Agent, string Env, long TotalSteps, JsonObject Options, long CheckpointEvery)
{
    /// <summary>"agent/env": the task's name in scores and reports.</summary>
    public string Name => $"{Agent}/{Env}";
}

/// <summary>One optimizer of a study: a family (its label) at one point of its sweep.</summary>
/// <param name="Label">The name in scores and reports: the family, then the swept values, "alphagrad(alpha=2)".</param>
/// <param name="Family">The family's label ("alphagrad").</param>
/// <param name="Id">The label as a folder name ("alphagrad-alpha2").</param>
/// <param name="Spec">The optimizer, or null for the agent's default (Adam).</param>
/// <param name="Swept">The swept keys and their values at this point (empty without a sweep).</param>
/// <param name="AgentOptions">Agent options this optimizer changes, by agent ({"ppo": {"maxGradNorm": null}}).</param>
public sealed record OptimizerVariant(string Label, string Family, string Id, OptimizerSpec? Spec,
                                      IReadOnlyDictionary<string, double> Swept, IReadOnlyDictionary<string, JsonObject> AgentOptions);

/// <summary>One run of a study: a task, an optimizer and a seed, in its own folder.</summary>
/// <param name="Id">The run's folder name under the study's runs/.</param>
/// <param name="Task">The agent, env and budget.</param>
/// <param name="Optimizer">The optimizer variant.</param>
/// <param name="Seed">The training seed.</param>
public sealed record StudyRun(string Id, StudyTask Task, OptimizerVariant Optimizer, int Seed)
{
    /// <summary>The agent options of this run: the task's, then the optimizer's for this agent.</summary>
    public JsonObject Options()
    {
        var o = (JsonObject)Task.Options.DeepClone();
        if (Optimizer.AgentOptions.TryGetValue(Task.Agent, out var extra))
            foreach (var (k, v) in extra) o[k] = v?.DeepClone();
        return o;
    }

    /// <summary>The `tiny train` arguments that start this run into outDir, writing a checkpoint every
    /// <see cref="StudyTask.CheckpointEvery"/> steps.</summary>
    public string[] TrainArgs(string outDir)
    {
        var args = new List<string> { "train", Task.Agent, "--env", Task.Env, "--seed", Inv(Seed), "--total-steps", Inv(Task.TotalSteps) };
        if (Optimizer.Spec is { } spec) args.AddRange(["--optimizer", spec.ToString()]);
        foreach (var (k, v) in Options()) args.AddRange(["--" + Agents.ToKebab(k), FlagValue(v)]);
        args.AddRange(["--out", outDir, "--checkpoint-every", Inv(Task.CheckpointEvery)]);
        return args.ToArray();
    }

    /// <summary>A JSON option value as a flag's value: lists 64,64, null, true/false, numbers and text as they are.</summary>
    private static string FlagValue(JsonNode? v) => v switch
    {
        null => "null",
        JsonArray a => string.Join(',', a.Select(FlagValue)),
        JsonValue x when x.GetValueKind() == JsonValueKind.String => x.GetValue<string>(),
        _ => v.ToJsonString(),
    };

    private static string Inv(long x) => x.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A study: tasks × optimizer variants × seeds, each run trained with <c>tiny train</c>, scored by greedy evaluation on
/// seeds disjoint from training, and aggregated against a baseline optimizer. The JSON form:
/// <code>
/// {
///   "name": "my-study", "description": "...",
///   "seeds": 10,                      // or a list [1, 2, 5]; 10 means 1..10
///   "evalEpisodes": 20, "evalSeed": 1000000,
///   "checkpointEvery": 25000,         // optional; default: a quarter of each task's budget
///   "baseline": "adam",               // the optimizer label P(X > baseline) is computed against
///   "tasks": [ {"agent": "ppo", "env": ["CartPole-v1", "Acrobot-v1"], "totalSteps": 100000, "options": {"hiddenSize": 64}} ],
///   "optimizers": [
///     {"label": "adam"},              // no spec: the agent's default optimizer (Adam, CleanRL's settings)
///     {"label": "alphagrad", "spec": "alphagrad:momentum=0.9,eps=1e-5", "sweep": {"alpha": [0.5, 8, 128]},
///      "agentOptions": {"ppo": {"maxGradNorm": null}}}
///   ]
/// }
/// </code>
/// Every key is checked (an unknown one is an error naming the keys allowed), and so is every run's agent and
/// optimizer (<see cref="Validate"/>), so a study fails before it starts, not hours in.
/// </summary>
public sealed class StudySpec
{
    /// <summary>The study's name.</summary>
    public required string Name { get; init; }

    /// <summary>What the study is for (reports print it).</summary>
    public string Description { get; init; } = "";

    /// <summary>Training seeds.</summary>
    public required IReadOnlyList<int> Seeds { get; init; }

    /// <summary>Greedy evaluation episodes per run.</summary>
    public int EvalEpisodes { get; init; } = 20;

    /// <summary>Reset seed of the first evaluation episode (episode i: EvalSeed + i), disjoint from training's.</summary>
    public int EvalSeed { get; init; } = 1_000_000;

    /// <summary>The baseline optimizer's label.</summary>
    public string Baseline { get; init; } = "adam";

    /// <summary>The tasks.</summary>
    public required IReadOnlyList<StudyTask> Tasks { get; init; }

    /// <summary>The optimizer variants, sweeps expanded, in spec order.</summary>
    public required IReadOnlyList<OptimizerVariant> Optimizers { get; init; }

    /// <summary>The JSON the spec was read from (normalised: indented, as given).</summary>
    public required string Json { get; init; }

    /// <summary>The runs: task-major, then optimizer, then seed.</summary>
    public IReadOnlyList<StudyRun> Runs() =>
        (from t in Tasks from o in Optimizers from s in Seeds
         select new StudyRun($"{t.Agent}-{t.Env.Replace('/', '_')}-{o.Id}-{s}", t, o, s)).ToList();

    /// <summary>The built-in presets' names.</summary>
    public static IReadOnlyList<string> Presets => StudyPresets.Names;

    /// <summary>A built-in preset; an <see cref="ArgumentException"/> naming the presets for an unknown name.</summary>
    public static StudySpec Preset(string name) =>
        StudyPresets.Json(name) is { } json ? Parse(json, $"preset {name}")
            : throw new ArgumentException($"unknown preset '{name}'; presets: {string.Join(", ", Presets)}");

    /// <summary>Reads a spec file; <see cref="InvalidDataException"/> with one line naming the file for any problem.</summary>
    public static StudySpec Read(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{path} is a folder, not a study spec (JSON)");
        if (!File.Exists(path)) throw new FileNotFoundException($"study spec {path} not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses spec JSON; <paramref name="source"/> starts every error message.</summary>
    public static StudySpec Parse(string json, string source)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                     ?? throw Bad(source, "not a JSON object"); }
        catch (JsonException e) { throw Bad(source, $"not valid JSON ({e.Message.Split(". Path")[0]})"); }
        Keys(root, source, "", "name", "description", "seeds", "evalEpisodes", "evalSeed", "checkpointEvery", "baseline", "tasks", "optimizers");

        string name = Text(root, "name", source, "") ?? Path.GetFileNameWithoutExtension(source);
        if (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw Bad(source, $"\"name\" must be letters, digits, '-', '_' or '.', got '{name}'");
        var seeds = ReadSeeds(root["seeds"], source);
        int evalEpisodes = (int)Integer(root, "evalEpisodes", source, "", 20, min: 1);
        int evalSeed = (int)Integer(root, "evalSeed", source, "", 1_000_000, min: 0);
        long? checkpointEvery = root.ContainsKey("checkpointEvery") ? Integer(root, "checkpointEvery", source, "", 1, min: 1) : null;
        // Training resets env i of a vector env with seed + i (at most a few dozen envs): evaluation starts far above.
        if (seeds.Any(s => evalSeed < (long)s + 1024 && s < (long)evalSeed + evalEpisodes))
            throw Bad(source, $"\"evalSeed\" {evalSeed} is too close to the training seeds: evaluation must reset with seeds disjoint from training's (seed + env index); use a seed above {seeds.Max() + 1024}");

        var tasks = new List<StudyTask>();
        if (root["tasks"] is not JsonArray taskArray || taskArray.Count == 0) throw Bad(source, "\"tasks\" must be a non-empty list of {\"agent\", \"env\", \"totalSteps\", \"options\"}");
        for (int i = 0; i < taskArray.Count; i++)
        {
            string where = $"tasks[{i}]";
            if (taskArray[i] is not JsonObject t) throw Bad(source, $"{where} must be an object");
            Keys(t, source, where + " ", "agent", "env", "totalSteps", "options", "checkpointEvery");
            string agent = Text(t, "agent", source, where + " ") ?? throw Bad(source, $"{where} needs \"agent\" ({string.Join(", ", Agents.Algorithms)})");
            if (!Agents.Algorithms.Contains(agent)) throw Bad(source, $"{where}: unknown agent '{agent}'; agents: {string.Join(", ", Agents.Algorithms)}");
            var envs = t["env"] switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
                JsonArray a when a.Count > 0 && a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) => a.Select(e => e!.GetValue<string>()).ToList(),
                null => throw Bad(source, $"{where} needs \"env\" (an env id or a list of them)"),
                _ => throw Bad(source, $"{where}: \"env\" must be an env id or a non-empty list of them"),
            };
            if (!t.ContainsKey("totalSteps")) throw Bad(source, $"{where} needs \"totalSteps\"");
            long total = Integer(t, "totalSteps", source, where + " ", 0, min: 1);
            var options = t["options"] switch
            {
                null => new JsonObject(),
                JsonObject o => (JsonObject)o.DeepClone(),
                _ => throw Bad(source, $"{where}: \"options\" must be an object of agent options"),
            };
            long every = t.ContainsKey("checkpointEvery") ? Integer(t, "checkpointEvery", source, where + " ", 1, min: 1) : checkpointEvery ?? Math.Max(1, (total + 3) / 4);
            foreach (var env in envs)
            {
                if (!Env.Registered.Contains(env)) throw Bad(source, $"{where}: unknown env '{env}'; envs: {string.Join(", ", Env.Registered)}");
                if (!EnvScores.Table.ContainsKey(env))
                    throw Bad(source, $"{where}: env '{env}' has no score normalisation; envs a study can score: {string.Join(", ", EnvScores.Table.Keys)}");
                if (tasks.Any(x => x.Agent == agent && x.Env == env)) throw Bad(source, $"{where}: task {agent}/{env} is listed twice");
                tasks.Add(new StudyTask(agent, env, total, (JsonObject)options.DeepClone(), every));
            }
        }

        var variants = new List<OptimizerVariant>();
        if (root["optimizers"] is not JsonArray optArray || optArray.Count == 0) throw Bad(source, "\"optimizers\" must be a non-empty list of {\"label\", \"spec\", \"sweep\", \"agentOptions\"}");
        for (int i = 0; i < optArray.Count; i++)
        {
            string where = $"optimizers[{i}]";
            if (optArray[i] is not JsonObject o) throw Bad(source, $"{where} must be an object");
            Keys(o, source, where + " ", "label", "spec", "sweep", "agentOptions");
            string? specText = Text(o, "spec", source, where + " ");
            OptimizerSpec? spec = null;
            if (specText is not null)
            {
                try { spec = OptimizerSpec.Parse(specText); }
                catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException) { throw Bad(source, $"{where}: {OneLine(e)}"); }
            }
            string family = Text(o, "label", source, where + " ") ?? spec?.Name ?? throw Bad(source, $"{where} needs \"label\" or \"spec\"");
            if (family.Length == 0 || family.Any(c => c is ',' or '"' or '/' or '\\' or '(' or ')' || char.IsWhiteSpace(c)))
                throw Bad(source, $"{where}: \"label\" '{family}' may not hold commas, quotes, slashes, brackets or spaces");
            var agentOptions = new Dictionary<string, JsonObject>();
            if (o["agentOptions"] is { } ao)
            {
                if (ao is not JsonObject aoo) throw Bad(source, $"{where}: \"agentOptions\" must be an object by agent ({{\"ppo\": {{\"maxGradNorm\": null}}}})");
                foreach (var (agent, opts) in aoo)
                {
                    if (!Agents.Algorithms.Contains(agent)) throw Bad(source, $"{where}: agentOptions: unknown agent '{agent}'; agents: {string.Join(", ", Agents.Algorithms)}");
                    agentOptions[agent] = opts as JsonObject ?? throw Bad(source, $"{where}: agentOptions.{agent} must be an object of agent options");
                }
            }
            var points = new List<Dictionary<string, double>> { new() };
            if (o["sweep"] is { } sweepNode)
            {
                if (sweepNode is not JsonObject sweep || sweep.Count == 0) throw Bad(source, $"{where}: \"sweep\" must be an object of key: [values] ({{\"alpha\": [0.5, 8]}})");
                if (spec is null) throw Bad(source, $"{where}: a sweep needs a \"spec\" to sweep the options of");
                foreach (var (key, valuesNode) in sweep)
                {
                    if (valuesNode is not JsonArray values || values.Count == 0 || values.Any(v => v is not JsonValue jv || jv.GetValueKind() != JsonValueKind.Number))
                        throw Bad(source, $"{where}: sweep.{key} must be a non-empty list of numbers");
                    var xs = values.Select(v => v!.GetValue<double>()).ToList();
                    if (xs.Distinct().Count() != xs.Count) throw Bad(source, $"{where}: sweep.{key} lists a value twice");
                    points = points.SelectMany(p => xs.Select(x => new Dictionary<string, double>(p) { [key] = x })).ToList();
                }
            }
            foreach (var p in points)
            {
                var s = spec;
                foreach (var (k, v) in p) s = s!.With(k, v);
                try { s?.Validate(); }
                catch (Exception e) when (e is ArgumentException or KeyNotFoundException) { throw Bad(source, $"{where}: {OneLine(e)}"); }
                string values = string.Join(";", p.Select(kv => $"{kv.Key}={Num(kv.Value)}"));
                string label = p.Count == 0 ? family : $"{family}({values})";
                string id = p.Count == 0 ? family : family + "-" + string.Join("-", p.Select(kv => kv.Key + Num(kv.Value)));
                if (variants.Any(v => v.Label == label)) throw Bad(source, $"{where}: optimizer label '{label}' is used twice");
                variants.Add(new OptimizerVariant(label, family, id, s, p, agentOptions));
            }
        }
        string baseline = Text(root, "baseline", source, "") ?? "adam";
        if (!variants.Any(v => v.Label == baseline))
            throw Bad(source, $"\"baseline\" '{baseline}' is not an optimizer label of the study ({string.Join(", ", variants.Select(v => v.Label))})");

        return new StudySpec
        {
            Name = name, Description = Text(root, "description", source, "") ?? "", Seeds = seeds, EvalEpisodes = evalEpisodes,
            EvalSeed = evalSeed, Baseline = baseline, Tasks = tasks, Optimizers = variants,
            Json = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }),
        };
    }

    /// <summary>
    /// Builds the agent of every (task, optimizer) pair once, so an unknown option, a bad value or an action space the
    /// agent cannot handle is found before any run starts; an <see cref="ArgumentException"/> naming the pair.
    /// </summary>
    public void Validate()
    {
        foreach (var t in Tasks)
            foreach (var o in Optimizers)
            {
                var run = new StudyRun("", t, o, Seeds[0]);
                try
                {
                    var agent = Agents.Create(t.Agent, t.Env, run.Options(), o.Spec, Seeds[0], t.TotalSteps);
                    (agent as IDisposable)?.Dispose();
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException or KeyNotFoundException)
                {
                    throw new ArgumentException($"{Name}: task {t.Name} with optimizer {o.Label}: {OneLine(e)}");
                }
            }
    }

    private static InvalidDataException Bad(string source, string what) => new($"{source}: {what}");

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    /// <summary>A number as the labels write it: shortest round-trip, invariant.</summary>
    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Keys(JsonObject o, string source, string where, params string[] allowed)
    {
        foreach (var (k, _) in o)
            if (!allowed.Contains(k))
                throw Bad(source, $"{where}unknown key '{k}'; keys: {string.Join(", ", allowed)}".TrimStart());
    }

    private static string? Text(JsonObject o, string key, string source, string where) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Bad(source, $"{where}\"{key}\" must be text, got {other.ToJsonString()}".TrimStart()),
    };

    private static long Integer(JsonObject o, string key, string source, string where, long fallback, long min)
    {
        if (o[key] is null) return fallback;
        if (o[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out long x) && x >= min) return x;
        throw Bad(source, $"{where}\"{key}\" must be an integer >= {min}, got {o[key]!.ToJsonString()}".TrimStart());
    }

    private static List<int> ReadSeeds(JsonNode? node, string source)
    {
        const string what = "\"seeds\" must be a count (10: seeds 1..10) or a non-empty list of distinct integers";
        switch (node)
        {
            case null: throw Bad(source, "needs \"seeds\" (a count, or a list of seeds)");
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out int n):
                if (n < 1) throw Bad(source, what);
                return Enumerable.Range(1, n).ToList();
            case JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.Number && xv.TryGetValue<int>(out _)):
                var seeds = a.Select(x => x!.GetValue<int>()).ToList();
                if (seeds.Distinct().Count() != seeds.Count) throw Bad(source, what);
                return seeds;
            default: throw Bad(source, what);
        }
    }
}
