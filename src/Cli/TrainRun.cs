// TrainRun: what `tiny train` does once its flags are parsed: builds the agent, trains it with a progress display,
// stops cleanly on SIGINT/SIGTERM/SIGHUP or divergence, and writes the run folder atomically.
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

/// <summary>A bad command line or run folder: reported as one line, exit 2.</summary>
internal sealed class CliError(string message) : Exception(message);

/// <summary>A parsed `tiny train` command line: what to train, where, and how the run folder is treated.</summary>
/// <param name="Algo">dqn, td3 or ppo.</param>
/// <param name="Env">The env id.</param>
/// <param name="Overrides">Agent options (camelCase keys) over the agent's defaults for the env.</param>
/// <param name="Spec">The optimizer, or null for the agent's default.</param>
/// <param name="Seed">The seed of everything.</param>
/// <param name="TotalSteps">Env steps, or null for the agent's default.</param>
/// <param name="Device">Where the networks run.</param>
/// <param name="OutDir">The run folder, or null for the next free default.</param>
/// <param name="Force">Replace the files of a non-empty OutDir.</param>
/// <param name="Resume">A run folder to continue from its checkpoint (the other fields then come from it).</param>
/// <param name="CheckpointEvery">Env steps between resumable checkpoints (null: only when stopped).</param>
/// <param name="Internals">Updates between records of the optimizers' internals into internals.csv (null: none).</param>
internal sealed record TrainRequest(string Algo, string Env, JsonObject Overrides, OptimizerSpec? Spec, int Seed, long? TotalSteps,
                                    Device Device, string? OutDir, bool Force, string? Resume = null, long? CheckpointEvery = null,
                                    int? Internals = null);

internal static class TrainRun
{
    /// <summary>Where a run stopped diverging: the step, what was not finite, and the optimizer.</summary>
    private sealed record Divergence(long Step, string What, string Optimizer);

    /// <summary>The folder of a run's resumable checkpoint, beside its outputs.</summary>
    internal const string CheckpointFolder = "checkpoint";
    /// <summary>The run's own state in a checkpoint folder (metrics rows so far, wall time, seed).</summary>
    private const string RunStateFile = "run.json";

    /// <summary>Trains what r asks for; the exit code (0 done, 3 diverged, 128 + signal when stopped).</summary>
    public static int Execute(TrainRequest request, TextWriter stdout, TextWriter stderr, CancellationToken externalCt)
    {
        var (algo, env, overrides, spec, seed, totalSteps, device, outDir, force, resume, checkpointEvery, internalsEvery) = request;
        IAgent agent;
        var log = new MetricsLog();
        double wallBefore = 0;
        if (resume is not null)
        {
            // --resume RUN: the agent, its optimizer and options, and every state from RUN's last checkpoint.
            outDir = resume;
            string ck = LatestCheckpoint(resume) ?? throw new CliError(
                $"--resume {resume}: no checkpoint there (a finished run keeps none; a diverged one keeps its last finite one; " +
                "a run killed before its first checkpoint has none: --checkpoint-every N writes them during a run)");
            try { agent = Agents.Resume(ck); }
            catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new CliError($"--resume {resume}: its checkpoint cannot be read ({Program.OneLine(e)})");
            }
            (wallBefore, seed) = log.Load(Path.Combine(ck, RunStateFile));
            (algo, env) = (agent.Algorithm, agent.EnvId);
        }
        else
        {
            agent = Agents.Create(algo, env, overrides, spec, seed, totalSteps);
            outDir = RunFolder(outDir, Path.Combine("runs", $"{algo}-{env}-{seed}"), force);
        }
        agent.To(device);   // where it already is: nothing moves
        ThreadsOption.DefaultFor(agent);   // no --threads: one thread for small nets, all cores for TD3-sized ones
        // --internals: recorders on the agent's optimizers (a resumed run continues its own recording, if it had one).
        using var internals = InternalsLog.Start(internalsEvery, agent, outDir, resume is null ? null : LatestCheckpoint(resume));
        string optimizerText = ((agent as Ppo)?.OptimizerSpec ?? (agent as Dqn)?.Optimizer ?? (agent as Td3)?.Optimizer)?.ToString() ?? "?";

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
            long total = (agent as Ppo)?.Options.TotalTimesteps ?? (agent as Dqn)?.Options.TotalTimesteps ?? (agent as Td3)?.Options.TotalTimesteps ?? 0;
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
            double Wall() => wallBefore + sw.Elapsed.TotalSeconds;

