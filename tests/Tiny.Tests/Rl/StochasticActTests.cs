// Act's stochastic actions against the distributions they claim, computed here independently: PPO's categorical draws
// against softmax of the logits and its Gaussian draws against N(mean, std^2); DQN's epsilon-greedy frequencies against
// 1 - eps + eps/N and eps/N; TD3's mean + noise against N(mu, (noise * scale)^2). Tolerances: per count a binomial
// 4.75 sigma (two-sided 2e-6), the chi-square statistic below its 0.9999 quantile, means and variances within 4.75 of
// their standard errors, and Kolmogorov-Smirnov D below its 0.9999 quantile 2.2253 / sqrt(n). Seeded: each draw set is
// the same on every run, and the agent's own generator (ActionRng) never touches training's.
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class StochasticActTests
{
    private const double Z = 4.753;   // normal quantile 1 - 1e-6
    private const string SixActions = "MinAtar/Breakout-v0";   // Discrete(6), observations [4, 10, 10]

    /// <summary>chi2.ppf(0.9999, df) for df = 1..5 (torch.special.gammainc inverted by bisection; scipy gives the same).</summary>
    private static readonly double[] Chi2Quantile9999 = [0, 15.137, 18.421, 21.108, 23.513, 25.745];

    /// <summary>A Linear layer whose weights are zero: it outputs its bias, whatever the observation.</summary>
    private static Linear Constant(int inputs, float[] values, Rng rng)
    {
        var l = new Linear(inputs, values.Length, rng);
        using (Tensor.NoGrad())
        {
            l.Weight.FillInPlace(0);
            l.Bias!.CopyFrom(values);
        }
        return l;
    }

    private static double[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    /// <summary>Counts of n draws against probabilities p: each within 4.75 binomial sigmas, and chi-square below its 0.9999 quantile.</summary>
    private static void AssertFrequencies(int[] counts, double[] p, string what)
    {
        int n = counts.Sum();
        double chi2 = 0;
        for (int k = 0; k < p.Length; k++)
        {
            double expected = n * p[k], sigma = Math.Sqrt(n * p[k] * (1 - p[k]));
            TestContext.Out.WriteLine($"{what}: action {k}: {counts[k]} drawn, {expected:F1} expected (p {p[k]:F5}, sigma {sigma:F1})");
            Assert.That(Math.Abs(counts[k] - expected), Is.LessThanOrEqualTo(Z * sigma + 1e-9), $"{what}: action {k}");
            if (p[k] > 0) chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
        }
        int df = p.Count(v => v > 0) - 1;
        TestContext.Out.WriteLine($"{what}: chi-square {chi2:F2} on {df} df (0.9999 quantile {Chi2Quantile9999[df]})");
        Assert.That(chi2, Is.LessThan(Chi2Quantile9999[df]), what);
    }

    private static int[] Count(int actions, int n, Func<int> draw)
    {
        var counts = new int[actions];
        for (int i = 0; i < n; i++) counts[draw()]++;
        return counts;
    }

    /// <summary>Draws against N(mean, std^2): sample mean and variance within 4.75 standard errors, KS D below 2.2253/sqrt(n).</summary>
    private static void AssertNormal(double[] x, double mean, double std, string what)
    {
        int n = x.Length;
        double m = x.Average(), v = x.Sum(a => (a - m) * (a - m)) / (n - 1);
        var sorted = x.Order().ToArray();
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = NormalCdf((sorted[i] - mean) / std);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        TestContext.Out.WriteLine($"{what}: mean {m:F5} (expected {mean:F5}), std {Math.Sqrt(v):F5} (expected {std:F5}), KS D {d:F5} (bound {2.2253 / Math.Sqrt(n):F5})");
        Assert.That(Math.Abs(m - mean), Is.LessThanOrEqualTo(Z * std / Math.Sqrt(n)), $"{what}: mean");
        Assert.That(Math.Abs(v - std * std), Is.LessThanOrEqualTo(Z * std * std * Math.Sqrt(2.0 / (n - 1))), $"{what}: variance");
        Assert.That(d, Is.LessThan(2.2253 / Math.Sqrt(n)), $"{what}: Kolmogorov-Smirnov");
    }

    /// <summary>Phi(z) = erfc(-z / sqrt 2) / 2, erfc by W. J. Cody's rational approximations as in Numerical Recipes'
    /// erfcc (fractional error below 1.2e-7, far below the KS bound of 0.01 it serves).</summary>
    private static double NormalCdf(double z)
    {
        double x = -z / Math.Sqrt(2), ax = Math.Abs(x), t = 1 / (1 + 0.5 * ax);
        double erfc = t * Math.Exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return 0.5 * (x >= 0 ? erfc : 2 - erfc);
    }

    private static float[] Observation(int dim, int seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, dim).Select(_ => rng.NextDouble() < 0.2 ? 1f : 0f).ToArray();
    }

    [Test]
    public void Ppo_samples_its_categorical_policy_with_softmax_of_the_logits()
    {
        float[] logits = [1.2f, -0.7f, 0.3f, 2.0f, -1.5f, 0.0f];
        var ppo = new Ppo(SixActions, new PpoOptions(), network: ctx => Constant(ctx.InputSize, ctx.Role == "actor" ? logits : [0f], ctx.Rng));
        var obs = Observation(400, 1);
        Assert.That(ppo.Act(obs), Is.EqualTo(new[] { 3f }), "deterministic: the argmax");
        var rng = new Rng(11);
        AssertFrequencies(Count(6, 60_000, () => (int)ppo.Act(obs, deterministic: false, rng)[0]), Softmax(logits), "ppo categorical");
    }

    [Test]
    public void Ppo_with_its_own_network_samples_softmax_of_the_logits_it_computes()
    {
        // The default actor after some training, on an observation; the logits come from its forward pass.
        var ppo = (Ppo)Agents.Create("ppo", "Acrobot-v1", new() { ["numEnvs"] = 2, ["numSteps"] = 64, ["hiddenSize"] = 16 }, OptimizerSpec.Parse("adam:lr=0.01"), 2, 2048);
        ppo.Train();
        float[] obs = [0.9f, -0.4f, 0.2f, 0.98f, 3f, -5f];
        float[] logits;
        using (Tensor.NoGrad()) logits = ppo.Network.Actor.Forward(Tensor.FromArray(obs, 1, 6)).ToArray();
        var p = Softmax(logits);
        TestContext.Out.WriteLine($"logits {string.Join(", ", logits)}");
        Assert.That(p.Max() - p.Min(), Is.GreaterThan(0.02), "the policy is not uniform here (else the test says little)");
        AssertFrequencies(Count(3, 40_000, () => (int)ppo.Act(obs, deterministic: false)[0]), p, "ppo categorical (trained actor, ActionRng)");
    }

    [Test]
    public void Ppo_samples_its_gaussian_policy_with_the_mean_and_the_learned_std()
    {
        var ppo = new Ppo("Pendulum-v1", new PpoOptions(), network: ctx => Constant(ctx.InputSize, [ctx.Role == "actor" ? 0.3f : 0f], ctx.Rng));
        using (Tensor.NoGrad()) ppo.Network.ActorLogStd!.FillInPlace(Math.Log(0.4));
        float[] obs = [0.5f, -0.5f, 1f];
        Assert.That(ppo.Act(obs), Is.EqualTo(new[] { 0.3f }), "deterministic: the mean");
        var rng = new Rng(12);
        var x = Enumerable.Range(0, 40_000).Select(_ => (double)ppo.Act(obs, deterministic: false, rng)[0]).ToArray();
        Assert.That(x.All(v => v is >= -2 and <= 2), "clipped to the action space");
        AssertNormal(x, 0.3, Math.Exp((float)Math.Log(0.4)), "ppo gaussian");
    }

    [Test]
    public void Dqn_is_epsilon_greedy_with_the_epsilon_given()
    {
        float[] q = [0.1f, 0.5f, -0.2f, 0.9f, 0.0f, 0.3f];
        var dqn = new Dqn(SixActions, new DqnOptions { EndE = 0.05 }, network: ctx => Constant(ctx.InputSize, q, ctx.Rng));
        var obs = Observation(400, 2);
        Assert.That(dqn.Act(obs), Is.EqualTo(new[] { 3f }));
        var rng = new Rng(13);
        foreach (double eps in new[] { 0.3, 1.0 })
        {
            var p = Enumerable.Range(0, 6).Select(k => eps / 6 + (k == 3 ? 1 - eps : 0)).ToArray();
            AssertFrequencies(Count(6, 60_000, () => (int)dqn.Act(obs, epsilon: eps, rng)[0]), p, $"dqn epsilon {eps}");
        }
        Assert.That(Count(6, 1000, () => (int)dqn.Act(obs, epsilon: 0.0, rng)[0])[3], Is.EqualTo(1000), "epsilon 0: always greedy");
        // Stochastic without an epsilon: the final exploration epsilon, drawn the same way.
        var (a, b) = (new Rng(5), new Rng(5));
        for (int i = 0; i < 500; i++) Assert.That(dqn.Act(obs, deterministic: false, a), Is.EqualTo(dqn.Act(obs, epsilon: 0.05, b)));
        Assert.Throws<ArgumentOutOfRangeException>(() => dqn.Act(obs, epsilon: 1.5));
    }

    [Test]
    public void Td3_adds_gaussian_exploration_noise_to_its_mean_action()
    {
        var td3 = new Td3("Pendulum-v1", new Td3Options { ExplorationNoise = 0.1 }, network: ctx => Constant(ctx.InputSize, [ctx.Role == "actor" ? 0.2f : 0f], ctx.Rng));
        float[] obs = [0.5f, -0.5f, 1f];
        double mu = 2 * Math.Tanh(0.2);   // tanh(actor) * scale + bias, scale 2 and bias 0 on [-2, 2]
        Assert.That(td3.Act(obs)[0], Is.EqualTo(mu).Within(1e-6));
        var rng = new Rng(14);
        var x = Enumerable.Range(0, 40_000).Select(_ => (double)td3.Act(obs, noise: 0.1, rng)[0]).ToArray();
        AssertNormal(x, td3.Act(obs)[0], 0.1 * 2, "td3 mean + noise");
        var (a, b) = (new Rng(6), new Rng(6));
        for (int i = 0; i < 500; i++) Assert.That(td3.Act(obs, deterministic: false, a), Is.EqualTo(td3.Act(obs, noise: 0.1, b)), "stochastic: the options' exploration noise");
    }

    [Test]
    public void Stochastic_actions_are_reproducible_and_leave_training_alone()
    {
        var obs = new float[] { 0.01f, -0.02f, 0.03f, 0.04f };
        IAgent Make(string algo) => Agents.Create(algo, "CartPole-v1", algo == "dqn" ? new() { ["learningStarts"] = 100, ["hiddenSizes"] = new System.Text.Json.Nodes.JsonArray(16) } : new() { ["hiddenSize"] = 16, ["numEnvs"] = 1, ["numSteps"] = 64, ["numMinibatches"] = 2 }, null, 7, 640);
        foreach (var algo in new[] { "ppo", "dqn" })
        {
            // The same seed: the same actions from the agents' own generators, and from equal explicit ones.
            var (x, y) = (Make(algo), Make(algo));
            var fromX = Enumerable.Range(0, 200).Select(_ => x.Act(obs, deterministic: false)[0]).ToArray();
            var fromY = Enumerable.Range(0, 200).Select(_ => y.Act(obs, deterministic: false)[0]).ToArray();
            Assert.That(fromX, Is.EqualTo(fromY), algo);
            Assert.That(fromX.Distinct().Count(), Is.GreaterThan(1), $"{algo}: the draws vary");
            var (r1, r2) = (new Rng(3), new Rng(3));
            Assert.That(Enumerable.Range(0, 200).Select(_ => x.Act(obs, false, r1)[0]), Is.EqualTo(Enumerable.Range(0, 200).Select(_ => y.Act(obs, false, r2)[0])));

            // Acting before training does not change what training does.
            x.Train();
            var fresh = Make(algo);
            fresh.Train();
            Assert.That(x.NamedParameters().Select(p => p.Value.ToArray()), Is.EqualTo(fresh.NamedParameters().Select(p => p.Value.ToArray())), algo);
        }
    }
}
