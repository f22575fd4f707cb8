// `tiny train {dqn|td3|ppo} --env NAME [...]`: trains an agent with live progress, writes metrics.csv,
// model.safetensors, config.json and curve.png to --out: never over an existing run unless --force, each file written
// atomically, stopped cleanly by SIGINT/SIGTERM/SIGHUP, and stopped with exit 3 the moment a loss or parameter is
// not finite (a diverged run is never reported as done).
using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Cli;

public static class TrainCommand
{
    /// <summary>
    /// Optimizer options accepted as flags, from the registry: every key of every registered optimizer in kebab-case
    /// (--lr, --weight-decay, --beta1...), except those that are also options of the agent (--gamma is the discount;
    /// AdaBound's gamma: --optimizer adabound:gamma=X). Value: whether the flag is a boolean (bare, or true/false/1/0).
    /// </summary>
    private static Dictionary<string, bool> OptimizerFlags(string? algo)
    {
        var agent = AgentFlags(algo);
        var flags = new Dictionary<string, bool>();
        foreach (var name in Optimizers.Names)
            foreach (var o in Optimizers.Info(name).Options)
            {
                string f = o.Flag[2..];
                if (!agent.Contains(f)) flags[f] = flags.GetValueOrDefault(f) || o.IsBool;
            }
        return flags;
    }