            // A checkpoint: written whole to checkpoint.next, then swapped in (checkpoint -> checkpoint.old, next ->
            // checkpoint, old removed), so a kill at any moment leaves one complete checkpoint to resume from.
            string? notResumable = null;
            long startStep = agent.GlobalStep, lastCheckpoint = startStep;
            void Checkpoint()
            {
                // Never a checkpoint of non-finite parameters: the last finite one stays (the watch reports the divergence).
                if (notResumable is not null || NonFiniteParameter(agent) is not null) return;
                string next = Path.Combine(outDir, CheckpointFolder + ".next"), current = Path.Combine(outDir, CheckpointFolder), old = current + ".old";
                try
                {
                    if (Directory.Exists(next)) Directory.Delete(next, recursive: true);
                    agent.SaveCheckpoint(next);
                    log.Save(Path.Combine(next, RunStateFile), Wall(), seed);
                    internals?.Save(next);
                    if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
                    if (Directory.Exists(current)) Directory.Move(current, old);
                    Directory.Move(next, current);
                    if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
                    lastCheckpoint = agent.GlobalStep;
                }
                catch (NotSupportedException e)
                {
                    notResumable = Program.OneLine(e);   // a user's env without saved state: the run goes on, not resumable
                    if (Directory.Exists(next)) Directory.Delete(next, recursive: true);
                    stderr.WriteLine($"tiny train: warning: no checkpoint: {notResumable}");
                }
            }
            Action<long>? boundary = checkpointEvery is long every
                ? step => { if (step - lastCheckpoint >= every && diverged is null) Checkpoint(); }
                : null;

            bool interactive = realConsole && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
            string from = resume is null ? "" : $", resumed at step {agent.GlobalStep}";
            stdout.WriteLine($"tiny train {algo} on {env}, seed {seed}, {total} steps, optimizer {optimizerText}, device {device}{(device.Kind == DeviceKind.Cpu ? $" ({Threads(Cpu.Gemm.MaxThreads)})" : "")}{from} -> {outDir}");
            try
            {
                if (interactive) TrainInteractive(agent, log, Wall, Watch, boundary, cts.Token);
                else TrainPlain(agent, log, Wall, stdout, Watch, boundary, cts.Token);
            }
            catch (Exception e) when (diverged is null && NonFiniteParameter(agent) is { } bad)
            {
                // Diverged between two checks and something downstream refused the NaN (an env given a NaN action).
                diverged = new Divergence(log.LastStep, $"{bad} ({Program.OneLine(e)})", optimizerText);
            }
            sw.Stop();

