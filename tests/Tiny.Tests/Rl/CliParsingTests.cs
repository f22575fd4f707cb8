// CliParsingTests: what `tiny train` parses a command line into (the TrainRequest, captured before anything runs), and
// that every command's --help lists every option its parser takes.
using System.CommandLine;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public sealed class CliParsingTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "tiny-parse-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>The request `tiny args...` would run (nothing is trained), or a failure with its one line.</summary>
    private static TrainRequest Request(params string[] args)
    {
        TrainRequest? got = null;
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, o, e, CancellationToken.None, (r, _, _, _) => { got = r; return 0; });
        Assert.That(code, Is.EqualTo(0), e.ToString());
        return got ?? throw new AssertionException("no request");
    }

    [Test]
    public void AListOptionTakesCommasOrSeparateValues()
    {
        foreach (var form in new[] { new[] { "64,32" }, ["64", "32"] })
        {
            var r = Request(["train", "dqn", "--env", "CartPole-v1", "--hidden-sizes", .. form, "--seed", "4"]);
            Assert.That(r.Overrides["hiddenSizes"]!.ToJsonString(), Is.EqualTo("[64,32]"));
            Assert.That(r.Seed, Is.EqualTo(4), "the value after the list is the next option's");
        }
    }

    [Test]
    public void FlagsWinOverTheConfigWhichWinsOverTheDefaults()
    {
        Directory.CreateDirectory(_dir);
        string config = Path.Combine(_dir, "c.json");
        File.WriteAllText(config, """{"numEnvs": 8, "numSteps": 64, "seed": 5, "optimizer": "alphagrad:alpha=2"}""");
        var r = Request("train", "ppo", "--env", "CartPole-v1", "--config", config, "--num-envs", "2", "--momentum", "0.9", "--total-timesteps", "4096");
        Assert.That(r.Overrides["numEnvs"]!.GetValue<int>(), Is.EqualTo(2), "the flag");
        Assert.That(r.Overrides["numSteps"]!.GetValue<int>(), Is.EqualTo(64), "the file");
        Assert.That(r.Overrides.ContainsKey("gamma"), Is.False, "the agent's default");
        Assert.That(r.Seed, Is.EqualTo(5));
        Assert.That(r.Spec!.ToString(), Is.EqualTo("alphagrad:alpha=2,momentum=0.9"), "--momentum changes only that key of the file's optimizer");
        Assert.That(r.TotalSteps, Is.EqualTo(4096), "--total-timesteps is --total-steps");
        Assert.That((r.Algo, r.Env, r.OutDir, r.Force, r.Resume, r.CheckpointEvery), Is.EqualTo(("ppo", "CartPole-v1", (string?)null, false, (string?)null, (long?)null)));
    }

    [Test]
    public void OptimizerFlagsChangeOnlyTheirKeysOfTheAgentsDefault()
    {
        var r = Request("train", "ppo", "--env", "CartPole-v1", "--lr", "0.001", "--amsgrad", "--weight_decay", "0.01", "--maximize=false");
        Assert.That(r.Spec!.ToString(), Is.EqualTo("adam:lr=0.001,eps=1e-05,weight_decay=0.01,amsgrad=true,maximize=false"));
        Assert.That(Request("train", "ppo", "--env", "CartPole-v1").Spec, Is.Null, "no flag: the agent's default");
        var b = Request("train", "ppo", "--env", "CartPole-v1", "--norm-adv", "false", "--anneal-lr", "--target-kl", "null", "--net", "mlp");
        Assert.That(b.Overrides.ToJsonString(), Is.EqualTo("""{"annealLr":true,"normAdv":false,"targetKl":null,"net":"mlp"}"""));
    }

    [Test]
    public void ResumeTakesTheAgentAndEnvFromTheRun()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"algorithm": "dqn", "envId": "CartPole-v1", "options": {"seed": 9}}""");
        foreach (var args in new[]
                 {
                     new[] { "train", "--resume", _dir, "--checkpoint-every", "1000", "--device", "cpu" },
                     ["train", "dqn", "--resume", _dir, "--checkpoint-every", "1000"],
                     ["train", "--env", "CartPole-v1", $"--resume={_dir}", "--checkpoint-every=1000"],
                 })
        {
            var r = Request(args);
            Assert.That((r.Algo, r.Env, r.Seed, r.OutDir, r.Resume, r.CheckpointEvery, r.Spec, r.TotalSteps, r.Force),
                        Is.EqualTo(("dqn", "CartPole-v1", 9, (string?)_dir, (string?)_dir, (long?)1000, (Tiny.Rl.OptimizerSpec?)null, (long?)null, false)), string.Join(' ', args));
            Assert.That(r.Overrides, Is.Empty);
            Assert.That(r.Device, Is.EqualTo(Device.Cpu));
        }
        Assert.That(Request("train", "ppo", "--env", "CartPole-v1", "--checkpoint-every", "2048").CheckpointEvery, Is.EqualTo(2048));
    }

    [Test]
    public void EveryOptionTheParserTakesIsInItsCommandsHelp()
    {
        var root = Program.Root(CancellationToken.None, (_, _, _, _) => 0);
        var commands = new List<Command>();
        void Walk(Command c) { commands.Add(c); foreach (var s in c.Subcommands) Walk(s); }
        Walk(root);
        Assert.That(commands.Select(c => CliParsing.Path(c)), Is.SupersetOf(new[] { "tiny train ppo", "tiny train dqn", "tiny train td3", "tiny eval", "tiny optim run", "tiny optim plot", "tiny devices" }));
        foreach (var c in commands)
        {
            var o = new StringWriter();
            int code = Program.Run([.. CliParsing.Path(c).Split(' ').Skip(1), "--help"], o, new StringWriter());
            Assert.That(code, Is.EqualTo(0), CliParsing.Path(c));
            foreach (var option in c.Options)
                if (option.Name != "--help")
                    Assert.That(o.ToString(), Does.Match($@"(^|\s|\[){System.Text.RegularExpressions.Regex.Escape(option.Name)}[\s=\],]"), $"{CliParsing.Path(c)} --help lists {option.Name}");
        }
    }

    [Test]
    public void TrainHelpShowsTheDefaultsOfTheEnvGiven()
    {
        var o = new StringWriter();
        Assert.That(Program.Run(["train", "ppo", "--env", "Pendulum-v1", "--help"], o, new StringWriter()), Is.EqualTo(0));
        Assert.That(o.ToString(), Does.Contain("ppo (defaults for Pendulum-v1").And.Contain("--total-steps N").And.Contain("(default 200000)"));
        Assert.That(o.ToString(), Does.Contain("--resume RUN").And.Contain("--checkpoint-every N"));
    }
}
