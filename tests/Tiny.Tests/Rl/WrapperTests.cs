// Tests of the env wrappers: TimeLimit, RecordEpisodeStatistics, NormalizeObservation, NormalizeReward, ClipAction.
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class WrapperTests
{
    [Test]
    public void TimeLimitTruncatesAlsoOnATerminatingStep()
    {
        using var env = new TimeLimit(new ScriptedEnv(0, length: 3), 3);
        env.Reset();
        Assert.That(env.Step(0) is { Terminated: false, Truncated: false });
        Assert.That(env.Step(0) is { Terminated: false, Truncated: false });
        Assert.That(env.Step(0) is { Terminated: true, Truncated: true });
        env.Reset();
        Assert.That(env.ElapsedSteps, Is.EqualTo(0));
        Assert.That(env.Step(1).Truncated, Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TimeLimit(new ScriptedEnv(0, 1), 0));
    }

    [Test]
    public void RecordEpisodeStatisticsTotalsEachEpisode()
    {
        using var env = new RecordEpisodeStatistics(new TimeLimit(new ScriptedEnv(0, length: 3), 2), bufferLength: 2);
        env.Reset();
        Assert.That(env.LastEpisode, Is.Null);
        env.Step(1);                                              // reward 1.5
        Assert.That((env.EpisodeEnded, env.EpisodeReturn, env.EpisodeLength), Is.EqualTo((false, 1.5, 1)));
        var r = env.Step(0);                                      // reward 2, truncated by TimeLimit(2)
        Assert.That(r.Truncated && env.EpisodeEnded, Is.True);
        Assert.That((env.LastEpisode!.Value.Return, env.LastEpisode.Value.Length), Is.EqualTo((3.5, 2)));
        Assert.That(env.LastEpisode.Value.Seconds, Is.GreaterThanOrEqualTo(0));

        env.Reset();
        Assert.That(env.EpisodeEnded, Is.False);
        Assert.That(env.LastEpisode!.Value.Return, Is.EqualTo(3.5), "LastEpisode persists");
        env.Step(0); env.Step(0);                                 // 1 + 2
        Assert.That(env.LastEpisode!.Value.Return, Is.EqualTo(3.0));
        env.Reset(); env.Step(1); env.Step(1);                    // 1.5 + 2.5
        Assert.That(env.Recent.Select(e => e.Return), Is.EqualTo(new[] { 3.0, 4.0 }));
    }

    // Running statistics written the long way: n samples pooled with Gymnasium's initial pseudo-sample
    // (weight 1e-4, mean 0, variance 1).
    private static (double Mean, double Var) Pooled(IReadOnlyList<double> xs)
    {
        const double eps = 1e-4;
        double n = xs.Count + eps;
        double mean = xs.Sum() / n;
        double m2 = eps * 1.0 + eps * mean * mean + xs.Sum(x => (x - mean) * (x - mean));
        return (mean, m2 / n);
    }

    [Test]
    public void NormalizeObservationMatchesARecomputation()
    {
        using var raw = Env.Make("Pendulum-v1");
        using var env = new NormalizeObservation(Env.Make("Pendulum-v1"));
        var rng = new Rng(3);
        var seen = new List<float[]> { raw.Reset(seed: 9) };
        Check(env.Reset(seed: 9));
        for (int t = 0; t < 250; t++)                             // crosses the 200-step truncation
        {
            float[] action = ((Box)raw.ActionSpace).Sample(rng);
            var r = raw.Step(action);
            var n = env.Step(action);
            Assert.That((n.Reward, n.Truncated), Is.EqualTo((r.Reward, r.Truncated)));
            seen.Add(r.Observation);
            Check(n.Observation);
            if (r.Truncated) { seen.Add(raw.Reset()); Check(env.Reset()); }
        }
        Assert.That(env.Count, Is.EqualTo(seen.Count + 1e-4).Within(1e-9));

        void Check(float[] normalized)
        {
            for (int k = 0; k < 3; k++)
            {
                var (mean, var) = Pooled(seen.Select(o => (double)o[k]).ToList());
                Assert.That(env.Mean[k], Is.EqualTo(mean).Within(1e-12 + 1e-9 * Math.Abs(mean)));
                Assert.That(env.Var[k], Is.EqualTo(var).Within(1e-9 * var));
                double expected = (seen[^1][k] - mean) / Math.Sqrt(var + 1e-8);
                Assert.That(normalized[k], Is.EqualTo(expected).Within(1e-5 * (1 + Math.Abs(expected))));
            }
        }
    }

    [Test]
    public void NormalizeObservationFrozenUsesTheGivenStatisticsAndClips()
    {
        using var raw = Env.Make("CartPole-v1");
        using var env = new NormalizeObservation(Env.Make("CartPole-v1"), clip: 10f);
        Assert.That(((Box)env.ObservationSpace).High, Is.EqualTo(new[] { 10f, 10f, 10f, 10f }));
        env.Training = false;
        env.Stats.Set([0.01, 0.0, -0.02, 0.0], [1e-4, 1.0, 4.0, 1e-6], count: 1234);
        float[] o = raw.Reset(seed: 2), n = env.Reset(seed: 2);
        for (int t = 0; t < 20; t++)
        {
            for (int k = 0; k < 4; k++)
            {
                float expected = (float)((o[k] - env.Mean[k]) / Math.Sqrt(env.Var[k] + 1e-8));
                Assert.That(n[k], Is.EqualTo(Math.Clamp(expected, -10f, 10f)));
            }
            var r = raw.Step(t % 2);
            if (r.Terminated) break;
            o = r.Observation; n = env.Step(t % 2).Observation;
        }
        Assert.That(env.Count, Is.EqualTo(1234));
        Assert.That(env.Var, Is.EqualTo(new[] { 1e-4, 1.0, 4.0, 1e-6 }));
        Assert.That(n.Max(Math.Abs), Is.LessThanOrEqualTo(10f));
    }

    [TestCase(3, 5, TestName = "NormalizeRewardMatchesARecomputation(terminations)")]
    [TestCase(4, 3, TestName = "NormalizeRewardMatchesARecomputation(truncations carry the return over)")]
    public void NormalizeRewardMatchesARecomputation(int length, int limit)
    {
        // Rewards 1, -4, 3, -8, ...; the episode terminates after `length` steps or is truncated after `limit`.
        static double Reward(int t) => t % 2 == 1 ? t : -2.0 * t;
        Env Make() => new TimeLimit(new ScriptedEnv(0, length, Reward), limit);
        using var raw = Make();
        const double gamma = 0.9;
        using var env = new NormalizeReward(Make(), gamma);
        raw.Reset(); env.Reset();
        var returns = new List<double>();
        double g = 0;
        for (int t = 0; t < 40; t++)
        {
            var r = raw.Step(0);
            var n = env.Step(0);
            g = g * gamma * (r.Terminated ? 0 : 1) + r.Reward;
            returns.Add(g);
            var (_, var) = Pooled(returns);
            Assert.That(env.DiscountedReturn, Is.EqualTo(g).Within(1e-12));
            Assert.That(env.Var, Is.EqualTo(var).Within(1e-9 * var));
            double expected = r.Reward / Math.Sqrt(var + 1e-8);
            Assert.That(n.Reward, Is.EqualTo(expected).Within(1e-9 * Math.Abs(expected)));
            Assert.That((n.Terminated, n.Truncated), Is.EqualTo((r.Terminated, r.Truncated)));
            if (r.Terminated || r.Truncated) { raw.Reset(); env.Reset(); }
        }
    }

    [Test]
    public void NormalizeRewardClipsAndFreezes()
    {
        using var env = new NormalizeReward(new ScriptedEnv(0, length: 0, _ => 1000.0), clip: 10);
        env.Reset();
        env.Var = 1.0; env.Training = false;
        Assert.That(env.Step(0).Reward, Is.EqualTo(10.0));
        Assert.That((env.Var, env.Count), Is.EqualTo((1.0, 1e-4)));
        env.Training = true;
        env.Step(0);
        Assert.That(env.Count, Is.EqualTo(1 + 1e-4).Within(1e-12));
    }

    [Test]
    public void ClipActionClipsToTheBox()
    {
        using var clipped = new ClipAction(Env.Make("Pendulum-v1"));
        using var plain = Env.Make("Pendulum-v1");
        Assert.That(((Box)clipped.ActionSpace).High, Is.EqualTo(new[] { float.PositiveInfinity }));
        clipped.Reset(seed: 1); plain.Reset(seed: 1);
        foreach (var (a, b) in new[] { (5f, 2f), (-7f, -2f), (0.3f, 0.3f) })
        {
            var r1 = clipped.Step([a]); var r2 = plain.Step([b]);
            Assert.That((r1.Observation, r1.Reward), Is.EqualTo((r2.Observation, r2.Reward)));
        }
        Assert.That(Assert.Throws<ArgumentException>(() => clipped.Step([float.NaN]))!.Message, Does.Contain("Pendulum-v1"));
        Assert.Throws<ArgumentException>(() => _ = new ClipAction(new CartPole()));
    }

    [Test]
    public void WrapperChainIsNavigableAndDisposesInward()
    {
        var inner = new ScriptedEnv(0, 3);
        var rec = new RecordEpisodeStatistics(inner);
        var env = new NormalizeReward(new TimeLimit(rec, 10));
        Assert.That(env.Id, Is.EqualTo("Test/Scripted-v0"));
        Assert.That(env.Unwrapped, Is.SameAs(inner));
        Assert.That(env.Find<RecordEpisodeStatistics>(), Is.SameAs(rec));
        Assert.That(env.Find<ClipAction>(), Is.Null);
        env.Dispose();
        Assert.That(inner.Disposed, Is.True);
    }

    [Test]
    public void WrappersForwardToTheInnerEnv()
    {
        using var env = new RecordEpisodeStatistics(Env.Make("CartPole-v1"));
        using var plain = Env.Make("CartPole-v1");
        Assert.That(env.Reset(seed: 5), Is.EqualTo(plain.Reset(seed: 5)));
        Assert.That(env.Step([1f]).Observation, Is.EqualTo(plain.Step(1).Observation));
        Assert.That(env.ObservationSpace, Is.SameAs(plain.ObservationSpace));
        Assert.Throws<ArgumentException>(() => env.Step(3));
    }
}
