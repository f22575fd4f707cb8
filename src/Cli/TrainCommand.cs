// `tiny train {dqn|td3|ppo} --env NAME [...]`: trains an agent with live progress, writes metrics.csv,
// model.safetensors, config.json and curve.png to --out.
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

    private sealed class CliError(string message) : Exception(message);

    /// <summary>Runs the command; 0 on success, 2 on bad input.</summary>
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
            PrintHelp(stdout, algoForHelp, envForHelp);
            return args.Length == 0 ? 2 : 0;
        }
        string algo = args[0].ToLowerInvariant();
        if (!Agents.Algorithms.Contains(algo))
            throw new CliError($"unknown agent '{args[0]}'; known: {string.Join(", ", Agents.Algorithms)}");

        string? env = null, outDir = null, configFile = null, optimizerName = null, deviceName = null;
        int seed = 1;
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
                case "seed": seed = ParseInt(Next(), "--seed"); break;
                case "total-steps":
                {
                    string s = Next();
                    if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 0)
                        throw new CliError($"--total-steps: '{s}' is not a positive integer");
                    totalSteps = n; break;
                }
                case "device": deviceName = Next(); break;
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
            if (file["options"] is JsonObject nested) file = nested;   // accept a saved config.json's "options" too
            foreach (var (k, v) in file)
            {
                if (k == "optimizer")
                {
                    if (optimizerName is null)
                        optimizerName = v is JsonObject o ? OptimizerSpec.FromJson(o).ToString() : v?.GetValue<string>();
                    continue;
                }
                string ck = Agents.ToCamel(k);
                if (!overrides.ContainsKey(ck)) overrides[ck] = v?.DeepClone();
            }
        }

        OptimizerSpec? spec = null;
        if (optimizerName is not null || optArgs.Count > 0)
        {
            spec = OptimizerSpec.Parse(optimizerName ?? "adam:eps=1e-5");
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

        var agent = Agents.Create(algo, env, overrides, spec, seed, totalSteps);
        if (device != Device.Cpu) agent.To(device);
        outDir ??= Path.Combine("runs", $"{algo}-{env}-{seed}");
        Directory.CreateDirectory(outDir);

        // ---- Train with progress; Ctrl-C stops cleanly and still saves.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(externalCt);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        bool realConsole = ReferenceEquals(stdout, Console.Out);
        if (realConsole) Console.CancelKeyPress += onCancel;
        var log = new MetricsLog();
        long total = totalSteps ?? (agent is Ppo p0 ? p0.Options.TotalTimesteps : 0);
        var sw = Stopwatch.StartNew();
        try
        {
            bool interactive = realConsole && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            stdout.WriteLine($"tiny train {algo} on {env}, seed {seed}, {total} steps{(device != Device.Cpu ? $", device {device}" : "")} -> {outDir}");
            if (interactive) TrainInteractive(agent, log, sw, cts.Token);
            else TrainPlain(agent, log, sw, stdout, cts.Token);
        }
        finally
        {
            if (realConsole) Console.CancelKeyPress -= onCancel;
        }
        sw.Stop();

        // ---- Outputs.
        agent.Save(outDir);
        log.WriteCsv(Path.Combine(outDir, "metrics.csv"));
        try { log.Plot(Path.Combine(outDir, "curve.png"), $"{algo} {env} seed {seed}"); }
        catch (Exception e) { stderr.WriteLine($"tiny train: warning: curve.png not written: {e.Message}"); }

        double secs = Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
        stdout.WriteLine(cts.IsCancellationRequested ? "stopped early (Ctrl-C); saved what was trained" : "done");
        stdout.WriteLine($"steps {log.LastStep}  wall {secs:F1}s  {log.LastStep / secs:F0} steps/s  mean return (last 20) {Fmt(log.RecentMean)}");
        stdout.WriteLine($"outputs: {outDir}/{{metrics.csv, model.safetensors, config.json, curve.png}}");
        stdout.WriteLine($"evaluate: tiny eval {outDir}");
        return 0;
    }

    private static void TrainPlain(IAgent agent, MetricsLog log, Stopwatch sw, TextWriter stdout, CancellationToken ct)
    {
        long nextPct = 0; double lastT = 0;
        agent.Train(p =>
        {
            log.Add(p, sw.Elapsed.TotalSeconds);
            double t = sw.Elapsed.TotalSeconds;
            long pct = p.TotalSteps > 0 ? p.GlobalStep * 100 / p.TotalSteps : 0;
            if (pct >= nextPct || t - lastT >= 10)
            {
                nextPct = pct / 5 * 5 + 5; lastT = t;
                double sps = p.GlobalStep / Math.Max(t, 1e-9);
                double eta = sps > 0 ? (p.TotalSteps - p.GlobalStep) / sps : 0;
                stdout.WriteLine($"[{pct,3}%] step {p.GlobalStep}/{p.TotalSteps}  {sps:F0} steps/s  return(20) {Fmt(log.RecentMean)}  lr {p.LearningRate:G3}  eta {eta:F0}s");
            }
        }, ct);
    }

    private static void TrainInteractive(IAgent agent, MetricsLog log, Stopwatch sw, CancellationToken ct)
    {
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                agent.Train(p =>
                {
                    log.Add(p, sw.Elapsed.TotalSeconds);
                    task ??= ctx.AddTask("training", maxValue: Math.Max(1, p.TotalSteps));
                    task.Value = p.GlobalStep;
                    double sps = p.GlobalStep / Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
                    task.Description = $"step {p.GlobalStep}/{p.TotalSteps}  {sps:F0} steps/s  return(20) {Fmt(log.RecentMean)}";
                }, ct);
                if (task is not null) task.Value = task.MaxValue;
            });
    }

    private static string Fmt(double? x) => x is double v ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";

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
        w.WriteLine("  --out DIR             output folder (default runs/{algo}-{env}-{seed})");
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

    /// <summary>Rows of metrics.csv: one per finished episode and one per update.</summary>
    private sealed class MetricsLog
    {
        private readonly List<(long Step, double? Return, int? Length, IReadOnlyDictionary<string, double> M, double Lr, double Wall)> _rows = [];
        private readonly Queue<double> _recent = new();
        private readonly List<string> _keys = [];

        public long LastStep { get; private set; }
        public double? RecentMean => _recent.Count > 0 ? _recent.Average() : null;

        public void Add(ProgressInfo p, double wall)
        {
            LastStep = p.GlobalStep;
            if (p.EpisodicReturn is double r)
            {
                _recent.Enqueue(r);
                if (_recent.Count > 20) _recent.Dequeue();
                _rows.Add((p.GlobalStep, r, p.EpisodeLength, EmptyMetrics, p.LearningRate, wall));
            }
            else
            {
                foreach (var k in p.Metrics.Keys) if (!_keys.Contains(k)) _keys.Add(k);
                _rows.Add((p.GlobalStep, null, null, new Dictionary<string, double>(p.Metrics), p.LearningRate, wall));
            }
        }

        private static readonly IReadOnlyDictionary<string, double> EmptyMetrics = new Dictionary<string, double>();

        public void WriteCsv(string path)
        {
            var sb = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            sb.Append("global_step,episodic_return,episode_length");
            foreach (var k in _keys) sb.Append(',').Append(k);
            sb.Append(",lr,wall_time\n");
            foreach (var r in _rows)
            {
                sb.Append(r.Step.ToString(inv)).Append(',')
                  .Append(r.Return?.ToString("R", inv) ?? "").Append(',')
                  .Append(r.Length?.ToString(inv) ?? "");
                foreach (var k in _keys) sb.Append(',').Append(r.M.TryGetValue(k, out var v) ? v.ToString("G6", inv) : "");
                sb.Append(',').Append(r.Lr.ToString("G6", inv)).Append(',').Append(r.Wall.ToString("F3", inv)).Append('\n');
            }
            File.WriteAllText(path, sb.ToString());
        }

        public void Plot(string path, string title)
        {
            var eps = _rows.Where(r => r.Return is not null).ToList();
            var plt = new ScottPlot.Plot();
            if (eps.Count > 0)
            {
                double[] xs = eps.Select(r => (double)r.Step).ToArray();
                double[] ys = eps.Select(r => r.Return!.Value).ToArray();
                var raw = plt.Add.ScatterPoints(xs, ys);
                raw.MarkerSize = 2;
                raw.LegendText = "episodic return";
                // Moving average of the last 20 episodes.
                var smooth = new double[ys.Length];
                double acc = 0;
                for (int i = 0; i < ys.Length; i++) { acc += ys[i]; if (i >= 20) acc -= ys[i - 20]; smooth[i] = acc / Math.Min(i + 1, 20); }
                var line = plt.Add.ScatterLine(xs, smooth);
                line.LineWidth = 2;
                line.LegendText = "mean of last 20";
                plt.ShowLegend();
            }
            plt.Title(title);
            plt.XLabel("env steps");
            plt.YLabel("episodic return");
            plt.SavePng(path, 900, 540);
        }
    }
}
