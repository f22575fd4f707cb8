// `tiny train {dqn|td3|ppo} --env ENV [...]` and `tiny train --resume RUN`: the command line made into a TrainRequest
// (TrainRun runs it). Every flag is a System.CommandLine option created once: the run's own, the optimizer keys from the
// registry, the agent's from its options record; --help lists those same options, grouped, with their defaults.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Cli;

/// <summary>`tiny train`: its options, its help, and the command line made into a <see cref="TrainRequest"/>.</summary>
public static class TrainCommand
{
    /// <summary>Runs `tiny train args...` (the arguments after "train") in-process and returns the exit code; ct stops
    /// training as a signal would.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default) =>
        Program.Run(["train", .. args], stdout, stderr, ct);

    /// <summary>The options that --resume allows beside it: the rest would change what runs.</summary>
    private const string ResumeAllows = "--device, --threads, --checkpoint-every, --assembly";

    /// <summary>The `train` command: one sub-command per agent, whose parsed request execute runs; bare, it prints the
    /// usage (exit 2).</summary>
    internal static Command Build(CancellationToken ct, Func<TrainRequest, TextWriter, TextWriter, CancellationToken, int> execute)
    {
        var all = Agents.Algorithms.Where(a => Agents.OptionsType(a) is not null).Select(a => new Flags(a)).ToList();
        var train = new Command("train", "train an agent; writes a run folder");
        train.Options.Add(CliParsing.Help((r, w) => WriteHelp(w, all, null)));
        train.SetAction(r => { WriteHelp(r.InvocationConfiguration.Error, all, null); return Program.Error; });
        foreach (var f in all)
        {
            var agent = new Command(f.Algo, $"train {f.Algo}");
            agent.Options.Add(CliParsing.Help((r, w) => WriteHelp(w, all, f, r.GetValue(f.EnvId))));
            foreach (var o in f.All) agent.Options.Add(o);
            agent.SetAction(r => ThreadsOption.With(r.GetValue(f.Threads), () => execute(Request(f, r), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct)));
            train.Subcommands.Add(agent);
        }
        return train;
    }

    /// <summary>
    /// The command line as parsed: the agent's name in lower case (`tiny train PPO`), and `tiny train --resume RUN ...`,
    /// which names no agent, read as `tiny train ALGO --resume RUN ...` with ALGO from RUN/config.json, so that ALGO's
    /// options check it like any other command line. A RUN that is not a run folder is a CliError.
    /// </summary>
    internal static string[] Normalize(string[] args)
    {
        if (args.Length < 2 || args[0] != "train") return args;
        if (Agents.Algorithms.FirstOrDefault(a => a.Equals(args[1], StringComparison.OrdinalIgnoreCase)) is { } algo)
            return ["train", algo, .. args[2..]];
        if (args.Any(a => a is "--help" or "-h" or "-?")) return args;
        for (int i = 1; i < args.Length; i++)
        {
            string? run = args[i] == "--resume" ? (i + 1 < args.Length ? args[i + 1] : throw new CliError("--resume needs a value"))
                : args[i].StartsWith("--resume=", StringComparison.Ordinal) || args[i].StartsWith("--resume:", StringComparison.Ordinal) ? args[i][9..] : null;
            if (run is not null) return ["train", ReadRun(run).Algo, .. args[1..]];
        }
        return args;
    }

    /// <summary>The one line for a word or flag `tiny train` does not know before the agent is named.</summary>
    internal static string UnknownBeforeAgent(string token) => token.StartsWith('-')
        ? $"name the agent first: tiny train {{{string.Join('|', Agents.Algorithms)}}} --env ENV [options], or tiny train --resume RUN ({token} is an option of the agent's command)"
        : $"unknown agent '{token}'; known: {string.Join(", ", Agents.Algorithms)}";

