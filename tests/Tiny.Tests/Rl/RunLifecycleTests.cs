// RunLifecycleTests: a run is never lost and never lies: bad input is one line and exit 2 with nothing written, an
// existing run is not overwritten without --force, divergence stops with exit 3, and signals save and exit 128+N.
using System.Diagnostics;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public sealed class RunLifecycleTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "tiny-run-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Tiny(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Bad inputs, each with a fragment of the one line it must print. OUT stands for a fresh folder.</summary>
    private static readonly (string[] Args, string Says)[] BadInputs =
    [
        (["nope"], "unknown command 'nope'"),
        (["train"], "usage: tiny train"),
        (["train", "a2c", "--env", "CartPole-v1"], "unknown agent 'a2c'"),
        (["train", "ppo"], "--env is required"),
        (["train", "ppo", "--env", "Nope-v9", "--out", "OUT"], "Nope-v9"),
        (["train", "ppo", "--env", "CartPole-v1", "stray", "--out", "OUT"], "unexpected argument 'stray'"),
        (["train", "ppo", "--env", "CartPole-v1", "--seed", "abc", "--out", "OUT"], "--seed: 'abc'"),
        (["train", "ppo", "--env", "CartPole-v1", "--total-steps", "-5", "--out", "OUT"], "--total-steps: '-5'"),
        (["train", "ppo", "--env", "CartPole-v1", "--total-steps", "100", "--out", "OUT"], "totalTimesteps (100) must be at least one batch"),
        (["train", "ppo", "--env", "CartPole-v1", "--num-envs", "0", "--out", "OUT"], "numEnvs must be positive"),
        (["train", "ppo", "--env", "CartPole-v1", "--gamma", "2", "--out", "OUT"], "gamma must be in [0, 1]"),
        (["train", "ppo", "--env", "CartPole-v1", "--num-minibatches", "3", "--out", "OUT"], "numMinibatches (3) must divide"),
        (["train", "ppo", "--env", "CartPole-v1", "--numenvz", "3", "--out", "OUT"], "numenvz"),
        (["train", "ppo", "--env", "CartPole-v1", "--lr", "nan", "--out", "OUT"], "--lr: 'nan'"),
        (["train", "ppo", "--env", "CartPole-v1", "--lr", "-1", "--out", "OUT"], "Invalid learning rate"),
        (["train", "ppo", "--env", "CartPole-v1", "--optimizer", "nope", "--out", "OUT"], "unknown optimizer 'nope'"),
        (["train", "ppo", "--env", "CartPole-v1", "--optimizer", "adam:foo=1", "--out", "OUT"], "has no option 'foo'"),
        (["train", "ppo", "--env", "CartPole-v1", "--optimizer", "adam:beta1=1.5", "--out", "OUT"], "Invalid beta parameter at index 0"),
        (["train", "ppo", "--env", "CartPole-v1", "--alpha", "2", "--out", "OUT"], "--alpha does not apply to adam"),
        (["train", "ppo", "--env", "CartPole-v1", "--device", "cuda:7", "--out", "OUT"], "--device"),
        (["train", "ppo", "--env", "CartPole-v1", "--config", "/nonexistent/c.json", "--out", "OUT"], "not found"),
        (["train", "ppo", "--env", "Pendulum-v1", "--net", "resnet", "--out", "OUT"], "resnet"),
        (["train", "dqn", "--env", "Pendulum-v1", "--out", "OUT"], "discrete"),
        (["train", "dqn", "--env", "CartPole-v1", "--gamma", "-5", "--out", "OUT"], "dqn: gamma must be in [0, 1], got -5"),
        (["train", "dqn", "--env", "CartPole-v1", "--train-frequency", "0", "--out", "OUT"], "trainFrequency must be positive"),
        (["train", "dqn", "--env", "CartPole-v1", "--target-network-frequency", "0", "--out", "OUT"], "targetNetworkFrequency must be positive"),
        (["train", "dqn", "--env", "CartPole-v1", "--batch-size", "0", "--out", "OUT"], "batchSize must be positive"),
        (["train", "dqn", "--env", "CartPole-v1", "--batch-size", "20000", "--out", "OUT"], "batchSize (20000) must not exceed bufferSize (10000)"),
        (["train", "dqn", "--env", "CartPole-v1", "--buffer-size", "536870912", "--out", "OUT"], "of replay memory"),
        (["train", "dqn", "--env", "CartPole-v1", "--total-steps", "5000", "--out", "OUT"], "totalTimesteps (5000) must exceed learningStarts (10000)"),
        (["train", "dqn", "--env", "CartPole-v1", "--start-e", "1.5", "--out", "OUT"], "startE must be in [0, 1]"),
        (["train", "dqn", "--env", "CartPole-v1", "--tau", "0", "--out", "OUT"], "tau must be in (0, 1]"),
        (["train", "dqn", "--env", "CartPole-v1", "--hidden-sizes", "64,0", "--out", "OUT"], "hiddenSizes must be positive sizes"),
        (["train", "dqn", "--env", "CartPole-v1", "--net", "cnn", "--out", "OUT"], "cnn"),
        (["train", "td3", "--env", "CartPole-v1", "--out", "OUT"], "continuous"),
        (["train", "td3", "--env", "Pendulum-v1", "--policy-frequency", "0", "--out", "OUT"], "policyFrequency must be positive"),
        (["train", "td3", "--env", "Pendulum-v1", "--policy-noise", "-1", "--out", "OUT"], "policyNoise must be >= 0"),
        (["train", "td3", "--env", "Pendulum-v1", "--learning-starts", "-1", "--out", "OUT"], "learningStarts must be >= 0"),
        (["train", "td3", "--env", "Pendulum-v1", "--total-steps", "1000", "--out", "OUT"], "must exceed learningStarts"),
        (["train", "td3", "--env", "Pendulum-v1", "--actor-hidden-sizes", "0", "--out", "OUT"], "actorHiddenSizes must be positive sizes"),
        (["eval"], "usage: tiny eval"),
        (["eval", "/nonexistent/run"], "/nonexistent/run"),
        (["eval", "OUT", "--episodes", "0"], "--episodes: '0'"),
        (["eval", "OUT", "--bogus"], "unknown option '--bogus'"),
        (["optim", "run", "--optimizer", "adam", "--function", "nope", "--start", "1,1", "--steps", "3"], "unknown function 'nope'"),
        (["optim", "run", "--optimizer", "nope", "--function", "rosenbrock", "--start", "1,1", "--steps", "3"], "unknown optimizer 'nope'"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1", "--steps", "3"], "--start: expected X,Y"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "x"], "--steps: 'x'"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--alpha", "1"], "--alpha does not apply to adam"),
        (["optim", "run", "--optimizer", "adam:lr=-1", "--function", "rosenbrock", "--start", "1,1", "--steps", "3"], "Invalid learning rate"),
        (["optim", "plot", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--width", "100000", "--out", "OUT/p.png"], "--width: '100000'"),
        (["optim", "plot", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--height", "x", "--out", "OUT/p.png"], "--height: 'x'"),
        (["optim", "bogus"], "unknown optim command 'bogus'"),
        (["devices", "--bogus"], "--bogus"),
        // --resume RUN and --checkpoint-every N. RUN stands for a run folder (a config.json), EMPTY for an empty folder.
        (["train", "--resume", "OUT"], "--resume " + "OUT" + ": no such run folder"),
        (["train", "ppo", "--resume", "OUT"], "no such run folder"),
        (["train", "--resume", "EMPTY"], "not a run folder (no config.json or checkpoint in it)"),
        (["train", "--resume"], "--resume needs a value"),
        (["train", "--resume", "RUN", "--lr", "0.1"], "--lr would change what runs"),
        (["train", "--resume", "RUN", "--num-envs", "2"], "--num-envs would change what runs"),
        (["train", "--resume", "RUN", "--seed", "2"], "--seed would change what runs"),
        (["train", "--resume", "RUN", "--total-steps", "4096"], "--total-steps would change what runs"),
        (["train", "--resume", "RUN", "--out", "OUT"], "--out would change what runs"),
        (["train", "--resume", "RUN", "--force"], "--force would change what runs"),
        (["train", "--resume", "RUN", "--config", "RUN/config.json"], "--config would change what runs"),
        (["train", "--resume", "RUN", "--optimizer", "sgd"], "--optimizer would change what runs"),
        (["train", "--resume", "RUN", "--env", "Pendulum-v1"], "that run is on CartPole-v1, not --env Pendulum-v1"),
        (["train", "dqn", "--resume", "RUN"], "that is a ppo run, not dqn"),
        (["train", "--resume", "RUN", "--checkpoint-every", "0"], "--checkpoint-every: '0' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--checkpoint-every", "0", "--out", "OUT"], "--checkpoint-every: '0' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--checkpoint-every", "-5", "--out", "OUT"], "--checkpoint-every: '-5' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--threads", "0", "--out", "OUT"], "--threads: '0' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--threads", "two", "--out", "OUT"], "--threads: 'two' is not a positive integer"),
        (["train", "--resume", "RUN", "--threads", "-1"], "--threads: '-1' is not a positive integer"),
        (["eval", "OUT", "--threads", "0"], "--threads: '0' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--checkpoint-every", "abc", "--out", "OUT"], "--checkpoint-every: 'abc' is not a positive integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--checkpoint-every", "--out", "OUT"], "--checkpoint-every needs a value"),
        // Unknown options, per command: the flag named, and the nearest known one for a likely typo.
        (["--bogus"], "unknown option '--bogus'"),
        (["train", "--env", "CartPole-v1"], "name the agent first"),
        (["train", "ppo", "--env", "CartPole-v1", "--tau", "0.5", "--out", "OUT"], "unknown option '--tau' for tiny train ppo"),
        (["train", "td3", "--env", "Pendulum-v1", "--num-envs", "2", "--out", "OUT"], "unknown option '--num-envs' for tiny train td3"),
        (["train", "ppo", "--env", "CartPole-v1", "--learning-rat", "0.1", "--out", "OUT"], "did you mean --learning-rate?"),
        (["eval", "OUT", "--total-steps", "5"], "unknown option '--total-steps' for tiny eval"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--width", "500"], "unknown option '--width' for tiny optim run"),
        (["optim", "plot", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--bogus", "--out", "OUT/p.png"], "unknown option '--bogus' for tiny optim plot"),
        (["optim", "--lr", "3"], "name the command first: tiny optim run|plot"),
        // Bad values, lists and switches; values given twice.
        (["train", "dqn", "--env", "CartPole-v1", "--hidden-sizes", "64,x", "--out", "OUT"], "--hidden-sizes: '64,x' is not a list of integers"),
        (["train", "td3", "--env", "Pendulum-v1", "--critic-hidden-sizes", "64", "abc", "--out", "OUT"], "--critic-hidden-sizes: 'abc' is not a list of integers"),
        (["train", "ppo", "--env", "CartPole-v1", "--target-kl", "abc", "--out", "OUT"], "--target-kl: 'abc' is not a number"),
        (["train", "ppo", "--env", "CartPole-v1", "--num-envs", "2.5", "--out", "OUT"], "--num-envs: '2.5' is not an integer"),
        (["train", "ppo", "--env", "CartPole-v1", "--norm-adv", "maybe", "--out", "OUT"], "unexpected argument 'maybe' (--norm-adv is a switch"),
        (["train", "ppo", "--env", "CartPole-v1", "--amsgrad=maybe", "--out", "OUT"], "unexpected argument 'maybe' (--amsgrad is a switch"),
        (["train", "ppo", "--env", "CartPole-v1", "--seed", "1", "--seed", "2", "--out", "OUT"], "--seed is given more than once"),
        (["train", "ppo", "--env", "CartPole-v1", "--lookahead", "0", "--out", "OUT"], "--lookahead: '0'"),
        // Missing values.
        (["train", "ppo", "--env"], "--env needs a value"),
        (["train", "ppo", "--env", "CartPole-v1", "--seed"], "--seed needs a value"),
        (["train", "ppo", "--env", "CartPole-v1", "--lr", "--seed", "3", "--out", "OUT"], "--lr needs a value"),
        (["train", "ppo", "--env", "CartPole-v1", "--optimizer"], "--optimizer needs a value"),
        (["train", "dqn", "--env", "CartPole-v1", "--hidden-sizes", "--out", "OUT"], "--hidden-sizes needs a value"),
        (["eval", "OUT", "--episodes"], "--episodes needs a value"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps"], "--steps needs a value"),
        // eval and optim.
        (["eval", "OUT", "--seed", "x"], "--seed: 'x' is not an integer"),
        (["eval", "--episodes", "3"], "missing RUN"),
        (["eval", "EMPTY"], "config.json"),
        // export.
        (["export"], "usage: tiny export"),
        (["export", "--onnx", "OUT/p.onnx"], "missing RUN"),
        (["export", "RUN"], "--onnx is required"),
        (["export", "RUN", "--onnx"], "--onnx needs a value"),
        (["export", "/nonexistent/run", "--onnx", "OUT/p.onnx"], "/nonexistent/run"),
        (["export", "EMPTY", "--onnx", "OUT/p.onnx"], "config.json"),
        (["export", "RUN", "--onnx", "OUT/p.onnx"], "model.safetensors"),
        (["export", "RUN", "--onnx", "OUT/p.onnx", "--bogus"], "unknown option '--bogus' for tiny export"),
        (["optim", "run", "--function", "rosenbrock", "--start", "1,1", "--steps", "3"], "--optimizer is required (once)"),
        (["optim", "plot", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3"], "--out is required"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,x", "--steps", "3"], "--start: 'x' is not a number"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--dtype", "float16"], "--dtype: 'float16'"),
        (["optim", "run", "--optimizer", "adam", "--function", "rosenbrock", "--start", "1,1", "--steps", "3", "--lookahead", "2,7"], "--lookahead: ALPHA '7'"),
        // stats and study (spec errors: tests/Tiny.Tests/Studies/StudyTests.cs).
        (["stats"], "usage: tiny stats"),
        (["stats", "/nonexistent/s.csv"], "/nonexistent/s.csv: file not found"),
        (["stats", "EMPTY"], "is a folder, not a scores CSV"),
        (["stats", "RUN/config.json"], "expected the header 'algorithm,task,run,score'"),
        (["stats", "RUN/config.json", "--reps", "0"], "--reps: '0' is not a positive integer"),
        (["stats", "RUN/config.json", "--confidence", "1.5"], "--confidence: '1.5' is not in (0, 1)"),
        (["stats", "RUN/config.json", "--seed", "x"], "--seed: 'x' is not an integer"),
        (["stats", "RUN/config.json", "--bogus"], "unknown option '--bogus' for tiny stats"),
        (["stats", "--bogus"], "unknown option '--bogus' for tiny stats"),
        (["study"], "usage: tiny study"),
        (["study", "--workers", "2"], "name the study: tiny study SPEC.json, or tiny study --preset NAME"),
        (["study", "--preset", "nope", "--out", "OUT"], "unknown preset 'nope'; presets: alphagrad-paper, smoke"),
        (["study", "RUN/config.json", "--preset", "smoke", "--out", "OUT"], "give SPEC.json or --preset, not both"),
        (["study", "/nonexistent/s.json", "--out", "OUT"], "study spec /nonexistent/s.json not found"),
        (["study", "EMPTY", "--out", "OUT"], "is a folder, not a study spec"),
        (["study", "RUN/config.json", "--out", "OUT"], "unknown key 'algorithm'"),
        (["study", "--preset", "smoke", "--workers", "0", "--out", "OUT"], "--workers: '0' is not a positive integer"),
        (["study", "--preset", "smoke", "--out", "RUN/config.json"], "is a file, not a folder"),
        (["study", "--preset", "smoke", "--bogus", "--out", "OUT"], "unknown option '--bogus' for tiny study"),
    ];

    private static IEnumerable<TestCaseData> BadInputCases() =>
        BadInputs.Select((b, i) => new TestCaseData(i).SetName($"BadInput {i:D2}: tiny {string.Join(' ', b.Args)}"));

    [Test]
    public void TheBadInputTableCoversEveryCommand() =>
        Assert.That(BadInputs, Has.Length.GreaterThanOrEqualTo(66));

    /// <summary>A run folder as --resume reads it: config.json only (its agent, env and seed).</summary>
    private const string RunConfig = """{"algorithm": "ppo", "env_id": "CartPole-v1", "options": {"envId": "CartPole-v1", "seed": 3}}""";

    [TestCaseSource(nameof(BadInputCases))]
    public void BadInputIsOneLineExit2AndWritesNothing(int index)
    {
        var (args, says) = BadInputs[index];
        string run = _dir + "-run", empty = _dir + "-empty";
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"), RunConfig);
        Directory.CreateDirectory(empty);
        try
        {
            args = args.Select(a => a.Replace("OUT", _dir).Replace("RUN", run).Replace("EMPTY", empty)).ToArray();
            says = says.Replace("OUT", _dir);
            var (code, _, err) = Tiny(args);
            Assert.That(code, Is.EqualTo(2), err);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Is.Not.Empty, "says what is wrong");
            if (!says.StartsWith("usage")) Assert.That(lines, Has.Length.EqualTo(1), err);
            Assert.That(err + string.Join("", lines), Does.Contain(says).Or.Contain(says.ToLowerInvariant()), "names the cause");
            Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(Directory.Exists(_dir), Is.False, "nothing written");
            Assert.That(Directory.GetFileSystemEntries(run), Is.EqualTo(new[] { Path.Combine(run, "config.json") }), "the run folder untouched");
            Assert.That(File.ReadAllText(Path.Combine(run, "config.json")), Is.EqualTo(RunConfig));
            Assert.That(Directory.GetFileSystemEntries(empty), Is.Empty, "the empty folder untouched");
        }
        finally
        {
            Directory.Delete(run, true);
            Directory.Delete(empty, true);
        }
    }

    [Test]
    public void UnwritableOutIsOneLineBeforeTraining()
    {
        var (code, _, err) = Tiny("train", "ppo", "--env", "CartPole-v1", "--total-steps", "512", "--out", "/proc/tiny-cannot/run");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.StartWith("tiny train: error: --out /proc/tiny-cannot/run: cannot write there").And.Not.Contain("\n"));
    }

    [Test]
    public void AnExistingRunIsRefusedUnlessForce()
    {
        Directory.CreateDirectory(_dir);
        string keep = Path.Combine(_dir, "config.json");
        File.WriteAllText(keep, "{\"precious\": true}");
        var (code, _, err) = Tiny("train", "ppo", "--env", "CartPole-v1", "--total-steps", "512", "--out", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("already holds files").And.Contain("--force"));
        Assert.That(File.ReadAllText(keep), Is.EqualTo("{\"precious\": true}"), "untouched");
        Assert.That(Directory.GetFileSystemEntries(_dir), Has.Length.EqualTo(1));

        (code, _, err) = Tiny("train", "ppo", "--env", "CartPole-v1", "--total-steps", "512", "--out", _dir, "--force");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.ReadAllText(keep), Does.Contain("\"algorithm\""), "replaced by the new run");
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(),
                    Is.EqualTo(new[] { "config.json", "curve.png", "metrics.csv", "model.safetensors" }), "no temporary files left");
    }

    [Test]
    public void TheDefaultFolderTakesTheNextFreeSuffix()
    {
        string root = Path.Combine(_dir, "runs", "ppo-CartPole-v1-1");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "config.json"), "{}");
        Directory.CreateDirectory(root + "-2");
        File.WriteAllText(Path.Combine(root + "-2", "metrics.csv"), "x");
        Assert.That(TrainRun.RunFolder(null, root, force: false), Is.EqualTo(root + "-3"));
        Directory.CreateDirectory(root + "-4");   // an empty folder is free
        Assert.That(TrainRun.RunFolder(null, root + "-4", force: false), Is.EqualTo(root + "-4"));
    }

    /// <summary>An lr far too large: the run stops with exit 3 and one line naming the step, what was not finite and the
    /// optimizer; config.json records it, metrics.csv keeps the NaN rows, no model is written, and eval refuses.</summary>
    [TestCase("ppo", "CartPole-v1", "--total-steps", "20000")]
    [TestCase("dqn", "CartPole-v1", "--total-steps", "20000", "--learning-starts", "1000")]
    [TestCase("td3", "Pendulum-v1", "--total-steps", "1500", "--learning-starts", "500")]
    public void DivergenceStopsWithExit3AndSaysWhere(string algo, string env, params string[] budget)
    {
        string lr = algo == "td3" ? "1e9" : algo == "dqn" ? "1e7" : "1000";
        var (code, _, err) = Tiny(["train", algo, "--env", env, "--optimizer", $"sgd:lr={lr}", .. (algo == "ppo" ? new[] { "--max-grad-norm", "0" } : []), .. budget, "--out", _dir]);
        Assert.That(code, Is.EqualTo(3), err);
        Assert.That(err.Trim(), Does.Match($"^tiny train: diverged at step \\d+: .* is not finite \\(optimizer sgd:lr={lr.Replace("1e9", "1000000000").Replace("1e7", "10000000")}\\);").And.Not.Contain("\n"));
        Assert.That(File.Exists(Path.Combine(_dir, "model.safetensors")), Is.False, "no non-finite model");
        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!;
        Assert.That(cfg["diverged"]?["step"]?.GetValue<long>(), Is.GreaterThan(0));
        if (algo != "td3") Assert.That(File.ReadAllText(Path.Combine(_dir, "metrics.csv")), Does.Contain("NaN"), "the NaN row is kept");
        var (evalCode, _, evalErr) = Tiny("eval", _dir);
        Assert.That(evalCode, Is.EqualTo(2));
        Assert.That(evalErr, Does.Contain("diverged"));
    }

    /// <summary>`--config RUN/config.json` re-runs that run exactly: its optimizer (with the Lookahead wrapper), its seed
    /// and options, and a byte-identical model.</summary>
    [Test]
    public void ASavedConfigReRunsTheRunExactly()
    {
        string again = _dir + "-again";
        try
        {
            var (code, _, err) = Tiny("train", "ppo", "--env", "CartPole-v1", "--total-steps", "1024", "--seed", "7", "--num-envs", "2",
                                      "--optimizer", "alphagrad:alpha=2,momentum=0.9", "--lookahead", "5,0.5", "--out", _dir);
            Assert.That(code, Is.EqualTo(0), err);
            string stdout;
            (code, stdout, err) = Tiny("train", "ppo", "--env", "CartPole-v1", "--config", Path.Combine(_dir, "config.json"), "--out", again);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(stdout, Does.Contain("seed 7, 1024 steps, optimizer alphagrad:alpha=2,momentum=0.9,lookahead_k=5,lookahead_alpha=0.5"));
            Assert.That(File.ReadAllBytes(Path.Combine(again, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(_dir, "model.safetensors"))));
        }
        finally { if (Directory.Exists(again)) Directory.Delete(again, true); }
    }

    /// <summary>The progress display's steps/s is the rate of the last 10 s, not the run's average, and its ETA follows it.</summary>
    [Test]
    public void ProgressRateIsARecentWindow()
    {
        var rate = new TrainRun.RateWindow();
        Assert.That(rate.Eta(100), Is.EqualTo("?"));
        for (int t = 0; t <= 20; t++) rate.Add(t, t * 1000L);          // 1000 steps/s for 20 s
        Assert.That(rate.StepsPerSecond, Is.EqualTo(1000).Within(1e-9));
        for (int t = 21; t <= 40; t++) rate.Add(t, 20_000 + (t - 20) * 100L);   // then 100 steps/s
        Assert.That(rate.StepsPerSecond, Is.EqualTo(100).Within(1e-9), "the old fast phase has left the window");
        Assert.That(rate.Eta(6_000), Is.EqualTo("1m00s"));
        Assert.That(rate.Eta(720_000), Is.EqualTo("2h00m"));
    }

    [Test]
    public void VersionAndHelpGoToStdoutWithExit0()
    {
        var (code, stdout, err) = Tiny("--version");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Match(@"^tiny \d+\.\d+\.\d+"));
        Assert.That(err, Is.Empty);
        (code, stdout, _) = Tiny("--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("usage: tiny <command>").And.Contain("exit codes"));
    }

    /// <summary>SIGTERM mid-training in a child process: exit 143, one line saying so, a complete, loadable run and
    /// a checkpoint; SIGINT twice (the second during the stop and save): exit 130, and the same. `tiny train --resume`
    /// then finishes the run with the model and metrics rows the uninterrupted run has.</summary>
    [TestCase("TERM", 143)]
    [TestCase("INT", 130)]
    public void ASignalSavesTheRunAndExits128PlusN(string signal, int expected)
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("POSIX signals: Linux only");
        string tiny = Path.Combine(AppContext.BaseDirectory, "tiny.dll");
        string[] run = ["train", "ppo", "--env", "CartPole-v1", "--total-steps", "40960", "--seed", "3"];
        var psi = new ProcessStartInfo("dotnet", ["exec", tiny, .. run, "--out", _dir])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var child = Process.Start(psi)!;
        var stdout = new System.Text.StringBuilder();
        var started = new ManualResetEventSlim();
        child.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (stdout) stdout.AppendLine(e.Data); if (e.Data.StartsWith("[")) started.Set(); };
        child.BeginOutputReadLine();
        string err = "";
        var errTask = child.StandardError.ReadToEndAsync();
        Assert.That(started.Wait(TimeSpan.FromSeconds(60)), "training started");
        Kill(child.Id, signal);
        if (signal == "INT") { Thread.Sleep(30); Kill(child.Id, signal); }
        Assert.That(child.WaitForExit(60_000), "exited");
        child.WaitForExit();
        err = errTask.Result;
        Assert.That(child.ExitCode, Is.EqualTo(expected), stdout + err);
        Assert.That(stdout.ToString(), Does.Contain($"stopped by SIG{signal}"));
        foreach (var f in new[] { "metrics.csv", "model.safetensors", "config.json", "curve.png" })
            Assert.That(File.Exists(Path.Combine(_dir, f)), f);
        Assert.That(Directory.GetDirectories(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "checkpoint" }), "no staging folder left, one checkpoint");
        var (code, evalOut, evalErr) = Tiny("eval", _dir, "--episodes", "2");
        Assert.That(code, Is.EqualTo(0), evalErr);
        Assert.That(evalOut, Does.Contain("2 episodes"));

        (code, _, evalErr) = Tiny("train", "--resume", _dir);
        Assert.That(code, Is.EqualTo(0), evalErr);
        Assert.That(Directory.GetDirectories(_dir), Is.Empty, "a finished run keeps no checkpoint");
        string whole = _dir + "-whole";
        (code, _, evalErr) = Tiny([.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), evalErr);
        CliResumeTests.AssertSameRun(_dir, whole);
    }

    private static void Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()])!;
        kill.WaitForExit();
    }
}
