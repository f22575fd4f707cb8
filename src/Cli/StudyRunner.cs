// StudyRunner: runs a study's grid as isolated child processes of this tool (`tiny train`, then `tiny eval`), N at a
// time, each in its own folder; re-running skips finished runs and resumes stopped ones from their checkpoints; then
// scores every run and has StudyReport write the report.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Rl.Studies;

namespace Tiny.Cli;

internal static class StudyRunner
{
    /// <summary>Where a run stands in its folder.</summary>
    internal enum State
    {
        /// <summary>Nothing usable: (re)start it from scratch.</summary>
        Start,
        /// <summary>A checkpoint: continue it with `tiny train --resume`.</summary>
        Resume,
        /// <summary>Trained, not yet evaluated.</summary>
        Evaluate,
        /// <summary>Trained and evaluated.</summary>
        Done,
        /// <summary>Diverged (config.json records it): kept and scored as such, never retried.</summary>
        Diverged,
    }

    private const string EvalFile = "eval.json", LockFile = "study.lock", SpecFile = "spec.json";

    /// <summary>A run's folder.</summary>
    internal static string RunDir(string dir, StudyRun run) => Path.Combine(dir, "runs", run.Id);

    /// <summary>Runs (or continues) the study in dir and writes its report; the exit code (0 done, 2 a run failed or
    /// bad input, 128 + N stopped by signal N: run the same command again to continue).</summary>
    public static int Execute(StudySpec spec, string dir, int workers, string command, bool dryRun, TextWriter stdout, TextWriter stderr, CancellationToken externalCt)
    {
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new CliError(Program.OneLine(e)); }
        var runs = spec.Runs();
        if (!dryRun) Prepare(dir, spec);
        try
        {
            var states = runs.ToDictionary(r => r, r => Classify(RunDir(dir, r), spec));
            var pending = runs.Where(r => states[r] is State.Start or State.Resume or State.Evaluate).ToList();
            var cost = Costs(dir, spec, runs, states);
            int finished = runs.Count(r => states[r] is State.Done or State.Diverged);
            stdout.WriteLine($"study {spec.Name}: {runs.Count} runs ({spec.Tasks.Count} task{S(spec.Tasks.Count)} x {spec.Optimizers.Count} optimizer{S(spec.Optimizers.Count)} x {spec.Seeds.Count} seed{S(spec.Seeds.Count)}) -> {dir}");
            stdout.WriteLine($"  {finished} finished, {pending.Count(r => states[r] == State.Resume)} to resume, {pending.Count(r => states[r] == State.Evaluate)} to evaluate, " +
                             $"{pending.Count(r => states[r] == State.Start)} to start; {workers} worker{(workers == 1 ? "" : "s")}; " +
                             $"estimated wall time {Duration(EstimateWall(pending.Select(r => cost[r]).ToList(), workers))} " +
                             "(from per-step costs measured at the presets' settings on a 2-core machine, or from this study's finished runs)");
            if (dryRun)
            {
                foreach (var r in pending.Take(5)) stdout.WriteLine($"  {states[r].ToString().ToLowerInvariant()}: tiny {string.Join(' ', r.TrainArgs(RunDir(dir, r)))}");
                if (pending.Count > 5) stdout.WriteLine($"  ... and {pending.Count - 5} more");
                return Program.Ok;
            }

            var sw = Stopwatch.StartNew();
            var (code, failures) = RunAll(spec, dir, pending, states, cost, workers, stdout, externalCt);
            if (code != Program.Ok) return code;
            if (failures.Count > 0)
            {
                foreach (var f in failures.Take(10)) stderr.WriteLine($"tiny study: run {f}");
                throw new CliError($"{failures.Count} run{(failures.Count == 1 ? "" : "s")} failed (logs in {Path.Combine(dir, "logs")}); fix the cause and run the same command again");
            }

            var results = runs.Select(r => Result(r, RunDir(dir, r), spec)).ToList();
            var analysis = new StudyAnalysis(spec, results);
            StudyReport.Write(dir, analysis, command, sw.Elapsed.TotalSeconds, pending.Count);
            int diverged = results.Count(r => r.Diverged);
            stdout.WriteLine($"study {spec.Name}: {runs.Count} runs scored ({diverged} diverged), {pending.Count} run here in {Duration(sw.Elapsed.TotalSeconds)}");
            stdout.WriteLine($"report: {Path.Combine(dir, "report.md")}; scores: {Path.Combine(dir, "scores.csv")} (tiny stats {Path.Combine(dir, "scores.csv")})");
            return Program.Ok;
        }
        finally
        {
            if (!dryRun) File.Delete(Path.Combine(dir, LockFile));
        }
    }

    /// <summary>Creates dir, refuses a folder that holds another study (a different spec.json) or one a live process
    /// is running (study.lock), writes spec.json and the lock.</summary>
    private static void Prepare(string dir, StudySpec spec)
    {
        if (File.Exists(dir)) throw new CliError($"--out {dir} is a file, not a folder");
        Directory.CreateDirectory(dir);
        string specPath = Path.Combine(dir, SpecFile), lockPath = Path.Combine(dir, LockFile);
        if (File.Exists(specPath))
        {
            string old = File.ReadAllText(specPath);
            bool same;
            try { same = JsonNode.DeepEquals(JsonNode.Parse(old), JsonNode.Parse(spec.Json)); }
            catch (JsonException) { same = false; }
            if (!same) throw new CliError($"{dir} holds another study (its {SpecFile} differs from this one); choose another --out, or remove {dir}");
        }
        if (File.Exists(lockPath) && int.TryParse(File.ReadAllText(lockPath).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid) && Alive(pid))
            throw new CliError($"{dir} is being run by process {pid} ({LockFile}); wait for it, or remove {lockPath} if that process is not a study");
        string logs = Path.Combine(dir, "logs");
        if (Directory.Exists(logs))
            foreach (var pidFile in Directory.GetFiles(logs, "*.pid"))
            {
                // A run of an earlier study that was killed alone (its children live on): never train it twice at once.
                if (int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int child) && Alive(child) && IsTiny(child))
                    throw new CliError($"run {Path.GetFileNameWithoutExtension(pidFile)} of {dir} is still running (process {child}, left by a study that was killed alone); wait for it or kill it, then run the same command again");
                File.Delete(pidFile);
            }
        WriteAtomic(lockPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (!File.Exists(specPath)) WriteAtomic(specPath, spec.Json + "\n");
    }

    /// <summary>Whether process pid runs this tool (Linux: its command line names tiny.dll; elsewhere assumed).</summary>
    private static bool IsTiny(int pid)
    {
        string cmdline = $"/proc/{pid}/cmdline";
        if (!File.Exists(cmdline)) return !OperatingSystem.IsLinux();
        try { return File.ReadAllText(cmdline).Contains(Path.GetFileName(typeof(StudyRunner).Assembly.Location), StringComparison.Ordinal); }
        catch (IOException) { return false; }
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return false;   // our own stale lock (an earlier in-process run)
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    /// <summary>Where a run stands, from its folder: diverged (config.json says so), done (eval.json of this study's
    /// evaluation), resumable (a complete checkpoint), trained (model, config and metrics, no checkpoint), else start.</summary>
    internal static State Classify(string runDir, StudySpec spec)
    {
        if (!Directory.Exists(runDir)) return State.Start;
        string cfg = Path.Combine(runDir, "config.json");
        if (DivergedAt(cfg) is not null) return State.Diverged;
        if (ReadEval(runDir, spec) is not null) return State.Done;
        if (TrainRun.LatestCheckpoint(runDir) is not null) return State.Resume;
        if (File.Exists(cfg) && File.Exists(Path.Combine(runDir, "model.safetensors")) && File.Exists(Path.Combine(runDir, "metrics.csv")))
            return State.Evaluate;
        return State.Start;
    }

    /// <summary>The step a run diverged at, from its config.json, or null.</summary>
    private static long? DivergedAt(string configPath)
    {
        if (!File.Exists(configPath)) return null;
        try { return JsonNode.Parse(File.ReadAllText(configPath))?["diverged"]?["step"]?.GetValue<long>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return null; }
    }

    /// <summary>The mean greedy return in runDir/eval.json when it was evaluated as the spec says, else null.</summary>
    private static double? ReadEval(string runDir, StudySpec spec)
    {
        string path = Path.Combine(runDir, EvalFile);
        if (!File.Exists(path)) return null;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path));
            if (o?["episodes"]?.GetValue<int>() != spec.EvalEpisodes || o?["seed"]?.GetValue<int>() != spec.EvalSeed) return null;
            return o?["mean"]?.GetValue<double>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return null; }
    }

    /// <summary>Trains and evaluates the pending runs, workers at a time, longest first; stops taking runs (and
    /// signals the children to save and stop) on SIGINT/SIGTERM/SIGHUP or ct. The exit code and the failures.</summary>
    private static (int Code, List<string> Failures) RunAll(StudySpec spec, string dir, List<StudyRun> pending, Dictionary<StudyRun, State> states,
                                                            Dictionary<StudyRun, double> cost, int workers, TextWriter stdout, CancellationToken externalCt)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(externalCt);
        PosixSignal? stoppedBy = null;
        var signals = new List<PosixSignalRegistration>();
        if (ReferenceEquals(stdout, Console.Out))
            foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
                signals.Add(PosixSignalRegistration.Create(sig, c => { c.Cancel = true; stoppedBy ??= c.Signal; cts.Cancel(); }));
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "logs"));
            var queue = new ConcurrentQueue<StudyRun>(pending.OrderByDescending(r => cost[r]));   // longest first: the last runs to finish are short
            var failures = new ConcurrentBag<string>();
            double totalCost = pending.Sum(r => cost[r]), doneCost = 0;
            int done = 0;
            var sw = Stopwatch.StartNew();
            var gate = new object();
            void Worker()
            {
                while (!cts.IsCancellationRequested && queue.TryDequeue(out var run))
                {
                    var t0 = Stopwatch.GetTimestamp();
                    string outcome = RunOne(spec, dir, run, states[run], workers, cts.Token, out bool failed);
                    if (cts.IsCancellationRequested && outcome.StartsWith("stopped", StringComparison.Ordinal)) return;
                    if (failed) failures.Add($"{run.Id}: {outcome}");
                    lock (gate)
                    {
                        done++;
                        doneCost += cost[run];
                        double elapsed = sw.Elapsed.TotalSeconds, eta = doneCost > 0 ? elapsed * (totalCost - doneCost) / doneCost : 0;
                        stdout.WriteLine($"[{done}/{pending.Count}] {run.Id}: {outcome} ({Stopwatch.GetElapsedTime(t0).TotalSeconds:F1} s); " +
                                         $"{Duration(elapsed)} elapsed, eta {Duration(eta)}");
                    }
                }
            }
            var threads = Enumerable.Range(0, Math.Max(1, Math.Min(workers, pending.Count))).Select(_ => new Thread(Worker) { IsBackground = true }).ToList();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            if (cts.IsCancellationRequested)
            {
                stdout.WriteLine($"stopped{(stoppedBy is { } s ? $" by {s}" : "")} after {done} of {pending.Count} runs; the runs in flight saved their checkpoints; run the same command to continue");
                return (stoppedBy switch { PosixSignal.SIGTERM => 143, PosixSignal.SIGHUP => 129, _ => 130 }, []);
            }
            return (Program.Ok, failures.OrderBy(f => f, StringComparer.Ordinal).ToList());
        }
        finally
        {
            foreach (var r in signals) r.Dispose();
        }
    }

    /// <summary>One run: train (start or resume) unless trained, then evaluate; a line saying how it ended.</summary>
    private static string RunOne(StudySpec spec, string dir, StudyRun run, State state, int workers, CancellationToken ct, out bool failed)
    {
        failed = false;
        string rd = RunDir(dir, run), log = Path.Combine(dir, "logs", run.Id + ".log");
        if (state is State.Start or State.Resume)
        {
            if (state == State.Start && Directory.Exists(rd)) Directory.Delete(rd, recursive: true);   // killed before its first checkpoint
            string[] args = state == State.Start ? run.TrainArgs(rd)
                : ["train", "--resume", rd, "--checkpoint-every", run.Task.CheckpointEvery.ToString(CultureInfo.InvariantCulture)];
            var (code, _, err) = Child(args, log, workers, ct);
            if (code == Program.Diverged) return $"diverged at step {DivergedAt(Path.Combine(rd, "config.json"))?.ToString(CultureInfo.InvariantCulture) ?? "?"}";
            if (code != 0 || Classify(rd, spec) != State.Evaluate)
            {
                if (ct.IsCancellationRequested) return "stopped";
                failed = true;
                return $"tiny train exited {code}: {err ?? "no message"}";
            }
        }
        var (evalCode, last, evalErr) = Child(["eval", rd, "--episodes", spec.EvalEpisodes.ToString(CultureInfo.InvariantCulture),
                                                "--seed", spec.EvalSeed.ToString(CultureInfo.InvariantCulture), "--json"], log, workers, ct);
        if (evalCode != 0 || last is null)
        {
            if (ct.IsCancellationRequested) return "stopped";
            failed = true;
            return $"tiny eval exited {evalCode}: {evalErr ?? "no message"}";
        }
        var o = JsonNode.Parse(last)!;
        double mean = o["mean"]!.GetValue<double>();
        WriteAtomic(Path.Combine(rd, EvalFile), new JsonObject
        {
            ["mean"] = mean, ["std"] = o["std"]!.GetValue<double>(), ["episodes"] = spec.EvalEpisodes, ["seed"] = spec.EvalSeed,
        }.ToJsonString() + "\n");
        return string.Create(CultureInfo.InvariantCulture, $"return {mean:F1} (score {EnvScores.For(run.Task.Env).Normalize(mean):F2})");
    }

    /// <summary>
    /// Runs `dotnet tiny.dll args...` (this very tool) with its output appended to log; the child sees
    /// cores / workers processors so that workers children share the machine. On ct the child gets SIGTERM (it saves a
    /// checkpoint and exits 143). Returns the exit code, the last stdout line and the last stderr line.
    /// </summary>
    private static (int Code, string? LastOut, string? LastErr) Child(string[] args, string log, int workers, CancellationToken ct)
    {
        string host = Path.GetFileNameWithoutExtension(Environment.ProcessPath ?? "") == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var psi = new ProcessStartInfo(host, ["exec", typeof(StudyRunner).Assembly.Location, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["DOTNET_PROCESSOR_COUNT"] = Math.Max(1, Environment.ProcessorCount / Math.Max(1, workers)).ToString(CultureInfo.InvariantCulture);
        string? lastOut = null, lastErr = null;
        using var writer = new StreamWriter(log, append: true);
        var sync = new object();
        writer.WriteLine($"$ tiny {string.Join(' ', args)}");
        using var p = Process.Start(psi) ?? throw new CliError("could not start dotnet for a study run");
        string pidFile = Path.ChangeExtension(log, ".pid");   // a study killed alone (kill -9 of its pid) leaves its runs going: the next one checks
        File.WriteAllText(pidFile, p.Id.ToString(CultureInfo.InvariantCulture));
        p.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (sync) { writer.WriteLine(e.Data); if (e.Data.Length > 0) lastOut = e.Data; } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is null) return; lock (sync) { writer.WriteLine(e.Data); if (e.Data.Length > 0) lastErr = e.Data; } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using (ct.Register(() => Terminate(p)))
            p.WaitForExit();
        lock (sync) writer.WriteLine($"# exit {p.ExitCode}");
        File.Delete(pidFile);
        return (p.ExitCode, lastOut, lastErr);
    }

    /// <summary>SIGTERM to a child (Windows: kill it; its run restarts from its last periodic checkpoint).</summary>
    private static void Terminate(Process p)
    {
        try
        {
            if (OperatingSystem.IsWindows()) { p.Kill(); return; }
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            kill?.WaitForExit();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>A scored run from its folder.</summary>
    private static RunResult Result(StudyRun run, string rd, StudySpec spec)
    {
        long? divergedAt = DivergedAt(Path.Combine(rd, "config.json"));
        double? eval = divergedAt is null ? ReadEval(rd, spec) ?? throw new CliError($"{rd}: no evaluation ({EvalFile})") : null;
        string metrics = Path.Combine(rd, "metrics.csv");
        var curve = LearningCurve.Windows(LearningCurve.ReadEpisodes(metrics), run.Task.TotalSteps, EnvScores.For(run.Task.Env), divergedAt);
        return new RunResult(run, eval, divergedAt, curve, TrainWall(metrics) ?? 0);
    }

    /// <summary>The last wall_time of a metrics.csv (the run's training wall time, resumed parts included), or null.</summary>
    internal static double? TrainWall(string metricsCsv)
    {
        if (!File.Exists(metricsCsv)) return null;
        string? last = File.ReadLines(metricsCsv).LastOrDefault(l => l.Length > 0);
        return last is not null && double.TryParse(last[(last.LastIndexOf(',') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) ? w : null;
    }

    // ---- The estimate printed before a study starts.

    /// <summary>Seconds per 1,000 env steps of one run at the presets' settings, measured as wall time with two runs
    /// at a time on a 2-core Xeon (2026-12-02; less the start): DQN/CartPole (CleanRL, 120-84, an update per 10 steps),
    /// DQN/Acrobot (64-64, an update per 4 steps, batch 128), TD3/Pendulum (64-64 nets, an update per step, batch 256),
    /// PPO on each env (its per-env defaults). About half of these on the Zen 5 machine the preset was first sized on;
    /// other settings scale them only roughly.</summary>
    private static readonly Dictionary<(string Agent, string Env), double> SecondsPer1k = new()
    {
        [("dqn", "CartPole-v1")] = 0.106, [("dqn", "Acrobot-v1")] = 0.203, [("td3", "Pendulum-v1")] = 1.27,
        [("ppo", "CartPole-v1")] = 0.12, [("ppo", "Acrobot-v1")] = 0.095, [("ppo", "Pendulum-v1")] = 0.15,
    };

    /// <summary>Start, JIT and evaluation of a run, in seconds (two processes of about a second each).</summary>
    private const double RunOverhead = 2.0;

    /// <summary>The estimated seconds of each run still to do (0 for finished ones): the task's finished runs in this
    /// study if any (their mean training wall time), else <see cref="SecondsPer1k"/>; a run to resume counts half.</summary>
    private static Dictionary<StudyRun, double> Costs(string dir, StudySpec spec, IReadOnlyList<StudyRun> runs, Dictionary<StudyRun, State> states)
    {
        var measured = new Dictionary<string, double>();
        foreach (var g in runs.Where(r => states[r] == State.Done).GroupBy(r => r.Task.Name))
        {
            var walls = g.Select(r => TrainWall(Path.Combine(RunDir(dir, r), "metrics.csv"))).OfType<double>().ToList();
            if (walls.Count > 0) measured[g.Key] = walls.Average() + RunOverhead;
        }
        double Table(StudyTask t) =>
            (SecondsPer1k.TryGetValue((t.Agent, t.Env), out double s) ? s : SecondsPer1k.Where(kv => kv.Key.Agent == t.Agent).Max(kv => kv.Value))
            * t.TotalSteps / 1000.0 + RunOverhead;
        return runs.ToDictionary(r => r, r => states[r] switch
        {
            State.Done or State.Diverged => 0,
            State.Evaluate => RunOverhead / 2,
            var st => (measured.TryGetValue(r.Task.Name, out double m) ? m : Table(r.Task)) * (st == State.Resume ? 0.5 : 1),
        });
    }

    /// <summary>Wall seconds of costs on workers (longest first onto the least loaded worker).</summary>
    internal static double EstimateWall(IReadOnlyList<double> costs, int workers)
    {
        var load = new double[Math.Max(1, workers)];
        foreach (double c in costs.OrderByDescending(c => c))
        {
            int i = Array.IndexOf(load, load.Min());
            load[i] += c;
        }
        return load.Max();
    }

    private static string S(int n) => n == 1 ? "" : "s";

    /// <summary>"42 s", "12 min", "1 h 05 min".</summary>
    internal static string Duration(double seconds) =>
        seconds < 90 ? $"{seconds:F0} s" : seconds < 5400 ? $"{seconds / 60:F0} min" : $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60):D2} min";

    /// <summary>Writes text to path through a temporary file and a rename, so a reader never sees half of it.</summary>
    internal static void WriteAtomic(string path, string text)
    {
        string tmp = path + $".tmp-{Environment.ProcessId}";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
