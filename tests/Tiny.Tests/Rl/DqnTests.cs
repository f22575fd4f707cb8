// Tests of DQN and the replay buffer: smoke runs with every optimizer, seeding, checkpoints, the epsilon schedule,
// buffer wraparound/sampling, SoftUpdate, the Huber TD loss (against torch), gradient clipping and gradient steps per
// round, linear lr annealing, and (Slow) solving CartPole-v1 with CleanRL's defaults.
using System.Diagnostics;
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class DqnTests
{
    /// <summary>Hand-picked settings, then every other registered optimizer with its defaults (any optimizer trains any agent).</summary>
    private static readonly string[] Optimizers = AgentOptimizers.WithEveryRegistered("adam", "alphagrad", "sgd", "adabound");

    private static DqnOptions Short(int seed = 1) => new()
    {
        Seed = seed, TotalTimesteps = 500, LearningStarts = 100, TrainFrequency = 2, TargetNetworkFrequency = 50,
        BatchSize = 32, BufferSize = 300,
    };

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "tiny-dqn-" + Guid.NewGuid().ToString("N"));

    [TestCaseSource(nameof(Optimizers))]
    public void Smoke_TrainsWithoutNaN(string optimizer)
    {
        var agent = new Dqn("CartPole-v1", Short(), OptimizerSpec.Parse(optimizer));
        var before = Flat(agent.QNetwork);
        var losses = new List<double>();
        int episodes = 0;
        agent.Train(p =>
        {
            if (p.EpisodicReturn is not null) episodes++;
            if (p.Metrics.TryGetValue("td_loss", out var l)) losses.Add(l);
            Assert.That(p.Metrics.ContainsKey("epsilon"));
        });
        var after = Flat(agent.QNetwork);
        Assert.That(after.All(float.IsFinite), "parameters stay finite");
        Assert.That(after, Is.Not.EqualTo(before), "training changed the parameters");
        Assert.That(episodes, Is.GreaterThan(0));
        Assert.That(losses, Is.Not.Empty);
        Assert.That(losses.All(double.IsFinite));
    }

    [Test]
    public void SameSeed_IdenticalParameters_DifferentSeed_Different()
    {
        var a = new Dqn("CartPole-v1", Short(7));
        var b = new Dqn("CartPole-v1", Short(7));
        var c = new Dqn("CartPole-v1", Short(8));
        a.Train(); b.Train(); c.Train();
        Assert.That(Flat(a.QNetwork), Is.EqualTo(Flat(b.QNetwork)));
        Assert.That(Flat(a.QNetwork), Is.Not.EqualTo(Flat(c.QNetwork)));
    }

    [Test]
    public void SaveLoad_RoundTrip_SameActions()
    {
        var agent = new Dqn("CartPole-v1", Short(3), OptimizerSpec.Parse("alphagrad:alpha=2"));
        agent.Train();
        string dir = TempDir();
        try
        {
            agent.Save(dir);
            Assert.That(File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "config.json")));
            var names = Safetensors.Read(Path.Combine(dir, "model.safetensors")).Tensors.Select(t => t.Name).ToList();
            Assert.That(names, Does.Contain("q.0.weight").And.Contain("target.4.bias"));
            var loaded = Dqn.Load(dir);
            Assert.That(loaded.Options with { HiddenSizes = agent.Options.HiddenSizes }, Is.EqualTo(agent.Options));
            Assert.That(loaded.Options.HiddenSizes, Is.EqualTo(agent.Options.HiddenSizes));
            Assert.That(loaded.Optimizer, Is.EqualTo(agent.Optimizer));
            Assert.That(loaded.EnvId, Is.EqualTo("CartPole-v1"));
            Assert.That(Flat(loaded.QNetwork), Is.EqualTo(Flat(agent.QNetwork)));
            var rng = new Rng(5);
            for (int i = 0; i < 50; i++)
            {
                var obs = Enumerable.Range(0, 4).Select(_ => (float)rng.Uniform(-2, 2)).ToArray();
                Assert.That(loaded.Act(obs), Is.EqualTo(agent.Act(obs)));
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void Load_MissingOrCorrupt_ThrowsClearly()
    {
        string dir = TempDir();
        Assert.Throws<DirectoryNotFoundException>(() => Dqn.Load(dir));
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Throws<FileNotFoundException>(() => Dqn.Load(dir));
            new Dqn("CartPole-v1", Short()).Save(dir);
            File.WriteAllText(Path.Combine(dir, "model.safetensors"), "garbage");
            Assert.Throws<InvalidDataException>(() => Dqn.Load(dir));
            File.WriteAllText(Path.Combine(dir, "config.json"), "{ not json");
            Assert.Throws<InvalidDataException>(() => Dqn.Load(dir));
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"algorithm\": \"td3\"}");
            var e = Assert.Throws<InvalidDataException>(() => Dqn.Load(dir));
            Assert.That(e!.Message, Does.Contain("td3"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void EpsilonSchedule_IsCleanRLs()
    {
        Assert.That(Dqn.LinearSchedule(1, 0.05, 250_000, 0), Is.EqualTo(1.0));
        Assert.That(Dqn.LinearSchedule(1, 0.05, 250_000, 125_000), Is.EqualTo(0.525).Within(1e-12));
        Assert.That(Dqn.LinearSchedule(1, 0.05, 250_000, 250_000), Is.EqualTo(0.05).Within(1e-12));
        Assert.That(Dqn.LinearSchedule(1, 0.05, 250_000, 400_000), Is.EqualTo(0.05));
    }

    [Test]
    public void Constructor_RejectsContinuousEnv() =>
        Assert.Throws<ArgumentException>(() => new Dqn("Pendulum-v1", new DqnOptions()));

    [Test]
    public void ReplayBuffer_WrapsAroundAndKeepsNewest()
    {
        var rb = new ReplayBuffer(capacity: 5, obsDim: 2, actionDim: 1, batchSize: 64);
        for (int i = 0; i < 8; i++)
            rb.Add([i, -i], [i % 2], i * 10, [i + 1, -(i + 1)], terminated: i == 6);
        Assert.That(rb.Count, Is.EqualTo(5));
        var seen = new HashSet<int>();
        var rng = new Rng(1);
        for (int k = 0; k < 20; k++)
        {
            rb.Sample(64, rng);
            for (int b = 0; b < 64; b++)
            {
                int i = (int)rb.BatchObs[b * 2];
                seen.Add(i);
                Assert.That(rb.BatchObs[b * 2 + 1], Is.EqualTo(-i));
                Assert.That(rb.BatchNextObs[b * 2], Is.EqualTo(i + 1));
                Assert.That(rb.BatchActions[b], Is.EqualTo(i % 2));
                Assert.That(rb.BatchRewards[b], Is.EqualTo(i * 10));
                Assert.That(rb.BatchTerminated[b], Is.EqualTo(i == 6 ? 1f : 0f));
            }
        }
        Assert.That(seen, Is.EquivalentTo(new[] { 3, 4, 5, 6, 7 }), "the 3 oldest were overwritten; all 5 newest are sampled");
    }

    [Test]
    public void ReplayBuffer_SampleIsSeededAndAllocationFree()
    {
        var a = new ReplayBuffer(100, 3, 2, 16);
        var b = new ReplayBuffer(100, 3, 2, 16);
        for (int i = 0; i < 50; i++) { a.Add([i, i, i], [i, 0], i, [i, i, i], false); b.Add([i, i, i], [i, 0], i, [i, i, i], false); }
        var (ra, rbg) = (new Rng(9), new Rng(9));
        a.Sample(ra); b.Sample(rbg);
        Assert.That(a.BatchObs, Is.EqualTo(b.BatchObs));
        a.Sample(ra);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) a.Sample(ra);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
        Assert.Throws<ArgumentException>(() => a.Sample(8, ra));
        Assert.Throws<InvalidOperationException>(() => new ReplayBuffer(4, 1, 1, 2).Sample(ra));
    }

    [Test]
    public void SoftUpdate_PolyakAndHardCopy_AllocationFree()
    {
        var rng = new Rng(2);
        var src = Mlp.Create([3, 4, 2], () => new ReLU(), rng);
        var dst = Mlp.Create([3, 4, 2], () => new ReLU(), rng);
        var s = src.Parameters().ToList();
        var d = dst.Parameters().ToList();
        var s0 = Flat(src); var d0 = Flat(dst);
        OffPolicy.SoftUpdate(d, s, 0.25);
        var d1 = Flat(dst);
        for (int i = 0; i < d1.Length; i++) Assert.That(d1[i], Is.EqualTo(0.25f * s0[i] + 0.75f * d0[i]).Within(1e-6));
        OffPolicy.SoftUpdate(d, s, 0.25);
        long before = GC.GetAllocatedBytesForCurrentThread();
        OffPolicy.SoftUpdate(d, s, 0.005);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
        OffPolicy.SoftUpdate(dst, src, 1.0);
        Assert.That(Flat(dst), Is.EqualTo(s0));
    }

    // torch 1.13, float64 (/usr/bin/python3):
    //   q = torch.tensor([-3.5, -1.0, -0.25, 0.0, 0.4, 0.999, 1.0, 2.75], dtype=torch.float64, requires_grad=True)
    //   y = torch.tensor([0.0, 0.0, 0.5, -0.1, 0.4, 0.0, -1.5, 1.0], dtype=torch.float64)
    //   loss = torch.nn.functional.smooth_l1_loss(q, y); loss.backward()   # SB3 DQN's TD loss
    [Test]
    public void TdLoss_Huber_IsTorchsSmoothL1_ValueAndGradient()
    {
        var q = Tensor.FromArray(new[] { -3.5, -1.0, -0.25, 0.0, 0.4, 0.999, 1.0, 2.75 }, 8);
        q.RequiresGrad = true;
        var y = Tensor.FromArray(new[] { 0.0, 0.0, 0.5, -0.1, 0.4, 0.0, -1.5, 1.0 }, 8);
        var loss = Dqn.TdLoss("huber", q, y);
        loss.Backward();
        Assert.That(loss.Item(), Is.EqualTo(0.9419063125).Within(1e-15));
        double[] grad = [-0.125, -0.125, -0.09375, 0.0125, 0.0, 0.124875, 0.125, 0.125];
        var got = q.Grad!.ToDoubleArray();
        for (int i = 0; i < 8; i++) Assert.That(got[i], Is.EqualTo(grad[i]).Within(1e-15), $"dloss/dq[{i}]");
        // mse is CleanRL's mean((q - y)^2): 2 (q - y) / N per element.
        var q2 = Tensor.FromArray(new[] { -3.5, 0.4 }, 2);
        q2.RequiresGrad = true;
        var mse = Dqn.TdLoss("mse", q2, Tensor.FromArray(new[] { 0.0, 0.1 }, 2));
        mse.Backward();
        Assert.That(mse.Item(), Is.EqualTo((3.5 * 3.5 + 0.3 * 0.3) / 2).Within(1e-14));
        Assert.That(q2.Grad!.ToDoubleArray(), Is.EqualTo(new[] { -3.5, 0.3 }).Within(1e-14));
        Assert.Throws<ArgumentException>(() => Dqn.TdLoss("l1", q2, q2));
    }

    [Test]
    public void GradientSteps_RunThatManyUpdatesEveryTrainFrequencySteps()
    {
        // Rounds at the 0-based steps g with g > learningStarts and g % trainFrequency == 0: g = 112, 128, ..., 496.
        var o = Short() with { TrainFrequency = 16, GradientSteps = 3 };
        var agent = new Dqn("CartPole-v1", o);
        agent.Train();
        long rounds = Enumerable.Range(0, (int)o.TotalTimesteps).Count(g => g > o.LearningStarts && g % o.TrainFrequency == 0);
        var adam = agent.Optimizers[0].Value;
        foreach (var p in agent.QNetwork.Parameters()) Assert.That(adam.StateOf(p)!.Step, Is.EqualTo(3 * rounds));
        Assert.That(rounds, Is.EqualTo(25));
    }

    [Test]
    public void MaxGradNorm_BoundsEachUpdate()
    {
        // Plain SGD moves the parameters by lr * g; clipped, ||g|| <= maxGradNorm, so after U updates the Q-network is
        // at most U * lr * maxGradNorm away from where it started (triangle inequality). Unclipped it goes much further.
        static double Moved(double? maxGradNorm, out long updates)
        {
            var agent = new Dqn("CartPole-v1", Short(4) with { Loss = "huber", MaxGradNorm = maxGradNorm }, OptimizerSpec.Parse("sgd:lr=0.1"));
            var before = Flat(agent.QNetwork);
            agent.Train();
            var after = Flat(agent.QNetwork);
            updates = Enumerable.Range(0, 500).Count(g => g > 100 && g % 2 == 0);
            return Math.Sqrt(before.Zip(after, (a, b) => ((double)a - b) * ((double)a - b)).Sum());
        }
        double clipped = Moved(1e-3, out long u);
        Assert.That(clipped, Is.GreaterThan(0).And.LessThanOrEqualTo(u * 0.1 * 1e-3 * (1 + 1e-5)));
        Assert.That(Moved(null, out _), Is.GreaterThan(10 * u * 0.1 * 1e-3), "the unclipped run moves further");
    }

    [Test]
    public void AnnealLr_IsStableBaselines3sLinearSchedule()
    {
        // SB3: each train() call steps at lr0 * progress_remaining, progress_remaining = 1 - num_timesteps / total, with
        // num_timesteps the env steps taken (the reports' GlobalStep); without annealing the rate stays lr0.
        var lrs = new List<(long Step, double Lr)>();
        new Dqn("CartPole-v1", Short() with { AnnealLr = true }, OptimizerSpec.Parse("adam:lr=0.002"))
            .Train(p => { if (p.Metrics.ContainsKey("td_loss") && p.EpisodicReturn is null) lrs.Add((p.GlobalStep, p.LearningRate)); });
        Assert.That(lrs, Has.Count.EqualTo(3), "reports at steps 201, 301, 401 (a round whose 0-based step % 100 == 0)");
        foreach (var (step, lr) in lrs) Assert.That(lr, Is.EqualTo(0.002 * (1 - step / 500.0)).Within(1e-15), $"step {step}");
        var constant = new List<double>();
        new Dqn("CartPole-v1", Short(), OptimizerSpec.Parse("adam:lr=0.002")).Train(p => constant.Add(p.LearningRate));
        Assert.That(constant, Has.All.EqualTo(0.002));
    }

    [Test]
    public void NewOptions_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", Short() with { Loss = "l1" }));
        Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", Short() with { MaxGradNorm = 0 }));
        Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", Short() with { MaxGradNorm = double.NaN }));
        Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", Short() with { GradientSteps = 0 }));
    }

    // CleanRL dqn.py defaults (500k steps). ~10 s per seed on one free core.
    [Test, Category("Slow")]
    public void Slow_SolvesCartPole_CleanRLDefaults()
    {
        int solved = 0;
        var report = new List<string>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var sw = Stopwatch.StartNew();
            var agent = new Dqn("CartPole-v1", new DqnOptions { Seed = seed });
            agent.Train();
            double train = sw.Elapsed.TotalSeconds;
            double mean = OffPolicy.Evaluate(agent, "CartPole-v1", 100, 10_000 + seed).Average();
            report.Add($"seed {seed}: eval mean {mean:F1} over 100 episodes, train {train:F1} s ({agent.Options.TotalTimesteps / train:F0} steps/s)");
            if (mean >= 475) solved++;
        }
        TestContext.Out.WriteLine(string.Join("\n", report));
        Assert.That(solved, Is.GreaterThanOrEqualTo(2), string.Join("; ", report));
    }
}
