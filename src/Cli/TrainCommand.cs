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

    private sealed class CliError(string message) : Exception(message);

    /// <summary>Where a run stopped diverging: the step, what was not finite, and the optimizer.</summary>
    private sealed record Divergence(long Step, string What, string Optimizer);

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

        var agent = Agents.Create(algo, env, overrides, spec, seed, totalSteps);
        if (device != Device.Cpu) agent.To(device);
        outDir = RunFolder(outDir, Path.Combine("runs", $"{algo}-{env}-{seed}"), force);
        string optimizerText = (spec ?? (agent as Ppo)?.OptimizerSpec ?? (agent as Dqn)?.Optimizer ?? (agent as Td3)?.Optimizer)?.ToString() ?? "?";

        // ---- Train with progress. SIGINT, SIGTERM and SIGHUP stop it cleanly; the handlers stay until the files are
        // written, so a second signal during the save is absorbed instead of killing the process half-way.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(externalCt);
        PosixSignal? stoppedBy = null;
        bool realConsole = ReferenceEquals(stdout, Console.Out);
        var signals = new List<PosixSignalRegistration>();
        if (realConsole)
            foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
                signals.Add(PosixSignalRegistration.Create(sig, c => { c.Cancel = true; stoppedBy ??= c.Signal; cts.Cancel(); }));
        try
        {
            var log = new MetricsLog();
            long total = totalSteps ?? (agent is Ppo p0 ? p0.Options.TotalTimesteps : 0);
            Divergence? diverged = null;
            void Watch(ProgressInfo p)
            {
                if (p.EpisodicReturn is not null || diverged is not null) return;
                string? bad = p.Metrics.Where(kv => !double.IsFinite(kv.Value)).Select(kv => $"{kv.Key} ({kv.Value})").FirstOrDefault()
                              ?? NonFiniteParameter(agent);
                if (bad is null) return;
                diverged = new Divergence(p.GlobalStep, bad, optimizerText);
                cts.Cancel();
            }
            var sw = Stopwatch.StartNew();
            bool interactive = realConsole && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            stdout.WriteLine($"tiny train {algo} on {env}, seed {seed}, {total} steps, optimizer {optimizerText}{(device != Device.Cpu ? $", device {device}" : "")} -> {outDir}");
            try
            {
                if (interactive) TrainInteractive(agent, log, sw, Watch, cts.Token);
                else TrainPlain(agent, log, sw, stdout, Watch, cts.Token);
            }
            catch (Exception e) when (diverged is null && NonFiniteParameter(agent) is { } bad)
            {
                // Diverged between two checks and something downstream refused the NaN (an env given a NaN action).
                diverged = new Divergence(log.LastStep, $"{bad} ({Program.OneLine(e)})", optimizerText);
            }
            sw.Stop();

            // ---- Outputs, each file written atomically; a diverged model is not saved (its weights are not finite).
            WriteOutputs(outDir, agent, log, diverged, $"{algo} {env} seed {seed}", stderr);
            double secs = Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
            string summary = $"steps {log.LastStep}  wall {secs:F1}s  {log.LastStep / secs:F0} steps/s  mean return (last 20) {Fmt(log.RecentMean)}";
            if (diverged is not null)
            {
                stdout.WriteLine(summary);
                stderr.WriteLine($"tiny train: diverged at step {diverged.Step}: {diverged.What} is not finite (optimizer {diverged.Optimizer}); " +
                                 $"metrics.csv and config.json in {outDir} record it, no model was saved");
                return Program.Diverged;
            }
            if (stoppedBy is PosixSignal by)
            {
                stdout.WriteLine(summary);
                stdout.WriteLine($"stopped by {by} at step {log.LastStep}; saved what was trained to {outDir} (a partial run, not resumable)");
                return by switch { PosixSignal.SIGINT => 130, PosixSignal.SIGTERM => 143, _ => 129 };
            }
            stdout.WriteLine(externalCt.IsCancellationRequested ? "stopped early; saved what was trained" : "done");
            stdout.WriteLine(summary);
            stdout.WriteLine($"outputs: {outDir}/{{metrics.csv, model.safetensors, config.json, curve.png}}");
            stdout.WriteLine($"evaluate: {FollowUp($"eval {outDir}")}");
            return 0;
        }
        finally
        {
            foreach (var r in signals) r.Dispose();
        }
    }

    /// <summary>The run folder: --out if given (refused when it already holds files, unless --force), else the default
    /// with the next free suffix (-2, -3...). Created and checked writable before any training.</summary>
    internal static string RunFolder(string? outDir, string defaultDir, bool force)
    {
        static bool Taken(string d) => Directory.Exists(d) && Directory.EnumerateFileSystemEntries(d).Any() || File.Exists(d);
        if (outDir is not null)
        {
            if (File.Exists(outDir)) throw new CliError($"--out {outDir} is a file, not a folder");
            if (Taken(outDir) && !force)
                throw new CliError($"--out {outDir} already holds files ({string.Join(", ", Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName).Take(4))}); " +
                                   "choose another folder, or pass --force to replace them");
        }
        else
        {
            outDir = defaultDir;
            for (int k = 2; Taken(outDir); k++) outDir = $"{defaultDir}-{k}";
        }
        try
        {
            Directory.CreateDirectory(outDir);
            string probe = Path.Combine(outDir, $".tiny-write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"--out {outDir}: cannot write there ({Program.OneLine(e)})");
        }
        return outDir;
    }

    /// <summary>The first trained parameter holding a NaN or an infinity, or null.</summary>
    private static string? NonFiniteParameter(IAgent agent)
    {
        var ps = agent.NamedParameters().ToList();
        int k = Finite.FirstNonFinite(ps.Select(p => p.Value).ToList());
        return k < 0 ? null : $"parameter {ps[k].Key}";
    }

    /// <summary>Writes model.safetensors (unless diverged), config.json (with the divergence, if any), metrics.csv and
    /// curve.png: each to a temporary name in a staging folder beside them, then renamed into place; on failure the
    /// staging folder is removed and what was there before stays untouched.</summary>
    private static void WriteOutputs(string outDir, IAgent agent, MetricsLog log, Divergence? diverged, string title, TextWriter stderr)
    {
        string staging = Path.Combine(outDir, $".partial-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(staging);
            agent.Save(staging);
            if (diverged is not null)
            {
                File.Delete(Path.Combine(staging, "model.safetensors"));
                string cfgPath = Path.Combine(staging, "config.json");
                var cfg = JsonNode.Parse(File.ReadAllText(cfgPath))!.AsObject();
                cfg["diverged"] = new JsonObject { ["step"] = diverged.Step, ["what"] = diverged.What, ["optimizer"] = diverged.Optimizer };
                File.WriteAllText(cfgPath, cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            log.WriteCsv(Path.Combine(staging, "metrics.csv"));
            try { log.Plot(Path.Combine(staging, "curve.png"), title); }
            catch (Exception e) { stderr.WriteLine($"tiny train: warning: curve.png not written: {Program.OneLine(e)}"); }
            if (diverged is not null) File.Delete(Path.Combine(outDir, "model.safetensors"));   // --force over an old run: no stale model
            foreach (var f in Directory.GetFiles(staging)) File.Move(f, Path.Combine(outDir, Path.GetFileName(f)), overwrite: true);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A follow-up command in the form that started this one (`tiny ...` for the installed tool, else
    /// `dotnet run --project src/Cli -- ...` from a checkout, else `dotnet PATH/tiny.dll ...`).</summary>
    private static string FollowUp(string args)
    {
        string process = Path.GetFileNameWithoutExtension(Environment.ProcessPath ?? "");
        if (process == "tiny") return $"tiny {args}";
        if (File.Exists(Path.Combine("src", "Cli", "Tiny.Cli.csproj"))) return $"dotnet run -c Release --project src/Cli -- {args}";
        return $"dotnet {typeof(TrainCommand).Assembly.Location} {args}";
    }

    private static void TrainPlain(IAgent agent, MetricsLog log, Stopwatch sw, TextWriter stdout, Action<ProgressInfo> watch, CancellationToken ct)
    {
        long nextPct = 0; double lastT = 0;
        var rate = new RateWindow();
        agent.Train(p =>
        {
            log.Add(p, sw.Elapsed.TotalSeconds);
            watch(p);
            double t = sw.Elapsed.TotalSeconds;
            rate.Add(t, p.GlobalStep);
            long pct = p.TotalSteps > 0 ? p.GlobalStep * 100 / p.TotalSteps : 0;
            if (pct >= nextPct || t - lastT >= 10)
            {
                nextPct = pct / 5 * 5 + 5; lastT = t;
                stdout.WriteLine($"[{pct,3}%] step {p.GlobalStep}/{p.TotalSteps}  {rate.StepsPerSecond:F0} steps/s  return(20) {Fmt(log.RecentMean)}  lr {p.LearningRate:G3}  eta {rate.Eta(p.TotalSteps - p.GlobalStep)}");
            }
        }, ct);
    }

    private static void TrainInteractive(IAgent agent, MetricsLog log, Stopwatch sw, Action<ProgressInfo> watch, CancellationToken ct)
    {
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                var rate = new RateWindow();
                agent.Train(p =>
                {
                    log.Add(p, sw.Elapsed.TotalSeconds);
                    watch(p);
                    task ??= ctx.AddTask("training", maxValue: Math.Max(1, p.TotalSteps));
                    task.Value = p.GlobalStep;
                    rate.Add(sw.Elapsed.TotalSeconds, p.GlobalStep);
                    task.Description = $"step {p.GlobalStep}/{p.TotalSteps}  {rate.StepsPerSecond:F0} steps/s  return(20) {Fmt(log.RecentMean)}  " +
                                       $"lr {p.LearningRate:G3}  eta {rate.Eta(p.TotalSteps - p.GlobalStep)}";
                }, ct);
                if (task is not null && !ct.IsCancellationRequested) task.Value = task.MaxValue;   // a stopped run does not jump to 100%
            });
    }

    private static string Fmt(double? x) => x is double v ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";

    /// <summary>Steps per second over the last <see cref="Seconds"/> seconds of progress reports (the whole-run average
    /// would hide a slowdown, and count the JIT's warm-up forever), and the ETA from it.</summary>
    internal sealed class RateWindow
    {
        /// <summary>The window's length in seconds.</summary>
        public const double Seconds = 10;
        private readonly Queue<(double T, long Step)> _samples = new();

        public void Add(double t, long step)
        {
            _samples.Enqueue((t, step));
            while (_samples.Count > 2 && t - _samples.Peek().T > Seconds) _samples.Dequeue();
        }

        /// <summary>Steps per second between the oldest and newest sample in the window (0 before two samples).</summary>
        public double StepsPerSecond
        {
            get
            {
                if (_samples.Count < 2) return 0;
                var (t0, s0) = _samples.Peek();
                var (t1, s1) = _samples.Last();
                return t1 > t0 ? (s1 - s0) / (t1 - t0) : 0;
            }
        }

        /// <summary>The time the remaining steps take at the recent rate ("?" before a rate exists).</summary>
        public string Eta(long remaining)
        {
            double sps = StepsPerSecond;
            if (sps <= 0) return "?";
            var left = TimeSpan.FromSeconds(Math.Max(0, remaining) / sps);
            return left.TotalHours >= 1 ? $"{(int)left.TotalHours}h{left.Minutes:D2}m" : left.TotalMinutes >= 1 ? $"{left.Minutes}m{left.Seconds:D2}s" : $"{left.TotalSeconds:F0}s";
        }
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
            File.WriteAllText(path, sb.ToString());   // NaN and infinities are written as such, never dropped
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