    /// <summary>The options of `tiny train ALGO`, each created once: the parser reads them and help lists them.</summary>
    private sealed class Flags
    {
        public readonly string Algo;
        public readonly Option<string> EnvId = CliParsing.Value("--env", "ENV", "environment: " + string.Join(", ", Env.Registered) + " (required unless --resume)", t => t);
        public readonly Option<int?> Seed = CliParsing.Value<int?>("--seed", "N", "seed of everything: init, sampling, env resets", t => CliParsing.Int(t, "--seed"));
        public readonly Option<long?> TotalSteps = CliParsing.Value<long?>("--total-steps", "N", "env steps to train", t => CliParsing.Positive(t, "--total-steps"));
        public readonly Option<string> Out = CliParsing.Value("--out", "DIR", "the run folder; one that already holds files is refused unless --force", t => t);
        public readonly Option<bool> Force = CliParsing.Switch("--force", "replace the files of an existing --out folder");
        public readonly Option<string> Config = CliParsing.Value("--config", "FILE.json",
            "agent options, \"optimizer\" and \"seed\" as JSON ({\"numEnvs\": 8, \"optimizer\": \"adam:eps=1e-5\"}), or a saved run's config.json; flags win", t => t);
        public readonly Option<string> Device = DeviceOption.Create("where the agent's networks, losses and updates run; its envs and dqn/td3's replay buffer stay on the cpu");
        public readonly Option<int?> Threads = ThreadsOption.Create();
        public readonly Option<string> Resume = CliParsing.Value("--resume", "RUN", "continue a stopped run exactly from its last checkpoint (agent, env and options from RUN)", t => t);
        public readonly Option<long?> CheckpointEvery = CliParsing.Value<long?>("--checkpoint-every", "N",
            "also write a resumable checkpoint every N env steps, bounding what kill -9 loses", t => CliParsing.Positive(t, "--checkpoint-every"));
        public readonly Option<int?> Internals = InternalsOption();
        public readonly Option<string[]> Assembly = AssemblyOption.Create(
            "a plugin assembly whose ITinyPlugin registers envs and networks (for --env, --net); repeatable; config.json records it for eval and --resume");
        public readonly Option<string> Optimizer = CliParsing.Value("--optimizer", "SPEC", "NAME[:key=value,...], e.g. alphagrad:alpha=2,momentum=0.9", t => t);
        public readonly Option<string> Lookahead = LookaheadOption.Create();

        /// <summary>The agent's options: one per settable property of its options record but the run's own (the env is
        /// --env, Seed --seed, TotalTimesteps --total-steps): the flag, the record's JSON name, and the value given.</summary>
        public readonly List<(Option Option, string Json, Func<ParseResult, JsonNode?> Value)> Agent = [];

        public readonly OptimizerFlags OptimizerFlags;

        public Flags(string algo)
        {
            Algo = algo;
            TotalSteps.Aliases.Add("--total-timesteps");   // the options record's (and CleanRL's) name for it
            foreach (var p in Agents.OptionsType(algo)!.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (p.CanWrite && p.Name is not ("Seed" or "TotalTimesteps"))
                    Agent.Add(AgentOption(p));
            var taken = Run.Concat(Agent.Select(a => a.Option)).Append(Optimizer).Append(Lookahead).SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
            OptimizerFlags = new OptimizerFlags(taken);
        }

        /// <summary>The run's options, in help's order.</summary>
        public IEnumerable<Option> Run => [EnvId, Seed, TotalSteps, Out, Force, Config, Device, Threads, Resume, CheckpointEvery, Internals, Assembly];

        /// <summary>Every option of the command.</summary>
        public IEnumerable<Option> All => Run.Append(Optimizer).Append(Lookahead).Concat(OptimizerFlags.Options).Concat(Agent.Select(a => a.Option));
    }

    /// <summary>--internals [every=N]: record the optimizers' internals every N updates (bare: every 10) into internals.csv.</summary>
    private static Option<int?> InternalsOption()
    {
        var o = new Option<int?>("--internals")
        {
            Description = $"record every N updates, per tensor, gradient/update/parameter norms and the optimizer's own internals into internals.csv (tiny inspect RUN draws them; bare: every={InternalsLog.DefaultEvery})",
            HelpName = "every=N", Arity = ArgumentArity.ZeroOrOne,
        };
        o.CustomParser = r =>
        {
            string? text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (text is not null && text.StartsWith("--", StringComparison.Ordinal)) { r.AddError($"--internals needs every=N (got the flag {text})"); return null; }
            try { return InternalsLog.ParseEvery(text); }
            catch (CliError e) { r.AddError(e.Message); return null; }
        };
        return o;
    }

