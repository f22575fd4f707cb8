// Tests of TD3: smoke runs with every optimizer, seeding, checkpoints, bounds, the Ornstein-Uhlenbeck exploration noise
// (Stable-Baselines3's sequence, its variance and correlation), and (Slow) solving Pendulum-v1.
using System.Diagnostics;
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class Td3Tests
{
    /// <summary>Hand-picked settings, then every other registered optimizer with its defaults (any optimizer trains any agent).</summary>
    private static readonly string[] Optimizers = AgentOptimizers.WithEveryRegistered("adam", "alphagrad", "sgd", "adabound");

    private static Td3Options Short(int seed = 1) => new()
    {
        Seed = seed, TotalTimesteps = 500, LearningStarts = 100, BatchSize = 32, BufferSize = 1000,
        ActorHiddenSizes = [32, 32], CriticHiddenSizes = [32, 32],
    };

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "tiny-td3-" + Guid.NewGuid().ToString("N"));

    [TestCaseSource(nameof(Optimizers))]
    public void Smoke_TrainsWithoutNaN(string optimizer)
    {
        var agent = new Td3("Pendulum-v1", Short(), OptimizerSpec.Parse(optimizer));
        var before = Flat(agent.Actor);
        var metrics = new List<IReadOnlyDictionary<string, double>>();
        int episodes = 0;
        agent.Train(p => { if (p.EpisodicReturn is not null) episodes++; else metrics.Add(p.Metrics); });
        var after = Flat(agent.Actor);
        Assert.That(after.All(float.IsFinite));
        Assert.That(after, Is.Not.EqualTo(before));
        Assert.That(episodes, Is.EqualTo(2), "500 steps = two 200-step episodes (truncated)");
        Assert.That(metrics, Is.Not.Empty);
        Assert.That(metrics.All(m => double.IsFinite(m["qf_loss"]) && double.IsFinite(m["actor_loss"]) && double.IsFinite(m["q_values"])));
    }

    [Test]
    public void SameSeed_IdenticalParameters_DifferentSeed_Different()
    {
        var a = new Td3("Pendulum-v1", Short(4));
        var b = new Td3("Pendulum-v1", Short(4));
        var c = new Td3("Pendulum-v1", Short(5));
        a.Train(); b.Train(); c.Train();
        Assert.That(Flat(a.Actor), Is.EqualTo(Flat(b.Actor)));
        Assert.That(Flat(a.Actor), Is.Not.EqualTo(Flat(c.Actor)));
    }

    [Test]
    public void SaveLoad_RoundTrip_SameActions()
    {
        var agent = new Td3("Pendulum-v1", Short(2), OptimizerSpec.Parse("adabound:final-lr=0.05"));
        agent.Train();
        string dir = TempDir();
        try
        {
            agent.Save(dir);
            var names = Safetensors.Read(Path.Combine(dir, "model.safetensors")).Tensors.Select(t => t.Name).ToList();
            Assert.That(names, Does.Contain("actor.0.weight").And.Contain("qf1.0.weight").And.Contain("qf2.4.bias").And.Contain("qf1_target.2.weight"));
            var loaded = Td3.Load(dir);
            Assert.That(loaded.Optimizer, Is.EqualTo(agent.Optimizer));
            Assert.That(loaded.Options.CriticHiddenSizes, Is.EqualTo(new[] { 32, 32 }));
            Assert.That(loaded.Options.TotalTimesteps, Is.EqualTo(500));
            var rng = new Rng(5);
            for (int i = 0; i < 50; i++)
            {
                var obs = new[] { (float)rng.Uniform(-1, 1), (float)rng.Uniform(-1, 1), (float)rng.Uniform(-8, 8) };
                var a = agent.Act(obs);
                Assert.That(loaded.Act(obs), Is.EqualTo(a));
                Assert.That(a[0], Is.InRange(-2f, 2f));
            }
            Assert.Throws<InvalidDataException>(() => Dqn.Load(dir), "a td3 checkpoint is not a dqn one");
            File.Delete(Path.Combine(dir, "model.safetensors"));
            Assert.Throws<FileNotFoundException>(() => Td3.Load(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void Presets_MatchReferences()
    {
        var d = new Td3Options();
        Assert.That((d.LearningRate, d.BufferSize, d.Gamma, d.Tau, d.BatchSize, d.PolicyNoise, d.NoiseClip, d.ExplorationNoise, d.LearningStarts, d.PolicyFrequency, d.TotalTimesteps),
            Is.EqualTo((3e-4, 1_000_000, 0.99, 0.005, 256, 0.2, 0.5, 0.1, 25_000, 2, 1_000_000L)));
        var p = Td3Options.ForPendulum;
        Assert.That((p.TotalTimesteps, p.Gamma, p.LearningStarts, p.LearningRate), Is.EqualTo((20_000L, 0.98, 10_000, 1e-3)));
        Assert.That(p.ActorHiddenSizes, Is.EqualTo(new[] { 400, 300 }));
        Assert.Throws<ArgumentException>(() => new Td3("CartPole-v1", new Td3Options()));
    }

    // Stable-Baselines3's OrnsteinUhlenbeckActionNoise.__call__ in numpy float64 (/usr/bin/python3), sigma [0.5, 1.5],
    // theta 0.15, dt 0.01, reset() before the 6th call, with the normal draws given:
    //   n = np.random.default_rng(0).standard_normal((8, 2)); prev = np.zeros(2)
    //   for k in range(8): (prev = np.zeros(2) if k == 5); prev = prev + theta * (mu - prev) * dt + sigma * np.sqrt(dt) * n[k]
    private static readonly double[,] OuNormals =
    {
        { 0.1257302210933933, -0.1321048632913019 }, { 0.6404226504432821, 0.10490011715303971 },
        { -0.535669373161111, 0.36159505490948474 }, { 1.3040000451301372, 0.9470809631292422 },
        { -0.7037352358069926, -1.2654214710460525 }, { -0.6232744625373522, 0.0413259793472436 },
        { -2.3250307746388343, -0.21879166393254573 }, { -1.2459109472530652, -0.7322673547034516 },
    };
    private static readonly double[,] OuExpected =
    {
        { 0.006286511054669665, -0.019815729493695287 }, { 0.038298213810251766, -0.004050988326498785 },
        { 0.011457297831480837, 0.050194346392413686 }, { 0.07664011414124047, 0.1921811993422114 },
        { 0.04133839217967898, 0.0020797068862901946 }, { -0.03116372312686761, 0.006198896902086541 },
        { -0.14736851627411904, -0.026629151033148456 }, { -0.2094430108623611, -0.1364293105121165 },
    };

    [Test]
    public void OrnsteinUhlenbeck_IsStableBaselines3sSequence_BitForBit()
    {
        double[] sigma = [0.5, 1.5];
        var x = new double[2];
        for (int k = 0; k < 8; k++)
        {
            if (k == 5) Array.Clear(x);
            for (int i = 0; i < 2; i++)
            {
                x[i] = OrnsteinUhlenbeckNoise.Step(x[i], sigma[i], 0.15, 1e-2, OuNormals[k, i]);
                Assert.That(x[i], Is.EqualTo(OuExpected[k, i]), $"call {k}, dimension {i}");
            }
        }
        // Next draws its normals from the generator, dimension 0 first, and Reset returns to 0.
        var ou = new OrnsteinUhlenbeckNoise(sigma);
        var (rng, draws) = (new Rng(3), new Rng(3));
        var noise = new double[2];
        ou.Next(rng, noise);
        Assert.That(noise, Is.EqualTo(new[] { OrnsteinUhlenbeckNoise.Step(0, 0.5, 0.15, 1e-2, draws.NextNormal()), OrnsteinUhlenbeckNoise.Step(0, 1.5, 0.15, 1e-2, draws.NextNormal()) }));
        Assert.That(ou.State, Is.EqualTo(noise));
        ou.Reset();
        Assert.That(ou.State, Is.EqualTo(new double[2]));
    }

    [Test]
    public void OrnsteinUhlenbeck_VarianceAndCorrelation_AreTheAR1Process()
    {
        // x_t = a x_{t-1} + sigma sqrt(dt) n, a = 1 - theta dt, x_0 = 0: Var x_t = sigma^2 dt (1 - a^(2t)) / (1 - a^2), so
        // the stationary std is sigma / sqrt(theta (2 - theta dt)) (= 1.826 sigma for SB3's theta 0.15, dt 0.01; not
        // sigma / sqrt(2 theta dt)), and Corr(x_t, x_{t+k}) = a^k Sqrt(Var x_t / Var x_{t+k}). 8000 independent dimensions;
        // a sample variance of n = 8000 has a relative standard error sqrt(2 / n) = 1.6%, checked within 4 of those.
        const int n = 8000;
        const double sigma = 0.5, theta = 0.15, dt = 1e-2;
        double a = 1 - theta * dt;
        double Var(int t) => sigma * sigma * dt * (1 - Math.Pow(a, 2 * t)) / (1 - a * a);
        var ou = new OrnsteinUhlenbeckNoise(Enumerable.Repeat(sigma, n).ToArray(), theta, dt);
        var rng = new Rng(11);
        var noise = new double[n];
        double[] at100 = [], at4000 = [];
        double cross = 0, square = 0;
        for (int t = 1; t <= 4500; t++)
        {
            ou.Next(rng, noise);
            if (t == 100) at100 = (double[])noise.Clone();
            if (t == 4000) at4000 = (double[])noise.Clone();
            if (t == 4300) for (int i = 0; i < n; i++) { cross += at4000[i] * noise[i]; square += noise[i] * noise[i]; }
        }
        static double MeanSquare(double[] v) => v.Sum(x => x * x) / v.Length;
        double tol = 4 * Math.Sqrt(2.0 / n);
        Assert.That(MeanSquare(at100) / Var(100), Is.EqualTo(1).Within(tol), "early on, nearly a random walk: sigma^2 dt t");
        Assert.That(Var(4000) / (sigma * sigma / (theta * (2 - theta * dt))), Is.EqualTo(1).Within(1e-5), "t = 4000 is stationary");
        Assert.That(MeanSquare(at4000) / Var(4000), Is.EqualTo(1).Within(tol), "stationary variance sigma^2 / (theta (2 - theta dt))");
        // Corr over 300 steps: rho = a^300 = 0.637; the sample correlation's standard error is (1 - rho^2) / sqrt(n) = 0.0067.
        double rho = Math.Pow(a, 300), sampleCorr = cross / Math.Sqrt(MeanSquare(at4000) * n * square);
        Assert.That(sampleCorr, Is.EqualTo(rho).Within(4 * (1 - rho * rho) / Math.Sqrt(n)));
    }

    [Test]
    public void NoiseOptions_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new Td3("Pendulum-v1", Short() with { NoiseType = "ou" }));
        Assert.Throws<ArgumentException>(() => new Td3("Pendulum-v1", Short() with { OuTheta = 0 }));
        Assert.Throws<ArgumentException>(() => new Td3("Pendulum-v1", Short() with { OuDt = -1 }));
        Assert.Throws<ArgumentException>(() => new Td3("Pendulum-v1", Short() with { ExplorationNoise = double.PositiveInfinity }));
    }

    // Pendulum-v1 with the zoo preset shrunk to fit CI (64-64 nets, 2k random steps, 20k steps, 20 eval episodes; ~7 s a seed).
    // The full zoo preset (400-300, 20k steps) also solves it but takes ~2 minutes a seed on one core.
    [Test, Category("Slow")]
    public void Slow_SolvesPendulum()
    {
        var report = new List<string>();
        var means = new List<double>();
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var sw = Stopwatch.StartNew();
            var options = Td3Options.ForPendulum with
            {
                Seed = seed, TotalTimesteps = 20_000, LearningStarts = 2_000, ActorHiddenSizes = [64, 64], CriticHiddenSizes = [64, 64],
            };
            var agent = new Td3("Pendulum-v1", options);
            agent.Train();
            double train = sw.Elapsed.TotalSeconds;
            double mean = OffPolicy.Evaluate(agent, "Pendulum-v1", 20, 10_000 + seed).Average();
            means.Add(mean);
            report.Add($"seed {seed}: eval mean {mean:F1} over 20 episodes, train {train:F1} s ({options.TotalTimesteps / train:F0} steps/s)");
        }
        TestContext.Out.WriteLine(string.Join("\n", report));
        Assert.That(means, Has.All.GreaterThanOrEqualTo(-200.0), string.Join("; ", report));
    }
}