    /// <summary>The agent's options as flags (kebab-case) for algo, or for every agent.</summary>
    private static HashSet<string> AgentFlags(string? algo) =>
        (algo is null ? Agents.Algorithms : [algo]).Select(Agents.OptionsType).OfType<Type>()
            .SelectMany(t => t.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance).Where(p => p.CanWrite))
            .Select(p => Agents.ToKebab(JsonNamingPolicy.CamelCase.ConvertName(p.Name))).ToHashSet();

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        try
        {
            return RunCore(args, stdout, stderr, ct);
        }
        catch (Exception e) when (e is CliError or ArgumentException or NotSupportedException or IOException or InvalidDataException or JsonException or FormatException)
        {
            stderr.WriteLine($"tiny train: error: {e.Message}");
            return 2;
        }
    }

    private static int RunCore(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken externalCt)
    {
        if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
        {
            string? algoForHelp = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
            string? envForHelp = Value(args, "--env");
            PrintHelp(args.Length == 0 ? stderr : stdout, algoForHelp, envForHelp);   // asked for: stdout; a missing command: stderr
            return args.Length == 0 ? 2 : 0;
        }
        string algo = args[0].ToLowerInvariant();
        if (!Agents.Algorithms.Contains(algo))
            throw new CliError($"unknown agent '{args[0]}'; known: {string.Join(", ", Agents.Algorithms)}");

        string? env = null, outDir = null, configFile = null, optimizerName = null, deviceName = null, lookahead = null;
        bool force = false;
        int? seedFlag = null;
        long? totalSteps = null;
        var optArgs = new Dictionary<string, double>();
        var optimizerFlags = OptimizerFlags(algo);
        var overrides = new JsonObject();
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--")) throw new CliError($"unexpected argument '{a}'");
            string key = a[2..];
            string? inline = null;
            if (key.Contains('=')) { inline = key[(key.IndexOf('=') + 1)..]; key = key[..key.IndexOf('=')]; }
            string Next() => inline ?? (i + 1 < args.Length ? args[++i] : throw new CliError($"{a} needs a value"));
            switch (key)
            {
                case "env": env = Next(); break;
                case "out": outDir = Next(); break;
                case "config": configFile = Next(); break;
                case "optimizer": optimizerName = Next(); break;
                case "seed": seedFlag = ParseInt(Next(), "--seed"); break;
                case "total-steps":
                {
                    string s = Next();
                    if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 0)
                        throw new CliError($"--total-steps: '{s}' is not a positive integer");
                    totalSteps = n; break;
                }
                case "device": deviceName = Next(); break;
                case "force": force = inline is null || inline == "true"; break;
                case "lookahead": lookahead = Next(); LookaheadOption.Parse(lookahead); break;
                default:
                    if (optimizerFlags.TryGetValue(key.Replace('_', '-'), out bool isBool))
                    {
                        key = key.Replace('_', '-');
                        // A boolean takes an explicit true/false/1/0 after it, or stands alone (true).
                        string v = inline ?? (isBool ? (i + 1 < args.Length && args[i + 1] is "true" or "false" or "1" or "0" ? args[++i] : "true") : Next());
                        optArgs[key] = ParseDouble(v, "--" + key);
                        break;
                    }
                    overrides[Agents.ToCamel(key)] = ParseValue(Next());
                    break;
            }
        }
        if (env is null) throw new CliError("--env is required (e.g. --env CartPole-v1)");
        var device = DeviceOption.Resolve(deviceName ?? "cpu");

        // --config FILE.json: {"optimizer": "adam:eps=1e-5" or {...}, "numEnvs": 8, ...}; flags win over the file.
        if (configFile is not null)
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
                    if (optimizerName is null)
                        optimizerName = v switch
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
        int seed = seedFlag ?? (overrides["seed"] is JsonValue seedNode && seedNode.TryGetValue<int>(out int fileSeed) ? fileSeed : 1);
        overrides.Remove("seed");

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
                                       string.Join(", ", info.Options.Select(o => o.Flag).Where(f => optimizerFlags.ContainsKey(f[2..]))));
                spec = spec.With(k, v);
            }
            spec.Validate();
        }

        return TrainRun.Execute(new TrainRequest(algo, env, overrides, spec, seed, totalSteps, device, outDir, force), stdout, stderr, externalCt);
    }

    private static string? Value(string[] args, string flag)
    {
        int i = Array.IndexOf(args, flag);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int ParseInt(string s, string flag) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new CliError($"{flag}: '{s}' is not an integer");

    private static double ParseDouble(string s, string flag)
    {
        if (s is "true" or "false") return s == "true" ? 1 : 0;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new CliError($"{flag}: '{s}' is not a number");
    }

    // An agent option's value: number, true/false, null, or string (the options record's types check it).
    private static JsonNode? ParseValue(string s)
    {
        if (s == "null") return null;
        if (s is "true" or "false") return JsonValue.Create(s == "true");
        if (s.Contains(',') && s.Split(',').All(x => long.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
            return new JsonArray(s.Split(',').Select(x => (JsonNode)JsonValue.Create(long.Parse(x, CultureInfo.InvariantCulture))).ToArray());   // a list: --hidden-sizes 64,64
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(s);
    }

    private static void PrintHelp(TextWriter w, string? algo, string? env)
    {
        w.WriteLine("usage: tiny train {dqn|td3|ppo} --env NAME [options]");
        w.WriteLine();
        w.WriteLine("  --env NAME            environment: " + string.Join(", ", Env.Registered));
        w.WriteLine("  --optimizer SPEC      NAME[:key=value,...], e.g. alphagrad:alpha=2,momentum=0.9 (default: the agent's, e.g. ppo adam:eps=1e-5)");
        w.WriteLine("  --lr X                the optimizer's lr (default: the agent's learning rate)");
        w.WriteLine("  --lookahead K[,A]     wrap the optimizer in Lookahead: every K steps pull toward slow weights by A (0.8)");
        w.WriteLine("  --OPTION VALUE        an option of the optimizer, kebab-case (booleans bare); unset ones keep the defaults below:");
        var optimizerFlags = OptimizerFlags(algo);
        var shadowed = new SortedSet<string>();
        foreach (var name in Optimizers.Names)
        {
            var info = Optimizers.Info(name);
            var flags = new List<string>();
            foreach (var o in info.Options)
            {
                if (o.Key == "lr") continue;
                if (!optimizerFlags.ContainsKey(o.Flag[2..])) { shadowed.Add(o.Key); flags.Add($"({o.Key}={o.DefaultText})"); }
                else flags.Add(o.IsBool ? $"{o.Flag}{(o.Default is true ? "=true" : "")}" : $"{o.Flag} {o.DefaultText}");
            }
            w.WriteLine($"    {name,-10} {info.Description}");
            w.WriteLine($"               {string.Join("  ", flags)}");
        }
        if (shadowed.Count > 0)
            w.WriteLine($"                        ({string.Join(", ", shadowed)}: the agent's flag of that name wins; give the optimizer's as --optimizer NAME:{shadowed.First()}=X)");
        w.WriteLine("  --seed N              seed (default 1)");
        w.WriteLine("  --total-steps N       env steps (default: the agent's for the env)");
        w.WriteLine("  --out DIR             output folder (default runs/{algo}-{env}-{seed}, or the next free -2, -3...);");
        w.WriteLine("                        a folder that already holds files is refused");
        w.WriteLine("  --force               replace the files of an existing --out folder");
        w.WriteLine("  --config FILE.json    agent options as JSON ({\"numEnvs\": 8, \"optimizer\": \"adam:eps=1e-5\"}); flags win");
        w.WriteLine($"  --device D            {DeviceOption.Values} (default cpu); the agent's networks, losses and updates");
        w.WriteLine("                        run there (ppo, dqn, td3), its envs and dqn/td3's replay buffer on the cpu");
        w.WriteLine("  --OPTION VALUE        any agent option below, kebab-case (--num-envs 8, --target-kl 0.02)");
        foreach (var a in algo is null ? Agents.Algorithms : [algo])
        {
            string e = env ?? (a == "td3" ? "Pendulum-v1" : "CartPole-v1");
            var rows = Agents.OptionsType(a) is null ? [] : Agents.DescribeOptions(a, e).ToList();
            w.WriteLine();
            if (rows.Count == 0) { w.WriteLine($"{a}: not wired into this build"); continue; }
            w.WriteLine($"{a} options (defaults for {e}):");
            foreach (var (name, def, desc) in rows)
                w.WriteLine($"  --{Agents.ToKebab(name),-20} {def,-12} {desc}");
        }
    }
}