    /// <summary>The option of one property of an agent's options record: --kebab-case, its [Description], a value of the
    /// property's type (a nullable one also takes null; a list 64,64 or 64 64), as the JSON the record is read from.</summary>
    private static (Option, string, Func<ParseResult, JsonNode?>) AgentOption(PropertyInfo p)
    {
        string json = JsonNamingPolicy.CamelCase.ConvertName(p.Name), flag = "--" + Agents.ToKebab(json);
        string description = p.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
        var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        bool nullable = type != p.PropertyType;
        if (type == typeof(bool))
        {
            var o = CliParsing.Switch(flag, description);
            return (o, json, r => JsonValue.Create(r.GetValue(o)));
        }
        if (type == typeof(int[]))
        {
            var o = CliParsing.IntList(flag, description);
            return (o, json, r => new JsonArray(r.GetValue(o)!.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()));
        }
        string valueName = type == typeof(int) || type == typeof(long) ? "N" : type == typeof(double) ? "X" : "TEXT";
        Func<string, JsonNode?> parse =
            type == typeof(int) ? s => JsonValue.Create(CliParsing.Int(s, flag))
            : type == typeof(long) ? s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? JsonValue.Create(v)
                                          : throw new CliError($"{flag}: '{s}' is not an integer")
            : type == typeof(double) ? s => JsonValue.Create(CliParsing.Number(s, flag))
            : s => JsonValue.Create(s);
        var option = CliParsing.Value(flag, nullable ? valueName + "|null" : valueName, description, s => new JsonArg(nullable && s == "null" ? null : parse(s)));
        return (option, json, r => r.GetValue(option)?.Node?.DeepClone());
    }

    /// <summary>An agent option's value as JSON; boxed, as a parsed value of null (`--target-kl null`) would read as none.</summary>
    private sealed record JsonArg(JsonNode? Node);

    /// <summary>`tiny train ALGO ...` as parsed: what to run (CliError and the registry's or the agent's
    /// ArgumentException for what cannot run).</summary>
    private static TrainRequest Request(Flags f, ParseResult r)
    {
        long? checkpointEvery = r.GetValue(f.CheckpointEvery);
        if (r.GetValue(f.Resume) is { } resume)
        {
            var allowed = new HashSet<Option> { f.Resume, f.Device, f.Threads, f.CheckpointEvery, f.EnvId, f.Assembly };
            var refused = r.CommandResult.Children.OfType<OptionResult>().Where(o => !o.Implicit && !allowed.Contains(o.Option))
                           .Select(o => o.IdentifierToken?.Value ?? o.Option.Name).Distinct().ToList();
            if (refused.Count > 0)
                throw new CliError($"--resume continues {resume} exactly as it was started: {string.Join(", ", refused)} would change what runs (beside --resume: {ResumeAllows})");
            var run = ReadRun(resume);
            AssemblyOption.LoadForRun(resume, r.GetValue(f.Assembly), RunConfig(resume));   // the run's env and network, if a plugin's
            if (run.Algo != f.Algo) throw new CliError($"--resume {resume}: that is a {run.Algo} run, not {f.Algo}");
            if (r.GetValue(f.EnvId) is { } env && env != run.Env) throw new CliError($"--resume {resume}: that run is on {run.Env}, not --env {env}");
            var resumeDevice = DeviceOption.Resolve(r.GetValue(f.Device) ?? "cpu");
            return new TrainRequest(run.Algo, run.Env, new JsonObject(), null, run.Seed, null, resumeDevice, resume, false, resume, checkpointEvery);
        }

        string algo = f.Algo;
        string env0 = r.GetValue(f.EnvId) ?? throw new CliError("--env is required (e.g. --env CartPole-v1)");
        AssemblyOption.Load(r.GetValue(f.Assembly));   // before the env and network are looked up
        var overrides = new JsonObject();
        foreach (var (o, json, value) in f.Agent)
            if (r.Given(o)) overrides[json] = value(r);
        string? optimizerName = r.GetValue(f.Optimizer), lookahead = r.GetValue(f.Lookahead);
        var optArgs = f.OptimizerFlags.Given(r);
        var device = DeviceOption.Resolve(r.GetValue(f.Device) ?? "cpu");

        // --config FILE.json: {"optimizer": "adam:eps=1e-5" or {...}, "numEnvs": 8, ...}; flags win over the file.
        if (r.GetValue(f.Config) is { } configFile)
        {
            if (!File.Exists(configFile)) throw new CliError($"--config: file '{configFile}' not found");
            JsonObject file;
            try { file = JsonNode.Parse(File.ReadAllText(configFile))?.AsObject() ?? throw new CliError($"--config: '{configFile}' is empty"); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new CliError($"--config: '{configFile}' is not a JSON object: {e.Message}"); }
            if (file["options"] is JsonObject nested)   // a saved run's config.json: its options, and its optimizer beside them
            {
                var savedOptimizer = file["optimizer"]?.DeepClone();
                file = (JsonObject)nested.DeepClone();
                if (savedOptimizer is not null && !file.ContainsKey("optimizer")) file["optimizer"] = savedOptimizer;
            }
            foreach (var (k, v) in file)
            {
                if (k == "optimizer")
                {
                    optimizerName ??= v switch
                    {
                        JsonObject o => OptimizerSpec.FromJson(o).ToString(),
                        JsonValue sv when sv.TryGetValue<string>(out var text) => text,
                        _ => throw new CliError($"--config: \"optimizer\" must be a spec string (\"adam:lr=3e-4\") or {{\"name\", \"args\"}}, got {v?.ToJsonString() ?? "null"}"),
                    };
                    continue;
                }
                string ck = Agents.ToCamel(k);
                if (!overrides.ContainsKey(ck)) overrides[ck] = v?.DeepClone();
            }
        }

        // The seed: --seed, else the config file's, else 1 (the agent options' seed is set from it).
        int seed = r.GetValue(f.Seed) ?? (overrides["seed"] is JsonValue seedNode && seedNode.TryGetValue<int>(out int fileSeed) ? fileSeed : 1);
        overrides.Remove("seed");

        // The optimizer: the agent's default (or --optimizer / the config's) with only the keys given changed.
        OptimizerSpec? spec = null;
        if (optimizerName is not null || optArgs.Count > 0 || lookahead is not null)
        {
            spec = optimizerName is null ? Agents.DefaultOptimizer(algo) : OptimizerSpec.Parse(optimizerName);
            if (lookahead is not null) spec = OptimizerSpec.Parse(LookaheadOption.AddTo(spec.ToString(), lookahead));
            var info = Optimizers.Info(spec.Name);
            foreach (var (k, v) in optArgs)
            {
                if (info.Find(k) is null)
                    throw new CliError($"--{k} does not apply to {spec.Name}; {spec.Name} takes: " +
                                       string.Join(", ", info.Options.Select(o => o.Flag).Where(f.OptimizerFlags.Takes)));
                spec = spec.With(k, v is "true" ? 1 : v is "false" ? 0 : double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture));
            }
            spec.Validate();
        }

