// Tests of `tiny train` and `tiny eval`, run in-process.
using Tiny.Rl;
using System.Text.Json;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public sealed class CliTrainTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "tiny-cli-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private static (int Code, string Out, string Err) Train(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = TrainCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static (int Code, string Out, string Err) Eval(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = EvalCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Test]
    public void TrainWritesTheFourFilesAndEvalJsonParses()
    {
        var (code, stdout, err) = Train("ppo", "--env", "CartPole-v1", "--total-steps", "2048", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err);
        foreach (var f in new[] { "metrics.csv", "model.safetensors", "config.json", "curve.png" })
            Assert.That(File.Exists(Path.Combine(_dir, f)), f);
        var header = File.ReadLines(Path.Combine(_dir, "metrics.csv")).First();
        Assert.That(header, Does.StartWith("global_step,episodic_return,episode_length").And.Contain("policy_loss").And.EndWith("lr,wall_time"));
        Assert.That(stdout, Does.Contain("steps/s").And.Contain($"eval {_dir}"), "the follow-up command names the run");

        var (ecode, eout, eerr) = Eval(_dir, "--episodes", "5", "--json");
        Assert.That(ecode, Is.EqualTo(0), eerr);
        var last = eout.TrimEnd().Split('\n').Last();
        using var doc = JsonDocument.Parse(last);
        Assert.That(doc.RootElement.GetProperty("episodes").GetInt32(), Is.EqualTo(5));
        Assert.That(doc.RootElement.GetProperty("mean").GetDouble(), Is.InRange(1, 500));
        Assert.That(doc.RootElement.GetProperty("std").GetDouble(), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void TrainTakesOptimizerFlagsAndAgentOptions()
    {
        var (code, _, err) = Train("ppo", "--env", "CartPole-v1", "--total-steps", "1024", "--out", _dir,
            "--optimizer", "alphagrad", "--alpha", "2", "--momentum", "0.9", "--num-envs", "2", "--seed", "3");
        Assert.That(code, Is.EqualTo(0), err);
        var config = File.ReadAllText(Path.Combine(_dir, "config.json"));
        Assert.That(config, Does.Contain("alphagrad").And.Contain("\"numEnvs\": 2").And.Contain("\"seed\": 3"));
    }

    [Test]
    public void TrainTakesEveryRegistryOptionAsAFlag()
    {
        // Booleans bare or with a value, '_' or '-', any optimizer's keys (AdaBound's here); config.json keeps snake_case.
        var (code, _, err) = Train("ppo", "--env", "CartPole-v1", "--total-steps", "512", "--num-envs", "1", "--num-steps", "128", "--out", _dir,
            "--optimizer", "adabound", "--final-lr", "0.05", "--amsbound", "--weight_decay", "0.001", "--adaboundw", "false", "--lr", "0.002");
        Assert.That(code, Is.EqualTo(0), err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")));
        var opt = doc.RootElement.GetProperty("optimizer");
        Assert.That(opt.GetProperty("name").GetString(), Is.EqualTo("adabound"));
        Assert.That(System.Text.Json.Nodes.JsonNode.Parse(opt.GetProperty("args").GetRawText())!.ToJsonString(),
                    Is.EqualTo("""{"lr":0.002,"final_lr":0.05,"weight_decay":0.001,"amsbound":true,"adaboundw":false}"""));
    }

    [Test]
    public void AnOptimizerFlagTheOptimizerDoesNotTakeIsOneClearLine()
    {
        var (code, _, err) = Train("ppo", "--env", "CartPole-v1", "--optimizer", "adam", "--alpha", "2");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.TrimEnd(), Is.EqualTo("tiny train: error: --alpha does not apply to adam; adam takes: --lr, --beta1, --beta2, --eps, --weight-decay, --amsgrad, --maximize"));
        (code, _, err) = Train("ppo", "--env", "CartPole-v1", "--optimizer", "adam:alpha=2");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("optimizer 'adam' has no option 'alpha'; it takes: lr, beta1"));
    }

    [Test]
    public void LookaheadFlagWrapsTheAgentsOptimizer()
    {
        var (code, stdout, err) = Train("ppo", "--env", "CartPole-v1", "--total-steps", "1024", "--lookahead", "5,0.5", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("optimizer adam:eps=1e-05,lookahead_k=5,lookahead_alpha=0.5"));
        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!;
        Assert.That(cfg["optimizer"]!["args"]!["lookahead_k"]!.GetValue<double>(), Is.EqualTo(5));
    }

    [Test]
    public void HelpListsEveryOptimizerFlagFromTheRegistry()
    {
        var (code, stdout, _) = Train("ppo", "--help");
        Assert.That(code, Is.EqualTo(0));
        foreach (var name in global::Tiny.Optim.Optimizers.Names)
        {
            var info = global::Tiny.Optim.Optimizers.Info(name);
            Assert.That(stdout, Does.Contain($"    {name,-10} {info.Description}"));
            foreach (var o in info.Options.Where(o => o.Key != "lr"))
            {
                // A key that is also a ppo option (gamma, max_grad_norm) is the agent's flag; the help shows the optimizer's as key=default.
                string pascal = string.Concat(o.Key.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
                bool shadowed = typeof(global::Tiny.Rl.PpoOptions).GetProperty(pascal) is not null;
                Assert.That(stdout, Does.Contain(shadowed ? $"({o.Key}={o.DefaultText})" : o.IsBool ? o.Flag : $"{o.Flag} {o.DefaultText}"), $"{name} {o.Flag}");
            }
        }
        Assert.That(stdout, Does.Contain("  --lr X "));
        Assert.That(stdout, Does.Contain("(gamma=0.001)").And.Contain("--optimizer NAME:gamma=X"));   // --gamma is ppo's discount
    }

    [TestCase(new[] { "a2c", "--env", "CartPole-v1" }, "a2c")]
    [TestCase(new[] { "ppo", "--env", "Nope-v9" }, "Nope-v9")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--optimizer", "nope" }, "nope")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--lr", "fast" }, "fast")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--total-steps", "-5" }, "-5")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--seed", "x1" }, "x1")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--num-envz", "2" }, "unknown option '--num-envz' for tiny train ppo; did you mean --num-envs?")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--num-envs", "many" }, "--num-envs: 'many' is not an integer")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--device", "cuda:99" }, "cuda:99")]
    [TestCase(new[] { "ppo", "--env", "CartPole-v1", "--device", "tpu" }, "tpu")]
    [TestCase(new[] { "dqn", "--env", "Pendulum-v1" }, "Pendulum-v1")]
    [TestCase(new[] { "td3", "--env", "CartPole-v1" }, "CartPole-v1")]
    [TestCase(new[] { "ppo" }, "--env")]
    public void BadTrainInputGivesExit2AndAOneLineMessage(string[] args, string named)
    {
        var (code, _, err) = Train(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.Contain(named));
    }

    [Test]
    public void BadEvalInputGivesExit2()
    {
        var (code, _, err) = Eval(_dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(_dir));
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{ not json");
        (code, _, err) = Eval(_dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("config.json"));
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"algorithm":"ppo","env_id":"CartPole-v1","options":{"envId":"CartPole-v1"}}""");
        (code, _, err) = Eval(_dir);
        Assert.That(code, Is.EqualTo(2), "missing model.safetensors");
        (code, _, err) = Eval(_dir, "--episodes", "zero");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("zero"));
    }

    [Test]
    public void HelpListsEveryPpoOptionWithItsDefault()
    {
        var (code, stdout, _) = Train("ppo", "--help");
        Assert.That(code, Is.EqualTo(0));
        foreach (var opt in new[] { "--num-envs", "--num-steps", "--clip-coef", "--ent-coef", "--max-grad-norm", "--target-kl", "--optimizer", "--total-steps", "--seed" })
            Assert.That(stdout, Does.Contain(opt));
        Assert.That(stdout, Does.Contain("0.00025"));
    }
}
