// Tests of PPO's Stable-Baselines3-style options: gSDE (log-prob and entropy against torch and a float64 recomputation,
// noise held over a rollout, stochastic Act, exact resume), log-std and PyTorch-default init, the time-out bootstrap and
// VecNormalize's reward return.
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class PpoSdeTests
{
    private const string Clock = "Test/Clock-v0", Still = "Test/StillBox-v0";

    /// <summary>Observation [t / 5] after t steps, reward 1 whatever the action, never terminated; cut at 5 steps.</summary>
    private sealed class ClockEnv() : Env(Clock)
    {
        private static readonly Box Obs = new(0f, 1f, 1);
        private int _t;
        public override Space ObservationSpace => Obs;
        public override Space ActionSpace { get; } = new Discrete(2);
        public override float[] Reset(int? seed = null) { Reseed(seed); _t = 0; return [0f]; }
        public override StepResult Step(int action) { _t++; return new StepResult([_t / 5f], 1.0, false, false); }
    }

    /// <summary>The same observation at every step, reward 0; records every action it is given (wide bounds: nothing clips).</summary>
    private sealed class StillEnv() : Env(Still)
    {
        public static readonly List<float> Actions = [];
        private static readonly Box Obs = new(-1f, 1f, 2);
        public override Space ObservationSpace => Obs;
        public override Space ActionSpace { get; } = new Box(-100f, 100f, 1);
        public override float[] Reset(int? seed = null) { Reseed(seed); return [0.5f, -0.25f]; }
        public override StepResult Step(ReadOnlySpan<float> action) { lock (Actions) Actions.Add(action[0]); return new StepResult([0.5f, -0.25f], 0.0, false, false); }
    }

    [OneTimeSetUp]
    public void RegisterEnvs()
    {
        Env.Register(Clock, () => new ClockEnv(), maxEpisodeSteps: 5, replace: true);
        Env.Register(Still, () => new StillEnv(), maxEpisodeSteps: 1000, replace: true);
    }

    // Inputs of the torch reference (py: B=4, F=5, A=2, the same formulas in float32).
    private const int B = 4, F = 5, A = 2;
    private static float[] MeanIn() => Enumerable.Range(0, B * A).Select(i => (float)(0.3 * Math.Sin(0.7 * i + 1))).ToArray();
    private static float[] FeaturesIn() => Enumerable.Range(0, B * F).Select(i => (float)Math.Tanh(1.1 * Math.Cos(0.9 * i + 2))).ToArray();
    private static float[] LogStdIn() => Enumerable.Range(0, F * A).Select(i => (float)(-1.0 + 0.4 * Math.Sin(1.7 * i))).ToArray();
    private static float[] ActionsIn() => Enumerable.Range(0, B * A).Select(i => (float)(0.5 * Math.Cos(0.6 * i))).ToArray();

    /// <summary>
    /// gSDE's log pi(a|s), entropy and their gradients equal torch 1.13's Normal(mean, sqrt(mm(f^2, exp(L)^2) + 1e-6))
    /// (SB3's StateDependentNoiseDistribution; values printed by a script given in the comment) and a float64
    /// recomputation; the features get no gradient (detached, SB3's learn_features=False).
    /// </summary>
    [Test]
    public void Sde_log_prob_entropy_and_gradients_match_torch_and_a_float64_recomputation()
    {
        // torch: lat = feat.detach(); var = torch.mm(lat**2, torch.exp(logstd)**2); d = Normal(mean, torch.sqrt(var + 1e-6));
        // lp = d.log_prob(act).sum(1); ent = d.entropy().sum(1); (lp.sum() + 0.3 * ent.sum()).backward()
        double[] torchLogProb = [-0.802072108, -0.827619195, -0.592823088, -0.88440764];
        double[] torchEntropy = [1.6853745, 1.80662096, 1.44119692, 1.81178594];
        double[] torchDMean = [0.770145178, 0.371098965, -0.0661214888, -0.32185182, -0.742175162, -0.822090507, -0.534857869, -0.354831487];
        double[] torchDLogStd = [-0.370625794, -0.758201599, -0.369952857, -0.22883305, -0.523765862, -0.69939816, -0.204282418, -0.192118987, -0.903821588, -0.625096858];

        float[] m = MeanIn(), f = FeaturesIn(), l = LogStdIn(), act = ActionsIn();
        var mean = Tensor.FromArray(m, B, A); mean.RequiresGrad = true;
        var features = Tensor.FromArray(f, B, F); features.RequiresGrad = true;
        var logStd = Tensor.FromArray(l, F, A); logStd.RequiresGrad = true;
        var (logProb, entropy) = Ppo.SdeLogProbAndEntropy(mean, features, logStd, Tensor.FromArray(act, B, A));
        (logProb.Sum() + 0.3 * entropy.Sum()).Backward();

        // float64: sigma_bj = sqrt(sum_i f_bi^2 exp(2 L_ij) + 1e-6), then the diagonal Gaussian's formulas.
        var lp64 = new double[B]; var ent64 = new double[B];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < A; j++)
            {
                double v = 1e-6;
                for (int i = 0; i < F; i++) v += (double)f[b * F + i] * f[b * F + i] * Math.Exp(2.0 * l[i * A + j]);
                double sigma = Math.Sqrt(v), z = (act[b * A + j] - (double)m[b * A + j]) / sigma;
                lp64[b] += -0.5 * z * z - Math.Log(sigma) - 0.5 * Math.Log(2 * Math.PI);
                ent64[b] += 0.5 + 0.5 * Math.Log(2 * Math.PI) + Math.Log(sigma);
            }

        Assert.That(logProb.ToArray(), Is.EqualTo(torchLogProb).Within(2e-6), "log-prob vs torch");
        Assert.That(entropy.ToArray(), Is.EqualTo(torchEntropy).Within(2e-6), "entropy vs torch");
        Assert.That(logProb.ToArray(), Is.EqualTo(lp64).Within(2e-6), "log-prob vs float64");
        Assert.That(entropy.ToArray(), Is.EqualTo(ent64).Within(2e-6), "entropy vs float64");
        Assert.That(mean.Grad!.ToArray(), Is.EqualTo(torchDMean).Within(2e-6), "d/d mean vs torch");
        Assert.That(logStd.Grad!.ToArray(), Is.EqualTo(torchDLogStd).Within(2e-6), "d/d log-std vs torch");
        Assert.That(features.Grad, Is.Null, "the features are detached");
    }

    private static Ppo SdeAgent(string env, JsonObject extra)
    {
        var o = new JsonObject { ["useSde"] = true, ["logStdInit"] = -2.0, ["numEnvs"] = 1, ["numSteps"] = 8, ["numMinibatches"] = 1, ["updateEpochs"] = 1, ["hiddenSize"] = 16 };
        foreach (var (k, v) in extra) o[k] = v?.DeepClone();
        return (Ppo)Agents.Create("ppo", env, o, null, 3, null);
    }

    /// <summary>Constant observations make mu(s) and f(s) constant within a rollout, so gSDE's actions mu + f M are equal
    /// while M is (the whole rollout; with sdeSampleFreq 4, blocks of 4) and change when M is redrawn; the
    /// state-independent Gaussian draws fresh noise every step.</summary>
    [TestCase(true, -1, 8)]
    [TestCase(true, 4, 4)]
    [TestCase(false, -1, 1)]
    public void Sde_noise_is_held_for_a_rollout_or_sdeSampleFreq_steps(bool sde, int freq, int block)
    {
        lock (StillEnv.Actions) StillEnv.Actions.Clear();
        var ppo = SdeAgent(Still, new JsonObject { ["useSde"] = sde, ["sdeSampleFreq"] = freq, ["totalTimesteps"] = 24 });
        ppo.Train();
        var a = StillEnv.Actions.ToArray();
        Assert.That(a, Has.Length.EqualTo(24));
        for (int i = 1; i < a.Length; i++)
        {
            if (i % block == 0) Assert.That(a[i], Is.Not.EqualTo(a[i - 1]), $"step {i} starts a new noise block");
            else Assert.That(a[i], Is.EqualTo(a[i - 1]), $"step {i} uses the same noise as step {i - 1}");
        }
    }

    /// <summary>The shapes and init the zoo's MountainCarContinuous policy asks for: a [64, 1] log-std matrix at
    /// log_std_init, and PyTorch's default init with ortho_init=False (weights and biases in +-1/sqrt(fan_in), biases not 0).</summary>
    [Test]
    public void Sde_log_std_matrix_and_default_init()
    {
        var ppo = (Ppo)Agents.Create("ppo", "MountainCarContinuous-v0", new JsonObject { ["useSde"] = true, ["logStdInit"] = -3.29, ["orthoInit"] = false }, null, 1, null);
        Assert.That(ppo.Network.ActorLogStd!.Shape, Is.EqualTo(new[] { 64, 1 }));
        Assert.That(ppo.Network.ActorLogStd.ToArray(), Is.All.EqualTo(-3.29f));
        Assert.That(ppo.Network.SdeFeatures, Is.EqualTo(64));
        foreach (var lin in ppo.Network.Actor.Children().Concat(ppo.Network.Critic.Children()).OfType<Linear>())
        {
            double bound = 1 / Math.Sqrt(lin.InFeatures);
            Assert.That(lin.Weight.ToArray().Concat(lin.Bias!.ToArray()), Is.All.InRange(-bound, bound));
            Assert.That(lin.Bias.ToArray(), Has.Some.Not.EqualTo(0f), "PyTorch's init draws biases too");
        }
        var plain = (Ppo)Agents.Create("ppo", "Pendulum-v1", new JsonObject { ["logStdInit"] = -0.5 }, null, 1, null);
        Assert.That(plain.Network.ActorLogStd!.Shape, Is.EqualTo(new[] { 1, 1 }));
        Assert.That(plain.Network.ActorLogStd.ToArray(), Is.All.EqualTo(-0.5f));
        var ex = Assert.Throws<ArgumentException>(() => Agents.Create("ppo", "CartPole-v1", new JsonObject { ["useSde"] = true }, null, 1, null));
        Assert.That(ex!.Message, Does.Contain("continuous"));
        Assert.Throws<ArgumentException>(() => Agents.Create("ppo", "Pendulum-v1", new JsonObject { ["sdeSampleFreq"] = 0 }, null, 1, null));
    }

    /// <summary>A stochastic Act of a gSDE policy draws from N(mu(s), sigma(s)^2), sigma_j(s)^2 = sum_i f_i(s)^2 exp(L_ij)^2
    /// + 1e-6 recomputed here in float64 from the actor's features (the law of mu + f(s) M over noise matrices M).</summary>
    [Test]
    public void Sde_stochastic_act_draws_from_the_state_dependent_gaussian()
    {
        var ppo = SdeAgent("Pendulum-v1", new JsonObject { ["totalTimesteps"] = 64, ["logStdInit"] = -2.5 });
        float[] obs = [0.6f, 0.8f, -1.5f];
        float[] mu, f;
        using (Tensor.NoGrad())
        {
            var (h, feat) = ppo.Network.ActorForward(Tensor.FromArray(obs, 1, 3));
            mu = h.ToArray(); f = feat!.ToArray();
        }
        var l = ppo.Network.ActorLogStd!.ToArray();
        double sigma = Math.Sqrt(1e-6 + f.Select((v, i) => (double)v * v * Math.Exp(2.0 * l[i])).Sum());
        Assert.That(ppo.Act(obs), Is.EqualTo(mu), "deterministic: the mean (inside the bounds)");
        var rng = new Rng(5);
        var x = Enumerable.Range(0, 40_000).Select(_ => (double)ppo.Act(obs, deterministic: false, rng)[0]).ToArray();
        double mean = x.Average(), std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
        TestContext.Out.WriteLine($"mu {mu[0]}, sigma {sigma}: sample mean {mean}, std {std}");
        Assert.That(x.Any(v => Math.Abs(v) >= 2), Is.False, "no draw reaches the bounds (else clipping biases the check)");
        Assert.That(mean, Is.EqualTo(mu[0]).Within(5 * sigma / Math.Sqrt(x.Length)));
        Assert.That(std / sigma, Is.EqualTo(1).Within(0.02));
    }

    /// <summary>A gSDE run with time-out bootstraps (Pendulum's 200-step limit is reached) stopped mid-rollout and resumed
    /// from its checkpoint ends as the uninterrupted run (the noise matrices are drawn at each rollout's start from the
    /// checkpointed generator, so they need no saving).</summary>
    [Test]
    public void Sde_run_resumes_exactly() =>
        new ResumeTests().A_stopped_run_resumed_from_its_checkpoint_equals_the_uninterrupted_run("ppo", "Pendulum-v1", "adam:eps=1e-5",
            new JsonObject { ["useSde"] = true, ["logStdInit"] = -2.0, ["orthoInit"] = false, ["bootstrapTimeouts"] = true, ["numEnvs"] = 2, ["numSteps"] = 16,
                             ["numMinibatches"] = 2, ["totalTimesteps"] = 480, ["hiddenSize"] = 16, ["normalizeObs"] = true, ["normalizeReward"] = true, ["sdeSampleFreq"] = 4 }, 150L);

    /// <summary>Reward normalisation's discounted return: SB3 VecNormalize's (G = gamma G + r, the statistics updated with
    /// it, then G = 0 after the step that ends an episode, here a 5-step time-out) and Gymnasium's (G = gamma G (1 -
    /// terminated) + r: it runs on across the time-out), each recomputed by hand over 12 steps.</summary>
    [TestCase(true)]
    [TestCase(false)]
    public void Reward_normalisation_restarts_the_return_at_time_outs_only_in_sb3_mode(bool sb3)
    {
        using var env = new NormalizeReward(Env.Make(Clock), 0.9, restartAtEpisodeEnd: sb3);
        var stats = new RunningMeanStd(1);
        double g = 0;
        env.Reset(0);
        for (int step = 1; step <= 12; step++)
        {
            var r = env.Step(0);
            g = 0.9 * g + 1;
            stats.Update([g]);
            Assert.That(r.Truncated, Is.EqualTo(step % 5 == 0), $"step {step}");
            Assert.That(r.Reward, Is.EqualTo(1 / Math.Sqrt(stats.Var[0] + 1e-8)).Within(1e-12), $"step {step}: reward scaled by the std of G");
            if (sb3 && r.Truncated) g = 0;
            Assert.That(env.DiscountedReturn, Is.EqualTo(g).Within(1e-12), $"step {step}: G");
            if (r.Truncated) env.Reset();
        }
    }

    /// <summary>
    /// The time-out bootstrap, seen in what the critic learns on an env that pays 1 per step and is only ever cut by its
    /// 5-step limit (observation t / 5): with bootstrapTimeouts the return never ends, so V(t) -> 1 / (1 - gamma) = 10 at
    /// every t; without (CleanRL) the return ends at the cut, V(t) -> (1 - gamma^(5 - t)) / (1 - gamma).
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void Bootstrapping_time_outs_makes_a_cut_return_continue(bool bootstrap)
    {
        var o = new JsonObject { ["bootstrapTimeouts"] = bootstrap, ["gamma"] = 0.9, ["gaeLambda"] = 0.9, ["numEnvs"] = 2, ["numSteps"] = 20,
                                 ["numMinibatches"] = 2, ["updateEpochs"] = 4, ["hiddenSize"] = 16, ["annealLr"] = false, ["clipVloss"] = false };
        var ppo = (Ppo)Agents.Create("ppo", Clock, o, OptimizerSpec.Parse("adam:lr=0.01,eps=1e-5"), 1, 16_000);
        ppo.Train();
        for (int t = 0; t < 5; t++)
        {
            double v;
            using (Tensor.NoGrad()) v = ppo.Network.Value(Tensor.FromArray([t / 5f], 1, 1)).ToArray()[0];
            double expected = bootstrap ? 10 : (1 - Math.Pow(0.9, 5 - t)) / 0.1;
            TestContext.Out.WriteLine($"t {t}: V {v:F3}, expected {expected:F3}");
            Assert.That(v, Is.EqualTo(expected).Within(0.3), $"V({t} / 5)");
        }
    }
}
