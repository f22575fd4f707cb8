// Tests of `tiny study`: the normalisation constants re-measured, learning curves against hand-computed windows, spec
// errors as one line, the presets' grids, the claims' rules on synthetic results, a study killed with SIGKILL
// mid-run and resumed giving the scores and report of an uninterrupted one, and the smoke preset run whole.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Tiny.Cli;
using Tiny.Rl.Studies;

namespace Tiny.Tests.Studies;

public sealed class StudyTests
{
    private readonly List<string> _dirs = [];

    private string Dir()
    {
        string d = Path.Combine(Path.GetTempPath(), "tiny-study-" + Guid.NewGuid().ToString("N"));
        _dirs.Add(d);
        return d;
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var d in _dirs) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
    }

    private static (int Code, string Out, string Err) Tiny(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The random-policy constants are what their documented measurement gives (1,000 episodes, seed 0), to
    /// the 2 decimals written, and near the literature's (CartPole ~22, Acrobot ~-500, MountainCar -200).</summary>
    [Test]
    public void TheRandomPolicyConstantsAreTheirMeasurement()
    {
        foreach (var (env, n) in EnvScores.Table)
            Assert.That(Math.Round(EnvScores.MeasureRandom(env, EnvScores.RandomEpisodes, EnvScores.RandomSeed), 2), Is.EqualTo(n.Random), env);
        Assert.That(EnvScores.Table["CartPole-v1"].Random, Is.InRange(20, 25));
        Assert.That(EnvScores.Table["MountainCar-v0"].Random, Is.EqualTo(-200));
        Assert.That(EnvScores.For("Pendulum-v1").Normalize(EnvScores.Table["Pendulum-v1"].Random), Is.EqualTo(0));
        Assert.That(EnvScores.For("CartPole-v1").Normalize(500), Is.EqualTo(1));
        Assert.That(() => EnvScores.For("MinAtar/Breakout-v1"), Throws.ArgumentException.With.Message.Contains("no score normalisation"));
    }

    /// <summary>Windows of a 100-step budget cut in 4 (CartPole: (r − 22.59) / 477.41), computed by hand: episodes at
    /// steps 10 (return 22.59 → 0) and 20 (499.999... → 1 up to rounding) average in window 0; window 1 has none and
    /// repeats it; a divergence at step 50 zeroes the windows from there on (2 and 3); one at step 55 (a NaN return)
    /// keeps window 2, which starts before it, with the last value.</summary>
    [Test]
    public void ALearningCurveIsWindowMeansCarriedForwardAndZeroAfterADivergence()
    {
        var cp = EnvScores.For("CartPole-v1");
        var eps = new List<(long, double)> { (10, 22.59), (20, 500), (75, 261.295) };
        Assert.That(LearningCurve.Windows(eps, 100, cp, windows: 4), Is.EqualTo(new[] { 0.5, 0.5, 0.5, 0.5 }).Within(1e-12));
        eps.Add((100, 500));
        Assert.That(LearningCurve.Windows(eps, 100, cp, windows: 4), Is.EqualTo(new[] { 0.5, 0.5, 0.5, 1.0 }).Within(1e-12));
        Assert.That(LearningCurve.Windows(eps, 100, cp, divergedAt: 50, windows: 4), Is.EqualTo(new[] { 0.5, 0.5, 0, 0 }).Within(1e-12));
        eps.Insert(2, (55, double.NaN));   // a NaN return is a divergence at its step (window 2 starts at step 50 < 55: kept)
        Assert.That(LearningCurve.Windows(eps, 100, cp, windows: 4), Is.EqualTo(new[] { 0.5, 0.5, 0.5, 0 }).Within(1e-12));
        Assert.That(LearningCurve.Area([0.5, 0.5, 0, 0]), Is.EqualTo(0.25));
    }

    private const string GoodTask = """{"agent": "ppo", "env": "CartPole-v1", "totalSteps": 4096}""";

    /// <summary>Spec errors: each one line naming the problem, before anything is written.</summary>
    private static readonly (string Spec, string Says)[] BadSpecs =
    [
        ("{", "not valid JSON"),
        ("[1]", "not a JSON object"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}], "bogus": 1}""", "unknown key 'bogus'; keys: name, description"),
        ($$$"""{"tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}]}""", "needs \"seeds\""),
        ($$$"""{"seeds": 0, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}]}""", "\"seeds\" must be a count"),
        ($$$"""{"seeds": [1, 1], "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}]}""", "\"seeds\" must be a count"),
        ("""{"seeds": 2, "tasks": [], "optimizers": [{"label": "adam"}]}""", "\"tasks\" must be a non-empty list"),
        ("""{"seeds": 2, "tasks": [{"agent": "a2c", "env": "CartPole-v1", "totalSteps": 10}], "optimizers": [{"label": "adam"}]}""", "tasks[0]: unknown agent 'a2c'; agents: dqn, td3, ppo"),
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "Nope-v0", "totalSteps": 10}], "optimizers": [{"label": "adam"}]}""", "tasks[0]: unknown env 'Nope-v0'; envs:"),
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "MinAtar/Breakout-v1", "totalSteps": 10}], "optimizers": [{"label": "adam"}]}""", "has no score normalisation"),
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "CartPole-v1"}], "optimizers": [{"label": "adam"}]}""", "tasks[0] needs \"totalSteps\""),
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "CartPole-v1", "totalSteps": 10, "steps": 5}], "optimizers": [{"label": "adam"}]}""", "tasks[0] unknown key 'steps'; keys: agent, env, totalSteps"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}, {{{GoodTask}}}], "optimizers": [{"label": "adam"}]}""", "task ppo/CartPole-v1 is listed twice"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "nope"}]}""", "optimizers[0]: unknown optimizer 'nope'"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "adam:foo=1"}]}""", "optimizers[0]: optimizer 'adam' has no option 'foo'"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "adam", "lr": 1}]}""", "optimizers[0] unknown key 'lr'; keys: label, spec, sweep, agentOptions"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "alphagrad", "sweep": {"alpha": []}}]}""", "sweep.alpha must be a non-empty list of numbers"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "alphagrad", "sweep": {"alpha": [-1]}}]}""", "optimizers[0]:"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"spec": "adam", "sweep": {"alpha": [1]}}]}""", "optimizers[0]: optimizer 'adam' has no option 'alpha'"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "a,b"}]}""", "may not hold commas"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}, {"spec": "adam"}]}""", "optimizer label 'adam' is used twice"),
        ($$$"""{"seeds": 2, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "sgd", "spec": "sgd"}]}""", "\"baseline\" 'adam' is not an optimizer label"),
        ($$$$"""{"seeds": 2, "tasks": [{{{{GoodTask}}}}], "optimizers": [{"label": "adam", "agentOptions": {"a2c": {}}}]}""", "agentOptions: unknown agent 'a2c'"),
        ($$$"""{"seeds": 2, "evalSeed": 100, "tasks": [{{{GoodTask}}}], "optimizers": [{"label": "adam"}]}""", "\"evalSeed\" 100 is too close to the training seeds"),
        // Caught by building each (task, optimizer) agent before anything runs.
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "CartPole-v1", "totalSteps": 4096, "options": {"numEnvz": 2}}], "optimizers": [{"label": "adam"}]}""", "task ppo/CartPole-v1 with optimizer adam: ppo has no option 'numEnvz'"),
        ("""{"seeds": 2, "tasks": [{"agent": "dqn", "env": "Pendulum-v1", "totalSteps": 20000}], "optimizers": [{"label": "adam"}]}""", "dqn needs a discrete action space"),
        ("""{"seeds": 2, "tasks": [{"agent": "ppo", "env": "CartPole-v1", "totalSteps": 100}], "optimizers": [{"label": "adam"}]}""", "must be at least one batch"),
    ];

    private static IEnumerable<TestCaseData> BadSpecCases() =>
        BadSpecs.Select((b, i) => new TestCaseData(i).SetName($"BadSpec {i:D2}: {b.Says}"));

    [TestCaseSource(nameof(BadSpecCases))]
    public void ASpecErrorIsOneLineAndStartsNothing(int index)
    {
        var (json, says) = BadSpecs[index];
        string dir = Dir(), file = dir + ".json", outDir = Path.Combine(dir, "out");
        _dirs.Add(file);
        File.WriteAllText(file, json);
        try
        {
            var (code, _, err) = Tiny("study", file, "--out", outDir);
            Assert.That(code, Is.EqualTo(2), err);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
            Assert.That(err, Does.StartWith($"tiny study: error: ").And.Contain(says));
            Assert.That(Directory.Exists(outDir), Is.False, "nothing written");
        }
        finally { File.Delete(file); }
    }

    [Test]
    public void ThePresetsParseValidateAndNameTheirRuns()
    {
        var paper = StudySpec.Preset("alphagrad-paper");
        paper.Validate();
        Assert.That(paper.Tasks.Select(t => t.Name), Is.EqualTo(new[] { "dqn/CartPole-v1", "dqn/Acrobot-v1", "td3/Pendulum-v1", "ppo/CartPole-v1", "ppo/Acrobot-v1", "ppo/Pendulum-v1" }));
        Assert.That(paper.Seeds, Has.Count.GreaterThanOrEqualTo(10));
        Assert.That(paper.Optimizers.Select(o => o.Label), Is.EqualTo(new[]
        {
            "adam", "alphagrad(alpha=0.5)", "alphagrad(alpha=4)", "alphagrad(alpha=32)", "alphagrad(alpha=256)",
            "sgd-momentum", "adabound",
        }));
        Assert.That(paper.Runs(), Has.Count.EqualTo(6 * 7 * 10));
        var run = paper.Runs().First(r => r.Task.Name == "ppo/Pendulum-v1" && r.Optimizer.Label == "alphagrad(alpha=4)" && r.Seed == 3);
        Assert.That(run.Id, Is.EqualTo("ppo-Pendulum-v1-alphagrad-alpha4-3"));
        Assert.That(string.Join(' ', run.TrainArgs("D")), Is.EqualTo(
            "train ppo --env Pendulum-v1 --seed 3 --total-steps 100000 --optimizer alphagrad:alpha=4,eps=1e-05,momentum=0.9 --max-grad-norm null --out D --checkpoint-every 25000"));
        var td3 = paper.Runs().First(r => r.Task.Agent == "td3");
        Assert.That(string.Join(' ', td3.TrainArgs("D")), Does.Contain("--actor-hidden-sizes 64,64 --critic-hidden-sizes 64,64"));

        var smoke = StudySpec.Preset("smoke");
        smoke.Validate();
        Assert.That(smoke.Runs(), Has.Count.EqualTo(40));
        Assert.That(smoke.Tasks.Select(t => t.Agent).Distinct(), Is.EquivalentTo(new[] { "dqn", "td3", "ppo" }));
        Assert.That(() => StudySpec.Preset("nope"), Throws.ArgumentException.With.Message.EqualTo("unknown preset 'nope'; presets: alphagrad-paper, smoke"));
    }

    /// <summary>The claims' rules on synthetic results: AlphaGrad diverges in DQN (unstable: supported), matches Adam in
    /// TD3 (competitive: supported), and beats Adam by a wide margin in PPO at one α only (substantially better:
    /// supported, at that α).</summary>
    [Test]
    public void TheClaimsFollowFromTheIntervals()
    {
        var spec = StudySpec.Parse("""
        {"name": "c", "seeds": 10, "tasks": [
            {"agent": "dqn", "env": "CartPole-v1", "totalSteps": 20000},
            {"agent": "td3", "env": "Pendulum-v1", "totalSteps": 20000},
            {"agent": "ppo", "env": "CartPole-v1", "totalSteps": 20000}],
         "optimizers": [{"label": "adam"}, {"label": "alphagrad", "spec": "alphagrad", "sweep": {"alpha": [1, 100]}}]}
        """, "c.json");
        double Ret(string env, double score) => EnvScores.For(env).Random + score * (EnvScores.For(env).Reference - EnvScores.For(env).Random);
        var results = spec.Runs().Select(r =>
        {
            bool ag = r.Optimizer.Family == "alphagrad", big = ag && r.Optimizer.Swept["alpha"] == 100;
            double s = 0.5 + 0.01 * r.Seed;   // distinct scores, so ranks are not tied
            return r.Task.Agent switch
            {
                "dqn" when ag => new RunResult(r, null, 5000, [0.3, 0.4, 0, 0], 1),                                  // every AlphaGrad run diverges
                "dqn" => new RunResult(r, Ret(r.Task.Env, s), null, [0.2, 0.3, 0.4, 0.5], 1),
                "td3" => new RunResult(r, Ret(r.Task.Env, s + (ag ? 0.001 : 0)), null, [0.1, 0.2, 0.3, s], 1),     // the same scores
                _ => new RunResult(r, Ret(r.Task.Env, big ? s + 0.4 : s), null, [0.1, 0.2, 0.3, s], 1),            // alpha 100: +0.4
            };
        }).ToList();
        var claims = StudyClaims.Evaluate(new StudyAnalysis(spec, results, reps: 500));
        Assert.That(claims.Select(c => c.Verdict), Is.EqualTo(new[] { "supported", "supported", "supported" }), string.Join("\n", claims.Select(c => c.Summary)));
        Assert.That(claims[0].Comparisons.All(c => c.Diverged == 10 && c.BaselineDiverged == 0));
        Assert.That(claims[2].Summary, Does.StartWith("Substantially better at α ∈ {100} of {1, 100}"));
        Assert.That(claims[2].Comparisons[0].Improvement.Hi, Is.LessThan(1), "alpha 1 ties with Adam");
    }

    /// <summary>A study's spec for the kill test: PPO on CartPole with Adam, AlphaGrad, and an SGD at lr 1e4 without
    /// clipping that diverges (kept, counted and scored 0), 2 seeds, checkpoints every 1024 steps.</summary>
    private const string KillSpec = """
    {
      "name": "kill-test", "seeds": 2, "evalEpisodes": 20,
      "tasks": [{"agent": "ppo", "env": "CartPole-v1", "totalSteps": 8192, "checkpointEvery": 1024}],
      "optimizers": [
        {"label": "adam"},
        {"label": "alphagrad", "spec": "alphagrad:eps=1e-5,momentum=0.9", "sweep": {"alpha": [4]}},
        {"label": "boom", "spec": "sgd:lr=10000", "agentOptions": {"ppo": {"maxGradNorm": null}}}
      ]
    }
    """;

    /// <summary>
    /// The same study run whole, and run in a child process killed with SIGKILL (its whole process group, as a machine
    /// or job kill would) while a run holds a periodic checkpoint, then re-run: the same scores.csv, auc.csv and report
    /// numbers; the killed study resumed at least one run; the diverged runs are counted and scored 0; re-running a
    /// finished study trains nothing and writes the same report; `tiny stats` reads its scores.
    /// </summary>
    [Test]
    public void AStudyKilledMidwayAndResumedGivesTheReportOfAnUninterruptedOne()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("setsid and process groups: Linux only");
        string root = Dir(), spec = Path.Combine(root, "kill.json"), whole = Path.Combine(root, "whole"), killed = Path.Combine(root, "killed");
        Directory.CreateDirectory(root);
        File.WriteAllText(spec, KillSpec);

        var (code, wholeOut, err) = Tiny("study", spec, "--out", whole, "--workers", "2");
        Assert.That(code, Is.EqualTo(0), wholeOut + err);
        Assert.That(wholeOut, Does.Contain("study kill-test: 6 runs").And.Contain("estimated wall time"));

        // The killed study: a child in its own session, so that one kill reaches it and its runs.
        string tiny = Path.Combine(AppContext.BaseDirectory, "tiny.dll");
        var psi = new ProcessStartInfo("setsid", ["dotnet", "exec", tiny, "study", spec, "--out", killed, "--workers", "2"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using (var child = Process.Start(psi)!)
        {
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            var sw = Stopwatch.StartNew();
            string runs = Path.Combine(killed, "runs");
            bool InFlightCheckpoint() => Directory.Exists(runs) && Directory.GetDirectories(runs).Any(d =>
                Directory.Exists(Path.Combine(d, "checkpoint")) && File.Exists(Path.Combine(d, "checkpoint", "run.json")) && !File.Exists(Path.Combine(d, "eval.json")));
            while (!InFlightCheckpoint() && !child.HasExited && sw.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(20);
            Assert.That(child.HasExited, Is.False, "the study was still running when a run held a checkpoint");
            using (var kill = Process.Start("kill", ["-KILL", "--", $"-{child.Id}"])!) kill.WaitForExit();
            Assert.That(child.WaitForExit(30_000), "killed");
            // Its runs die with it (same process group); wait until none is left.
            for (int i = 0; i < 200 && GroupAlive(child.Id); i++) Thread.Sleep(50);
            Assert.That(GroupAlive(child.Id), Is.False, "the study's runs were killed");
        }

        var (code2, resumedOut, err2) = Tiny("study", spec, "--out", killed, "--workers", "2");
        Assert.That(code2, Is.EqualTo(0), resumedOut + err2);
        var m = Regex.Match(resumedOut, @"(\d+) to resume");
        Assert.That(m.Success && int.Parse(m.Groups[1].Value) >= 1, resumedOut);

        foreach (var f in new[] { "scores.csv", "auc.csv" })
            Assert.That(File.ReadAllText(Path.Combine(killed, f)), Is.EqualTo(File.ReadAllText(Path.Combine(whole, f))), f);
        static string Numbers(string dir) { string r = File.ReadAllText(Path.Combine(dir, "report.md")); return r[r.IndexOf("## Aggregate scores", StringComparison.Ordinal)..]; }
        Assert.That(Numbers(killed), Is.EqualTo(Numbers(whole)), "report.md from its aggregates on");

        string runsCsv = File.ReadAllText(Path.Combine(whole, "runs.csv"));
        Assert.That(Regex.Matches(runsCsv, @"ppo-CartPole-v1-boom-\d,ppo,CartPole-v1,boom,\d,diverged,,0,").Count, Is.EqualTo(2), runsCsv);
        Assert.That(File.ReadAllText(Path.Combine(whole, "report.md")), Does.Contain("| ppo/CartPole-v1 | 0 | 0 | **2**/2 |"));
        foreach (var png in new[] { "aggregates.png", "profiles.png", "improvement.png", "sample_efficiency.png", "alpha_sweep.png" })
            Assert.That(new FileInfo(Path.Combine(whole, png)).Length, Is.GreaterThan(1000), png);

        var (code3, againOut, _) = Tiny("study", spec, "--out", whole);
        Assert.That(code3, Is.EqualTo(0));
        Assert.That(againOut, Does.Contain("6 finished, 0 to resume, 0 to evaluate, 0 to start"));
        Assert.That(Numbers(whole), Is.EqualTo(Numbers(killed)));

        var (code4, statsOut, statsErr) = Tiny("stats", Path.Combine(whole, "scores.csv"), "--json");
        Assert.That(code4, Is.EqualTo(0), statsErr);
        Assert.That(statsOut, Does.Contain("\"boom\":{\"iqm\":{\"value\":0,"));
    }

    /// <summary>
    /// The smoke preset, which exists for CI, runs here whole: 40 runs of the three agents and four optimizer families
    /// trained, evaluated, scored and reported, every figure written, the claims section present; what it shows about
    /// the optimizers is not checked (toy budgets).
    /// </summary>
    [Test]
    public void TheSmokePresetRunsTheWholePipeline()
    {
        string dir = Dir();
        var (code, output, err) = Tiny("study", "--preset", "smoke", "--out", dir);
        Assert.That(code, Is.EqualTo(0), output + err);
        Assert.That(output, Does.Contain("study smoke: 40 runs (4 tasks x 5 optimizers x 2 seeds)").And.Contain("study smoke: 40 runs scored"));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "scores.csv")), Has.Length.EqualTo(41));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "runs.csv")).Skip(1).Select(l => l.Split(',')[5]), Is.All.AnyOf("finished", "diverged"));
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.That(report, Does.StartWith("# Study: smoke").And.Contain("tiny study --preset smoke --out " + dir)
            .And.Contain("## The paper's claims").And.Contain("\"alphagrad is unstable in DQN\": "));
        foreach (var png in new[] { "aggregates.png", "profiles.png", "improvement.png", "sample_efficiency.png", "alpha_sweep.png" })
            Assert.That(new FileInfo(Path.Combine(dir, png)).Length, Is.GreaterThan(1000), png);
    }

    private static bool GroupAlive(int pgid)
    {
        using var p = Process.Start(new ProcessStartInfo("kill", ["-0", "--", $"-{pgid}"]) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}
