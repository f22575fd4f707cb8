// Tests of CNN policies: DQN's conv Q-network on MinAtar (auto and --net selection, seeding, checkpoints), the MinAtar
// defaults, and `tiny train dqn --env MinAtar/Breakout-v1` / `tiny eval --render` end to end.
using NUnit.Framework;
using System.Text.Json.Nodes;
using Tiny.Cli;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class CnnTests
{
    private const string Breakout = "MinAtar/Breakout-v1";

    private static DqnOptions Short(int seed = 1) => new()
    {
        Seed = seed, TotalTimesteps = 300, LearningStarts = 100, TrainFrequency = 1, TargetNetworkFrequency = 50,
        BatchSize = 16, BufferSize = 300, HiddenSizes = [128],
    };

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "tiny-cnn-" + Guid.NewGuid().ToString("N"));

    [Test]
    public void ImageObservations_PickTheCnn_MinAtarShapes()
    {
        var agent = new Dqn(Breakout, Short());
        Assert.That(agent.Options.Net, Is.EqualTo("cnn"), "auto resolves to cnn for a [4, 10, 10] Box");
        var net = (Sequential)agent.QNetwork;
        var conv = net.Children().OfType<Conv2d>().Single();
        Assert.That((conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride), Is.EqualTo((4, 16, 3, 1)));
        var linears = net.Children().OfType<Linear>().Select(l => l.Weight.Shape.ToArray()).ToList();
        Assert.That(linears, Is.EqualTo(new[] { new[] { 128, 16 * 8 * 8 }, new[] { 3, 128 } }));
        using var _ = Tensor.NoGrad();
        Assert.That(net.Forward(Tensor.Zeros(5, 400)).Shape.ToArray(), Is.EqualTo(new[] { 5, 3 }));

        Assert.That(new Dqn(Breakout, Short() with { Net = "mlp" }).QNetwork.Children().OfType<Conv2d>(), Is.Empty, "--net mlp flattens");
        Assert.That(new Dqn("CartPole-v1", Short()).Options.Net, Is.EqualTo("mlp"), "auto on a vector env");
    }

    [Test]
    public void CnnOnAVectorEnv_ClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Agents.Create("dqn", "CartPole-v1", new JsonObject { ["net"] = "cnn" }, null, 1, 100));
        Assert.That(e!.Message, Does.Contain("cnn").And.Contain("[C, H, W]").And.Contain("CartPole-v1"));
        var bad = Assert.Throws<ArgumentException>(() => new Dqn(Breakout, Short() with { Net = "resnet" }));
        Assert.That(bad!.Message, Does.Contain("resnet").And.Contain("mlp"));
        Assert.That(((Dqn)Agents.Create("dqn", Breakout, new JsonObject { ["net"] = "mlp", ["learningStarts"] = 0 }, null, 1, 100)).Options.Net, Is.EqualTo("mlp"));
    }

    [Test]
    public void MinAtarDefaults_ArePapers()
    {
        var o = ((Dqn)Agents.Create("dqn", Breakout, null, null, 1, null)).Options;
        Assert.That((o.BufferSize, o.BatchSize, o.TargetNetworkFrequency, o.LearningStarts, o.TrainFrequency), Is.EqualTo((100_000, 32, 1000, 5000, 1)));
        Assert.That((o.EndE, o.ExplorationSteps, o.Net, o.TotalTimesteps), Is.EqualTo((0.1, (long?)100_000, "cnn", 5_000_000L)));
        Assert.That(o.HiddenSizes, Is.EqualTo(new[] { 128 }));
    }

    [Test]
    public void CnnDqn_Smoke_NoNaN_SameSeedSameParams()
    {
        var a = new Dqn(Breakout, Short(4));
        var b = new Dqn(Breakout, Short(4));
        var before = Flat(a.QNetwork);
        var losses = new List<double>();
        a.Train(p => { if (p.Metrics.TryGetValue("td_loss", out var l)) losses.Add(l); });
        b.Train();
        var after = Flat(a.QNetwork);
        Assert.That(after.All(float.IsFinite));
        Assert.That(after, Is.Not.EqualTo(before), "training changed the parameters");
        Assert.That(losses, Is.Not.Empty.And.All.Matches<double>(double.IsFinite));
        Assert.That(Flat(b.QNetwork), Is.EqualTo(after), "same seed -> same parameters");
    }

    [Test]
    public void CnnDqn_SaveLoad_SameActions()
    {
        var agent = new Dqn(Breakout, Short(3));
        agent.Train();
        string dir = TempDir();
        try
        {
            agent.Save(dir);
            Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["options"]!["net"]!.GetValue<string>(), Is.EqualTo("cnn"));
            var loaded = (Dqn)Agents.Load(dir);
            Assert.That(loaded.Options.Net, Is.EqualTo("cnn"));
            Assert.That(Flat(loaded.QNetwork), Is.EqualTo(Flat(agent.QNetwork)));
            var rng = new Rng(5);
            int distinct = 0;
            var seen = new HashSet<float>();
            for (int i = 0; i < 50; i++)
            {
                var obs = Enumerable.Range(0, 400).Select(_ => rng.NextDouble() < 0.1 ? 1f : 0f).ToArray();
                var act = agent.Act(obs);
                Assert.That(loaded.Act(obs), Is.EqualTo(act));
                if (seen.Add(act[0])) distinct++;
            }
            Assert.That(distinct, Is.GreaterThanOrEqualTo(1));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Test]
    public void Cli_TrainDqnOnMinAtar_FourFiles_EvalRenders()
    {
        string dir = TempDir();
        try
        {
            var o = new StringWriter(); var e = new StringWriter();
            int code = TrainCommand.Run(["dqn", "--env", Breakout, "--total-steps", "2000", "--learning-starts", "500",
                "--buffer-size", "2000", "--out", dir], o, e);
            Assert.That(code, Is.EqualTo(0), e.ToString());
            foreach (var f in new[] { "metrics.csv", "model.safetensors", "config.json", "curve.png" })
                Assert.That(File.Exists(Path.Combine(dir, f)), f);
            Assert.That(File.ReadLines(Path.Combine(dir, "metrics.csv")).First(), Does.Contain("td_loss").And.Contain("epsilon"));
            Assert.That(o.ToString(), Does.Contain("steps/s"));

            string png = Path.Combine(dir, "episode.png");
            o = new StringWriter(); e = new StringWriter();
            code = EvalCommand.Run([dir, "--episodes", "2", "--render", png], o, e);
            Assert.That(code, Is.EqualTo(0), e.ToString());
            Assert.That(File.ReadAllBytes(png).AsSpan(1, 3).ToArray(), Is.EqualTo("PNG"u8.ToArray()));
            Assert.That(o.ToString(), Does.Contain("rendered the first episode"));

            // --net cnn on a vector env is a clean CLI error.
            e = new StringWriter();
            code = TrainCommand.Run(["dqn", "--env", "CartPole-v1", "--net", "cnn", "--total-steps", "10", "--out", dir + "-x"], new StringWriter(), e);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(e.ToString(), Does.Contain("net 'cnn' needs a 3-D"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Test]
    public void Eval_RenderOnANonMinAtarAgent_Error()
    {
        string dir = TempDir();
        try
        {
            var agent = new Dqn("CartPole-v1", new DqnOptions { TotalTimesteps = 1, LearningStarts = 0 });
            agent.Save(dir);
            var e = new StringWriter();
            int code = EvalCommand.Run([dir, "--episodes", "1", "--render", Path.Combine(dir, "x.png")], new StringWriter(), e);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(e.ToString(), Does.Contain("MinAtar"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

public sealed class PpoCnnTests
{
    private static PpoOptions Short(int seed = 1) => new()
    {
        Seed = seed, TotalTimesteps = 128, NumEnvs = 2, NumSteps = 32, NumMinibatches = 2,
        UpdateEpochs = 2, HiddenSize = 32,
    };

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    [Test]
    public void PpoCnn_Trains_SameSeedSame_SaveLoadSameActions()
    {
        var a = new Ppo("MinAtar/Breakout-v1", Short(2));
        Assert.That(a.Options.Net, Is.EqualTo("cnn"));
        Assert.That(a.Network.Actor.Children().OfType<Conv2d>().Count() + a.Network.Critic.Children().OfType<Conv2d>().Count(), Is.EqualTo(2), "a conv torso each");
        var before = Flat(a.Network);
        a.Train();
        var b = new Ppo("MinAtar/Breakout-v1", Short(2));
        b.Train();
        var after = Flat(a.Network);
        Assert.That(after.All(float.IsFinite));
        Assert.That(after, Is.Not.EqualTo(before));
        Assert.That(Flat(b.Network), Is.EqualTo(after));
        Assert.That(new Ppo("CartPole-v1", Short() with { NumEnvs = 1 }).Options.Net, Is.EqualTo("mlp"));
        Assert.Throws<ArgumentException>(() => new Ppo("CartPole-v1", Short() with { Net = "cnn" }));

        string dir = Path.Combine(Path.GetTempPath(), "tiny-ppocnn-" + Guid.NewGuid().ToString("N"));
        try
        {
            a.Save(dir);
            var loaded = (Ppo)Agents.Load(dir);
            Assert.That(loaded.Options.Net, Is.EqualTo("cnn"));
            var rng = new Rng(9);
            for (int i = 0; i < 20; i++)
            {
                var obs = Enumerable.Range(0, 400).Select(_ => rng.NextDouble() < 0.1 ? 1f : 0f).ToArray();
                Assert.That(loaded.Act(obs), Is.EqualTo(a.Act(obs)));
            }
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