            // ---- A stopped run first saves its checkpoint (at the training point), then its outputs; a finished run
            // drops its checkpoint (replay buffers are large); a diverged one keeps its last finite checkpoint.
            bool finished = diverged is null && agent.Finished;
            if (diverged is null && !finished) Checkpoint();
            // ---- Outputs, each file written atomically; a diverged model is not saved (its weights are not finite).
            var written = WriteOutputs(outDir, agent, log, diverged, $"{algo} {env} seed {seed}", stderr);
            if (internals?.Finish() is { } internalsFile) written.Add(internalsFile);
            if (finished)
                foreach (var d in new[] { CheckpointFolder, CheckpointFolder + ".old", CheckpointFolder + ".next" })
                    if (Directory.Exists(Path.Combine(outDir, d))) Directory.Delete(Path.Combine(outDir, d), recursive: true);
            double secs = Math.Max(sw.Elapsed.TotalSeconds, 1e-9);
            string summary = $"steps {agent.GlobalStep}  wall {Wall():F1}s  {(agent.GlobalStep - startStep) / secs:F0} steps/s  mean return (last 20) {Fmt(log.RecentMean)}";
            if (internals is not null) summary += $"  {internals.Cost(secs)}";   // what recording added to this session's training
            string resumeHint = notResumable is null ? $"resume: {FollowUp($"train --resume {outDir}")}" : $"not resumable: {notResumable}";
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
                stdout.WriteLine($"stopped by {by} at step {agent.GlobalStep}; saved what was trained to {outDir}; {resumeHint}");
                return by switch { PosixSignal.SIGINT => 130, PosixSignal.SIGTERM => 143, _ => 129 };
            }
            stdout.WriteLine(finished ? "done" : $"stopped early at step {agent.GlobalStep}; saved what was trained; {resumeHint}");
            stdout.WriteLine(summary);
            stdout.WriteLine($"outputs: {outDir}/{{{string.Join(", ", written)}}}");
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

    /// <summary>The newest complete checkpoint of a run folder: checkpoint/, or checkpoint.old/ when a kill came
    /// between the two renames of a swap; null when there is none.</summary>
    internal static string? LatestCheckpoint(string runDir)
    {
        foreach (var d in new[] { CheckpointFolder, CheckpointFolder + ".old" })
        {
            string path = Path.Combine(runDir, d);
            if (CheckpointReader.Exists(path) && File.Exists(Path.Combine(path, RunStateFile))) return path;
        }
        return null;
    }

    /// <summary>"1 thread" or "N threads", for the run's first line.</summary>
    private static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";

    /// <summary>The first trained parameter holding a NaN or an infinity, or null.</summary>
    private static string? NonFiniteParameter(IAgent agent)
    {
        var ps = agent.NamedParameters().ToList();
        int k = Finite.FirstNonFinite(ps.Select(p => p.Value).ToList());
        return k < 0 ? null : $"parameter {ps[k].Key}";
    }

    /// <summary>Writes model.safetensors (unless diverged), config.json (with the divergence, if any), metrics.csv and
    /// curve.png: each to a temporary name in a staging folder beside them, then renamed into place; on failure the
    /// staging folder is removed and what was there before stays untouched. Returns the names of the files written
    /// (curve.png is missing when the plot failed), metrics.csv, model.safetensors, config.json, curve.png first.</summary>
    private static List<string> WriteOutputs(string outDir, IAgent agent, MetricsLog log, Divergence? diverged, string title, TextWriter stderr)
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
            catch (Exception e) { stderr.WriteLine($"tiny train: warning: curve.png not written: {(OptimPlot.IsMissingNative(e) ? OptimPlot.NoNativeLibrary : Program.OneLine(e))}"); }
            if (diverged is not null) File.Delete(Path.Combine(outDir, "model.safetensors"));   // --force over an old run: no stale model
            var written = Directory.GetFiles(staging).Select(f => Path.GetFileName(f)).ToList();
            foreach (var f in written) File.Move(Path.Combine(staging, f), Path.Combine(outDir, f), overwrite: true);
            string[] order = ["metrics.csv", "model.safetensors", "config.json", "curve.png"];
            int Rank(string f) => Array.IndexOf(order, f) is int i and >= 0 ? i : order.Length;
            return [.. written.OrderBy(Rank).ThenBy(f => f, StringComparer.Ordinal)];
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

    private static void TrainPlain(IAgent agent, MetricsLog log, Func<double> wall, TextWriter stdout, Action<ProgressInfo> watch, Action<long>? boundary, CancellationToken ct)
    {
        long nextPct = 0; double lastT = 0;
        var rate = new RateWindow();
        agent.Train(p =>
        {
            double t = wall();
            log.Add(p, t);
            watch(p);
            rate.Add(t, p.GlobalStep);
            long pct = p.TotalSteps > 0 ? p.GlobalStep * 100 / p.TotalSteps : 0;
            if (pct >= nextPct || t - lastT >= 10)
            {
                nextPct = pct / 5 * 5 + 5; lastT = t;
                stdout.WriteLine($"[{pct,3}%] step {p.GlobalStep}/{p.TotalSteps}  {rate.StepsPerSecond:F0} steps/s  return(20) {Fmt(log.RecentMean)}  lr {p.LearningRate:G3}  eta {rate.Eta(p.TotalSteps - p.GlobalStep)}");
            }
        }, ct, boundary);
    }

    private static void TrainInteractive(IAgent agent, MetricsLog log, Func<double> wall, Action<ProgressInfo> watch, Action<long>? boundary, CancellationToken ct)
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
                    double t = wall();
                    log.Add(p, t);
                    watch(p);
                    task ??= ctx.AddTask("training", maxValue: Math.Max(1, p.TotalSteps));
                    task.Value = p.GlobalStep;
                    rate.Add(t, p.GlobalStep);
                    task.Description = $"step {p.GlobalStep}/{p.TotalSteps}  {rate.StepsPerSecond:F0} steps/s  return(20) {Fmt(log.RecentMean)}  " +
                                       $"lr {p.LearningRate:G3}  eta {rate.Eta(p.TotalSteps - p.GlobalStep)}";
                }, ct, boundary);
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

        /// <summary>Writes the rows so far (exact numbers), the metric columns in order, the wall time and the seed,
        /// so a resumed run's metrics.csv continues these rows.</summary>
        public void Save(string path, double wall, int seed)
        {
            var rows = new JsonArray();
            foreach (var r in _rows)
            {
                var m = new JsonObject();
                foreach (var (k, v) in r.M) m[k] = StateJson.Num(v);
                rows.Add(new JsonObject
                {
                    ["step"] = r.Step, ["return"] = r.Return is double x ? StateJson.Num(x) : null, ["length"] = r.Length,
                    ["metrics"] = m, ["lr"] = StateJson.Num(r.Lr), ["wall"] = StateJson.Num(r.Wall),
                });
            }
            var o = new JsonObject { ["seed"] = seed, ["wall"] = StateJson.Num(wall), ["keys"] = new JsonArray(_keys.Select(k => (JsonNode)k).ToArray()), ["rows"] = rows };
            File.WriteAllText(path + ".tmp", o.ToJsonString());
            File.Move(path + ".tmp", path, overwrite: true);
        }

        /// <summary>Restores what <see cref="Save"/> wrote; returns the wall time and seed saved.</summary>
        public (double Wall, int Seed) Load(string path)
        {
            if (!File.Exists(path)) throw new CliError($"{path} is missing: the checkpoint has no metrics to continue");
            JsonObject o;
            try { o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CliError($"{path} is not a JSON object"); }
            catch (JsonException e) { throw new CliError($"{path} is corrupt: {e.Message}"); }
            try
            {
                _keys.AddRange((StateJson.Get(o, "keys") as JsonArray ?? []).Select(k => k!.GetValue<string>()));
                foreach (var node in StateJson.Get(o, "rows") as JsonArray ?? [])
                {
                    var r = node!.AsObject();
                    var m = StateJson.Object(r, "metrics");
                    double? ret = r["return"] is null ? null : StateJson.Double(r, "return");
                    int? len = r["length"] is null ? null : StateJson.Int(r, "length");
                    var metrics = m.Count == 0 ? EmptyMetrics : m.ToDictionary(kv => kv.Key, kv => StateJson.Double(m, kv.Key));
                    _rows.Add((StateJson.Long(r, "step"), ret, len, metrics, StateJson.Double(r, "lr"), StateJson.Double(r, "wall")));
                    LastStep = StateJson.Long(r, "step");
                    if (ret is double x) { _recent.Enqueue(x); if (_recent.Count > 20) _recent.Dequeue(); }
                }
                return (StateJson.Double(o, "wall"), StateJson.Int(o, "seed"));
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path} is malformed: {e.Message}");
            }
        }

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
