// Tests of SyncVectorEnv: hand-checked autoreset sequences in both modes, seeding, episode statistics, errors.
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class VectorEnvTests
{
    // Env 0 terminates every 2 steps, env 1 every 3; obs = [100*env + episode, t], reward = t + 0.5*action.
    private static SyncVectorEnv Scripted(AutoresetMode mode) =>
        new(i => new ScriptedEnv(i, length: i + 2), 2, mode);

    private sealed record Row(int[] Actions, float[] Obs, double[] Rewards, bool[] Terminated, float[]?[] Final, (double, int)?[] Finished);

    private static void Play(SyncVectorEnv env, IEnumerable<Row> rows)
    {
        Assert.That(env.Reset(), Is.EqualTo(new float[] { 1, 0, 101, 0 }));
        int step = 0;
        foreach (var row in rows)
        {
            step++;
            var r = env.Step(row.Actions);
            Assert.That(r.Observations, Is.EqualTo(row.Obs), $"step {step} observations");
            Assert.That(r.Rewards, Is.EqualTo(row.Rewards), $"step {step} rewards");
            Assert.That(r.Terminated, Is.EqualTo(row.Terminated), $"step {step} terminated");
            Assert.That(r.Truncated, Is.EqualTo(new[] { false, false }), $"step {step} truncated");
            for (int i = 0; i < 2; i++)
            {
                Assert.That(env.FinalObservations[i], Is.EqualTo(row.Final[i]), $"step {step} final obs {i}");
                var f = env.FinishedEpisodes[i];
                Assert.That(f is null ? ((double, int)?)null : (f.Value.Return, f.Value.Length), Is.EqualTo(row.Finished[i]), $"step {step} episode {i}");
            }
        }
    }

    [Test]
    public void NextStepAutoreset()
    {
        using var env = Scripted(AutoresetMode.NextStep);
        bool F = false, T = true;
        Play(env, [
            new([0, 1], [1, 1, 101, 1], [1, 1.5], [F, F], [null, null], [null, null]),
            new([0, 0], [1, 2, 101, 2], [2, 2], [T, F], [null, null], [(3.0, 2), null]),
            new([1, 1], [2, 0, 101, 3], [0, 3.5], [F, T], [null, null], [null, (7.0, 3)]),     // env 0 resets, action ignored
            new([1, 0], [2, 1, 102, 0], [1.5, 0], [F, F], [null, null], [null, null]),          // env 1 resets
            new([0, 0], [2, 2, 102, 1], [2, 1], [T, F], [null, null], [(3.5, 2), null]),
            new([1, 1], [3, 0, 102, 2], [0, 2.5], [F, F], [null, null], [null, null]),
        ]);
    }

    [Test]
    public void SameStepAutoreset()
    {
        using var env = Scripted(AutoresetMode.SameStep);
        bool F = false, T = true;
        Play(env, [
            new([0, 1], [1, 1, 101, 1], [1, 1.5], [F, F], [null, null], [null, null]),
            new([0, 0], [2, 0, 101, 2], [2, 2], [T, F], [[1, 2], null], [(3.0, 2), null]),
            new([1, 1], [2, 1, 102, 0], [1.5, 3.5], [F, T], [null, [101, 3]], [null, (7.0, 3)]),
            new([1, 0], [3, 0, 102, 1], [2.5, 1], [T, F], [[2, 2], null], [(4.0, 2), null]),
        ]);
    }

    [Test]
    public void ResetSeedsEnvIWithSeedPlusI()
    {
        using var vec = new SyncVectorEnv(_ => Env.Make("CartPole-v1"), 3);
        Assert.That((vec.ObservationDim, vec.ActionDim, vec.NumEnvs), Is.EqualTo((4, 1, 3)));
        float[] obs = (float[])vec.Reset(seed: 42).Clone();
        for (int i = 0; i < 3; i++)
        {
            using var single = Env.Make("CartPole-v1");
            Assert.That(obs[(4 * i)..(4 * i + 4)], Is.EqualTo(single.Reset(seed: 42 + i)));
        }
        using var scripted = Scripted(AutoresetMode.NextStep);
        scripted.Reset(seed: 7);
        Assert.That(scripted.Envs.Select(e => ((ScriptedEnv)e).LastSeed), Is.EqualTo(new int?[] { 7, 8 }));
        scripted.Reset();
        Assert.That(scripted.Envs.Select(e => ((ScriptedEnv)e).LastSeed), Is.EqualTo(new int?[] { null, null }));
    }

    [Test]
    public void SameSeedSameRun()
    {
        List<float> Run()
        {
            using var vec = new SyncVectorEnv(_ => Env.Make("CartPole-v1"), 4, AutoresetMode.SameStep);
            var trace = new List<float>(vec.Reset(seed: 1));
            var rng = new Rng(2);
            var actions = new int[4];
            for (int t = 0; t < 300; t++)
            {
                for (int i = 0; i < 4; i++) actions[i] = rng.NextInt(2);
                trace.AddRange(vec.Step(actions).Observations);
            }
            return trace;
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    [Test]
    public void ContinuousActionsMatchSingleEnvs()
    {
        using var vec = new SyncVectorEnv(_ => Env.Make("Pendulum-v1"), 2);
        using var e0 = Env.Make("Pendulum-v1");
        using var e1 = Env.Make("Pendulum-v1");
        Assert.That(vec.ActionDim, Is.EqualTo(1));
        vec.Reset(seed: 10); e0.Reset(seed: 10); e1.Reset(seed: 11);
        for (int t = 0; t < 201; t++)
        {
            float a0 = (t % 5) - 2f, a1 = 1.5f - (t % 3);
            var r = vec.Step(new[] { a0, a1 });
            if (t == 199)
            {
                Assert.That(r.Truncated, Is.EqualTo(new[] { true, true }));
                Assert.That(vec.FinishedEpisodes.Select(f => f!.Value.Length), Is.EqualTo(new[] { 200, 200 }));
            }
            if (t == 200)                                                                    // NextStep: the reset step
            {
                Assert.That((r.Rewards, r.Truncated), Is.EqualTo((new[] { 0.0, 0.0 }, new[] { false, false })));
                Assert.That(vec.FinishedEpisodes, Is.All.Null);
                break;
            }
            var s0 = e0.Step([a0]); var s1 = e1.Step([a1]);
            Assert.That(r.Observations, Is.EqualTo(s0.Observation.Concat(s1.Observation).ToArray()));
            Assert.That(r.Rewards, Is.EqualTo(new[] { s0.Reward, s1.Reward }));
        }
    }

    [Test]
    public void EpisodeStatisticsComeFromRecordEpisodeStatisticsWhenPresent()
    {
        // NormalizeReward outside RecordEpisodeStatistics: the vector env must report the raw return (CleanRL's setup).
        using var vec = new SyncVectorEnv(i => new NormalizeReward(new RecordEpisodeStatistics(new ScriptedEnv(i, 2))), 1);
        vec.Reset();
        var r1 = vec.Step([0]);
        Assert.That(r1.Rewards[0], Is.Not.EqualTo(1.0));
        vec.Step([1]);
        Assert.That(vec.FinishedEpisodes[0], Is.Not.Null);
        Assert.That((vec.FinishedEpisodes[0]!.Value.Return, vec.FinishedEpisodes[0]!.Value.Length), Is.EqualTo((3.5, 2)));
    }

    [Test]
    public void ReturnedArraysAreReused()
    {
        using var vec = new SyncVectorEnv(_ => Env.Make("CartPole-v1"), 2);
        float[] obs = vec.Reset(seed: 0);
        var r = vec.Step([0, 1]);
        Assert.That(r.Observations, Is.SameAs(obs));
        Assert.That(vec.Step([1, 0]).Rewards, Is.SameAs(r.Rewards));
    }

    [Test]
    public void BadUseThrowsClearly()
    {
        using var vec = new SyncVectorEnv(_ => Env.Make("CartPole-v1"), 2);
        Assert.That(Assert.Throws<InvalidOperationException>(() => vec.Step([0, 1]))!.Message, Does.Contain("Reset"));
        vec.Reset(seed: 0);
        Assert.That(Assert.Throws<ArgumentException>(() => vec.Step([0, 1, 1]))!.Message, Does.Contain("expected 2").And.Contain("got 3"));
        Assert.That(Assert.Throws<ArgumentException>(() => vec.Step([0, 5]))!.Message, Does.Contain("CartPole-v1").And.Contain("5"));
        Assert.Throws<ArgumentException>(() => _ = new SyncVectorEnv(i => i == 0 ? Env.Make("CartPole-v1") : Env.Make("Pendulum-v1"), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SyncVectorEnv(_ => new CartPole(), 0));
        using var pend = new SyncVectorEnv(_ => Env.Make("Pendulum-v1"), 2);
        pend.Reset(seed: 0);
        Assert.That(Assert.Throws<InvalidOperationException>(() => pend.Step([0, 1]))!.Message, Does.Contain("Pendulum-v1").And.Contain("Box"));
        Assert.That(Assert.Throws<ArgumentException>(() => pend.Step(new[] { 0f }))!.Message, Does.Contain("expected 2"));
    }
}