        return new TrainRequest(algo, env0, overrides, spec, seed, r.GetValue(f.TotalSteps), device, r.GetValue(f.Out), r.GetValue(f.Force), null, checkpointEvery,
                                r.Given(f.Internals) ? r.GetValue(f.Internals) : null);
    }

    /// <summary>What --resume RUN continues, from RUN/config.json: the agent ("algorithm"), the env ("envId", "env_id" or
    /// the options' envId) and the seed. A missing folder, a folder without config.json, or one that names no known
    /// agent or env is a CliError of one line.</summary>
    internal static (string Algo, string Env, int Seed) ReadRun(string run)
    {
        if (File.Exists(run)) throw new CliError($"--resume {run}: a file, not a run folder");
        if (!Directory.Exists(run)) throw new CliError($"--resume {run}: no such run folder");
        string path = RunConfig(run);
        if (!File.Exists(path)) throw new CliError($"--resume {run}: not a run folder (no config.json or checkpoint in it)");
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CliError($"--resume {run}: config.json is not a JSON object"); }
        catch (JsonException e) { throw new CliError($"--resume {run}: config.json is not valid JSON ({Program.OneLine(e)})"); }
        static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        string algo = Text(config["algorithm"]) is { } a && Agents.Algorithms.Contains(a) ? a
            : throw new CliError($"--resume {run}: config.json names no agent of {string.Join(", ", Agents.Algorithms)} (\"algorithm\": {config["algorithm"]?.ToJsonString() ?? "missing"})");
        string env = Agents.ConfigEnvId(config) ?? throw new CliError($"--resume {run}: config.json names no env (\"envId\")");
        int seed = config["options"]?["seed"] is JsonValue s && s.TryGetValue<int>(out int sv) ? sv : 1;
        return (algo, env, seed);
    }

    /// <summary>The config.json of a run folder: RUN/config.json, or its checkpoint's (a run killed before it wrote its
    /// outputs has config.json only there).</summary>
    private static string RunConfig(string run)
    {
        string path = Path.Combine(run, "config.json");
        return !File.Exists(path) && TrainRun.LatestCheckpoint(run) is { } ck ? Path.Combine(ck, "config.json") : path;
    }

    /// <summary>
    /// The help of `tiny train` (f null: every agent) or `tiny train ALGO`: usage, then the run's, the optimizer's and
    /// the agent's options, each written from the option the parser reads, with its default for env (or the agent's
    /// first env).
    /// </summary>
    private static void WriteHelp(TextWriter w, IReadOnlyList<Flags> all, Flags? f, string? env = null)
    {
        var shown = f is null ? all : [f];
        var any = shown[0];
        string algos = f?.Algo ?? $"{{{string.Join('|', all.Select(a => a.Algo))}}}";
        string E(Flags a) => env ?? (a.Algo == "td3" ? "Pendulum-v1" : "CartPole-v1");
        string PerAgent(Func<Flags, string> text) => shown.Count == 1 ? text(shown[0]) : string.Join(", ", shown.Select(a => $"{a.Algo} {text(a)}"));

        w.WriteLine($"usage: tiny train {algos} --env ENV [options]{(f is null ? "      (tiny train ALGO --help: that agent's options)" : "")}");
        w.WriteLine($"       tiny train --resume RUN [{ResumeAllows.Replace(", ", "] [").Replace("--device", "--device D").Replace("--threads", "--threads N").Replace("--checkpoint-every", "--checkpoint-every N").Replace("--assembly", "--assembly FILE.dll")}]");
        w.WriteLine("Flags win over --config FILE.json, which wins over the agent's defaults for the env.");
        w.WriteLine();
        w.WriteLine("run:");
        foreach (var o in any.Run)
            w.WriteLine(CliParsing.Row(o, o == any.Seed ? "1"
                : o == any.TotalSteps ? PerAgent(a => Agents.Defaults(a.Algo, E(a))["totalTimesteps"]?.ToJsonString() ?? "?")
                : o == any.Out ? $"runs/{f?.Algo ?? "ALGO"}-ENV-SEED, or the next free -2, -3..."
                : o == any.Device ? "cpu" : null, width: 24));

        w.WriteLine();
        w.WriteLine($"optimizer: the agent's default optimizer with only the keys given changed (default {PerAgent(a => Agents.DefaultOptimizer(a.Algo).ToString())}):");
        w.WriteLine(CliParsing.Row(any.Optimizer, null, width: 24));
        w.WriteLine($"  {"--lr X",-24} the optimizer's lr (default: the agent's --learning-rate, {PerAgent(a => Agents.Defaults(a.Algo, E(a))["learningRate"]?.ToJsonString() ?? "?")})");
        w.WriteLine(CliParsing.Row(any.Lookahead, null, width: 24));
        w.WriteLine($"  {"--OPTION VALUE",-24} an option of the optimizer, kebab-case (booleans bare, or true/false); unset ones keep the defaults below:");
        var shadowed = new SortedSet<string>(shown.SelectMany(a => a.OptimizerFlags.Shadowed), StringComparer.Ordinal);
        foreach (var name in Optimizers.Names)
        {
            var info = Optimizers.Info(name);
            var flags = new List<string>();
            foreach (var o in info.Options)
            {
                if (o.Key == "lr") continue;
                if (shadowed.Contains(o.Flag)) flags.Add($"({o.Key}={o.DefaultText})");
                else flags.Add(o.IsBool ? $"{o.Flag}{(o.Default is true ? "=true" : "")}" : $"{o.Flag} {o.DefaultText}");
            }
            w.WriteLine($"    {name,-10} {info.Description}");
            w.WriteLine($"               {string.Join("  ", flags)}");
        }
        if (shadowed.Count > 0)
        {
            var keys = shadowed.Select(s => s[2..].Replace('-', '_')).ToList();
            w.WriteLine($"    ({string.Join(", ", keys)}: the agent's flag of that name wins; give the optimizer's as --optimizer NAME:{keys[0]}=X)");
        }

        foreach (var a in shown)
        {
            var defaults = Agents.DescribeOptions(a.Algo, E(a)).ToDictionary(d => d.Name, d => d.Default);
            w.WriteLine();
            w.WriteLine($"{a.Algo} (defaults for {E(a)}; tiny train {a.Algo} --env ENV --help shows another env's; a switch is bare, or true|false):");
            foreach (var (o, json, _) in a.Agent)
                w.WriteLine(CliParsing.Row(o, defaults.GetValueOrDefault(json)?.Trim('[', ']'), width: 30));
        }
    }
}
