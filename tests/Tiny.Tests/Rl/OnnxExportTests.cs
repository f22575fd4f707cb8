// OnnxExportTests: an exported policy, run by ONNX Runtime (the reference), computes what Tiny computes: PPO's logits
// and mean action (observation normalisation folded in), DQN's Q-values (MLP and MinAtar CNN), TD3's action; and
// `tiny export` writes it, or refuses bad input with one line and exit 2.
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using NUnit.Framework;
using Tiny.Cli;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-5;
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "tiny-onnx-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>agent saved, loaded back as `tiny export` loads it, and exported; returns the loaded agent and the file.</summary>
    private (IAgent Agent, string Path) SaveLoadExport(IAgent agent)
    {
        string run = Path.Combine(_dir, "run");
        agent.Save(run);
        var loaded = Agents.Load(run);
        string path = Path.Combine(_dir, "policy.onnx");
        OnnxExport.Export(loaded, path);
        return (loaded, path);
    }

    /// <summary>ONNX Runtime's output for a batch of observations (rows of obsDim floats) fed in shape [n, ...obsShape].</summary>
    internal static float[] RunOnnx(string path, float[] obs, int n, int[] obsShape, string output)
    {
        using var session = new InferenceSession(path);
        Assert.That(session.InputMetadata.Keys, Is.EqualTo(new[] { "obs" }));
        Assert.That(session.InputMetadata["obs"].Dimensions, Is.EqualTo(new[] { -1 }.Concat(obsShape).ToArray()), "a dynamic batch, then the observation's shape");
        Assert.That(session.InputMetadata["obs"].SymbolicDimensions[0], Is.EqualTo("batch"));
        Assert.That(session.OutputMetadata.Keys, Is.EqualTo(new[] { output }));
        Assert.That(session.OutputMetadata[output].Dimensions[0], Is.EqualTo(-1));
        Assert.That(session.ModelMetadata.ProducerName, Is.EqualTo("Tiny"));
        long[] shape = [n, .. obsShape.Select(d => (long)d)];
        using var input = OrtValue.CreateTensorValueFromMemory(obs, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["obs"], [input], [output]);
        var outShape = results[0].GetTensorTypeAndShape().Shape;
        Assert.That(outShape[0], Is.EqualTo(n));
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>n random observations of dim floats: normal with the given scale, plus some far outside it.</summary>
    internal static float[] RandomObs(int n, int dim, double scale, int seed, bool binary = false)
    {
        var rng = new Random(seed);
        var obs = new float[n * dim];
        for (int i = 0; i < obs.Length; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            obs[i] = binary ? (rng.NextDouble() < 0.2 ? 1f : 0f) : (float)(z * scale * (i / dim % 8 == 7 ? 30 : 1));   // every 8th row far out
        }
        return obs;
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    private static float[] Forward(Tiny.Nn.Module net, float[] obs, int n, int dim)
    {
        using var _ = Tensor.NoGrad();
        return net.Forward(Tensor.FromArray(obs, [n, dim])).ToArray();
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }

    /// <summary>The network's outputs (Tiny, one batch) equal ONNX Runtime's within 1e-5, and Act's greedy action is
    /// the argmax of ONNX Runtime's row wherever the best two are not a near tie.</summary>
    internal static void CheckDiscrete(IAgent agent, Tiny.Nn.Module net, string path, string output, int[] obsShape, int actions, float[] obs, int n)
    {
        int dim = obsShape.Aggregate(1, (a, b) => a * b);
        var onnx = RunOnnx(path, obs, n, obsShape, output);
        var tiny = Forward(net, obs, n, dim);
        double diff = MaxAbsDiff(onnx, tiny);
        TestContext.Out.WriteLine($"{agent.Algorithm} {agent.EnvId} {output}: max |onnx - tiny| = {diff:E2} over {n}x{actions}");
        Assert.That(diff, Is.LessThanOrEqualTo(Tolerance));
        for (int r = 0; r < n; r++)
        {
            var row = onnx.AsSpan(r * actions, actions);
            var sorted = row.ToArray().OrderDescending().ToArray();
            if (sorted[0] - sorted[1] < 1e-4) continue;
            Assert.That((int)agent.Act(obs.AsSpan(r * dim, dim))[0], Is.EqualTo(ArgMax(row)), $"row {r}");
        }
    }

    /// <summary>agent.Act (the deterministic action) of each row equals ONNX Runtime's output row within 1e-5.</summary>
    private static void CheckContinuous(IAgent agent, string path, int[] obsShape, int actDim, float[] obs, int n)
    {
        int dim = obsShape.Aggregate(1, (a, b) => a * b);
        var onnx = RunOnnx(path, obs, n, obsShape, "action");
        var tiny = new float[n * actDim];
        for (int r = 0; r < n; r++) agent.Act(obs.AsSpan(r * dim, dim)).CopyTo(tiny, r * actDim);
        double diff = MaxAbsDiff(onnx, tiny);
        TestContext.Out.WriteLine($"{agent.Algorithm} {agent.EnvId} action: max |onnx - Act| = {diff:E2} over {n}x{actDim}");
        Assert.That(diff, Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void PpoCartPoleLogits()
    {
        var agent = Agents.Create("ppo", "CartPole-v1", new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["numMinibatches"] = 2 }, null, 1, 512);
        agent.Train();
        var (loaded, path) = SaveLoadExport(agent);
        var ppo = (Ppo)loaded;
        Assert.That(OnnxExport.OutputName(ppo), Is.EqualTo("logits"));
        foreach (int n in new[] { 1, 64 })
            CheckDiscrete(ppo, ppo.Network.Actor, path, "logits", [4], 2, RandomObs(n, 4, 1.0, n), n);
    }

    /// <summary>PPO on Pendulum with normalizeObs: the model normalises with the run's statistics and clips at +-10
    /// (rows far outside the statistics hit the clip), as Act.</summary>
    [Test]
    public void PpoPendulumMeanActionWithObservationNormalisation()
    {
        var overrides = new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 128, ["numMinibatches"] = 4, ["updateEpochs"] = 2, ["normalizeObs"] = true };
        var agent = Agents.Create("ppo", "Pendulum-v1", overrides, null, 1, 1024);
        agent.Train();
        var (loaded, path) = SaveLoadExport(agent);
        var ppo = (Ppo)loaded;
        var rms = ppo.ObservationStats;
        Assert.That(rms, Is.Not.Null, "the run's statistics were saved");
        Assert.That(rms!.Var.Any(v => Math.Abs(v - 1) > 1e-3), "statistics that differ from (0, 1)");
        var obs = RandomObs(64, 3, 2.0, 7);
        // The clip is reached: some row normalises beyond +-NormClip.
        bool clipped = Enumerable.Range(0, obs.Length).Any(i => Math.Abs((obs[i] - rms.Mean[i % 3]) / Math.Sqrt(rms.Var[i % 3] + 1e-8)) > ppo.Options.NormClip);
        Assert.That(clipped, "some observation is clipped");
        CheckContinuous(ppo, path, [3], 1, obs, 64);
    }

    [Test]
    public void DqnCartPoleQValues()
    {
        var overrides = new JsonObject { ["learningStarts"] = 200, ["bufferSize"] = 1000, ["batchSize"] = 32, ["trainFrequency"] = 4, ["hiddenSizes"] = new JsonArray(32, 32) };
        var agent = Agents.Create("dqn", "CartPole-v1", overrides, null, 1, 600);
        agent.Train();
        var (loaded, path) = SaveLoadExport(agent);
        var dqn = (Dqn)loaded;
        Assert.That(OnnxExport.OutputName(dqn), Is.EqualTo("q_values"));
        CheckDiscrete(dqn, dqn.QNetwork, path, "q_values", [4], 2, RandomObs(64, 4, 1.0, 3), 64);
    }

    /// <summary>The MinAtar CNN: the model takes observations [batch, 4, 10, 10] and runs Conv(3x3) -> Relu -> Flatten ->
    /// Gemm -> Relu -> Gemm.</summary>
    [Test]
    public void DqnMinAtarBreakoutCnnQValues()
    {
        var overrides = new JsonObject { ["learningStarts"] = 0, ["bufferSize"] = 500, ["batchSize"] = 16, ["trainFrequency"] = 4, ["hiddenSizes"] = new JsonArray(32) };
        var agent = Agents.Create("dqn", "MinAtar/Breakout-v1", overrides, null, 1, 200);
        agent.Train();
        var (loaded, path) = SaveLoadExport(agent);
        var dqn = (Dqn)loaded;
        Assert.That(dqn.Options.Net, Is.EqualTo("cnn"));
        int[] shape = [4, 10, 10];
        using var env = Env.Make("MinAtar/Breakout-v1");
        int actions = ((Discrete)env.ActionSpace).N;
        CheckDiscrete(dqn, dqn.QNetwork, path, "q_values", shape, actions, RandomObs(32, 400, 1.0, 5, binary: true), 32);
        CheckDiscrete(dqn, dqn.QNetwork, path, "q_values", shape, actions, RandomObs(8, 400, 1.0, 6), 8);
    }

    /// <summary>PPO's CNN actor (MinAtar) exports too: logits.</summary>
    [Test]
    public void PpoMinAtarBreakoutCnnLogits()
    {
        var agent = Agents.Create("ppo", "MinAtar/Breakout-v1", new JsonObject { ["numEnvs"] = 1, ["numSteps"] = 32, ["numMinibatches"] = 1, ["hiddenSize"] = 16 }, null, 1, 32);
        var (loaded, path) = SaveLoadExport(agent);
        var ppo = (Ppo)loaded;
        using var env = Env.Make("MinAtar/Breakout-v1");
        CheckDiscrete(ppo, ppo.Network.Actor, path, "logits", [4, 10, 10], ((Discrete)env.ActionSpace).N, RandomObs(16, 400, 1.0, 8, binary: true), 16);
    }

    [Test]
    public void Td3PendulumAction()
    {
        var overrides = new JsonObject
        {
            ["learningStarts"] = 100, ["bufferSize"] = 1000, ["batchSize"] = 32,
            ["actorHiddenSizes"] = new JsonArray(32, 32), ["criticHiddenSizes"] = new JsonArray(32, 32),
        };
        var agent = Agents.Create("td3", "Pendulum-v1", overrides, null, 1, 300);
        agent.Train();
        var (loaded, path) = SaveLoadExport(agent);
        Assert.That(OnnxExport.OutputName(loaded), Is.EqualTo("action"));
        // Large observations saturate the tanh: the action reaches the bounds +-2.
        var obs = RandomObs(64, 3, 3.0, 11);
        CheckContinuous(loaded, path, [3], 1, obs, 64);
    }

    private static (int Code, string Out, string Err) Tiny(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Test]
    public void TinyExportWritesTheModel()
    {
        string run = Path.Combine(_dir, "run");
        Agents.Create("dqn", "CartPole-v1", new JsonObject { ["hiddenSizes"] = new JsonArray(8) }, null, 1, 20_000).Save(run);
        string path = Path.Combine(_dir, "out", "sub", "policy.onnx");
        var (code, stdout, err) = Tiny("export", run, "--onnx", path);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout.Trim(), Is.EqualTo($"dqn on CartPole-v1: obs [batch, 4] -> q_values [batch, 2] (ONNX opset 13) -> {path}"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }), "no temporary file left");
        using var session = new InferenceSession(path);
        Assert.That(session.OutputMetadata.Keys, Is.EqualTo(new[] { "q_values" }));
        // Again over the file: replaced whole.
        (code, _, err) = Tiny("export", run, "--onnx", path);
        Assert.That(code, Is.EqualTo(0), err);
    }

    [Test]
    public void TinyExportRefusesADivergedRun()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"),
            """{"algorithm": "ppo", "env_id": "CartPole-v1", "options": {"envId": "CartPole-v1"}, "diverged": {"step": 1234, "what": "loss"}}""");
        string path = Path.Combine(_dir, "policy.onnx");
        var (code, _, err) = Tiny("export", run, "--onnx", path);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.StartWith("tiny export: error: ").And.Contain("diverged at step 1234").And.Not.Contain("\n"));
        Assert.That(File.Exists(path), Is.False);
    }

    [TestCase("/proc/tiny-cannot/policy.onnx")]
    [TestCase("FOLDER")]
    public void TinyExportToAPathItCannotWriteIsOneLine(string target)
    {
        string run = Path.Combine(_dir, "run");
        Agents.Create("ppo", "CartPole-v1", null, null, 1, 512).Save(run);
        if (target == "FOLDER") { target = Path.Combine(_dir, "folder"); Directory.CreateDirectory(target); }
        var (code, _, err) = Tiny("export", run, "--onnx", target);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.StartWith($"tiny export: error: --onnx {target}: ").And.Not.Contain("\n"));
    }
}
