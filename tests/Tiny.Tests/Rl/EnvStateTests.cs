// Tests of saved env state: every registered env (in the agents' wrapper chains, inside a vector env) continues
// exactly after SaveState -> JSON text -> LoadState on a fresh copy; exact JSON numbers; generator state.
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public class EnvStateTests
{
    private static IEnumerable<string> Ids => Env.Registered;

    /// <summary>The agents' wrapper chain for id: statistics below, and for continuous actions clipping and both
    /// normalisers above (PPO's continuous chain), so every stateful wrapper is exercised.</summary>
    private static Env Chain(string id)
    {
        // Random actions must cross an episode end in the 550 steps played; they never reach MountainCarContinuous's
        // goal, so a step limit beyond 500 (its 999) is cut to 300 for this test, and so is MinAtar Freeway (no
        // limit, but its game ends itself only after 2501 steps).
        Env inner = Env.Make(id);
        if (inner is TimeLimit { MaxEpisodeSteps: > 500 } or MinAtarFreeway) { inner.Dispose(); inner = Env.Make(id, maxEpisodeSteps: 300); }
        Env env = new RecordEpisodeStatistics(inner);
        if (env.ActionSpace is Box)
            env = new NormalizeReward(new NormalizeObservation(new ClipAction(env), clip: 10f), 0.99, clip: 10);
        return env;
    }

    private static List<string> Play(SyncVectorEnv envs, Rng actions, int steps)
    {
        var log = new List<string>();
        var space = envs.SingleActionSpace;
        for (int t = 0; t < steps; t++)
        {
            VectorStepResult r;
            if (space is Discrete d)
            {
                var a = new int[envs.NumEnvs];
                for (int i = 0; i < a.Length; i++) a[i] = actions.NextInt(d.N);
                r = envs.Step(a);
            }
            else
            {
                var a = new float[envs.NumEnvs * envs.ActionDim];
                for (int i = 0; i < a.Length; i++) a[i] = (float)actions.Uniform(-3, 3);
                r = envs.Step(a);
            }
            // Bit patterns, so a difference in the last bit fails.
            log.Add(string.Join(",", r.Observations.Select(BitConverter.SingleToInt32Bits)) + "|" +
                    string.Join(",", r.Rewards.Select(BitConverter.DoubleToInt64Bits)) + "|" +
                    string.Join(",", r.Terminated) + string.Join(",", r.Truncated) + "|" +
                    string.Join(",", envs.FinishedEpisodes.Select(e => e is EpisodeInfo x ? $"{x.Return:R}/{x.Length}" : "-")));
        }
        return log;
    }

    [TestCaseSource(nameof(Ids))]
    public void A_vector_env_continues_exactly_after_save_and_load(string id)
    {
        using var a = new SyncVectorEnv(_ => Chain(id), 2, AutoresetMode.SameStep);
        a.Reset(3);
        var actions = new Rng(1);
        Play(a, actions, 150);
        string saved = a.SaveState().ToJsonString();          // through text, as a checkpoint file holds it
        var actionState = actions.State;
        var expected = Play(a, actions, 400);

        using var b = new SyncVectorEnv(_ => Chain(id), 2, AutoresetMode.SameStep);
        b.LoadState(JsonNode.Parse(saved)!.AsObject());
        var got = Play(b, Rng.FromState(actionState), 400);
        Assert.That(got, Is.EqualTo(expected), $"{id} diverged after a state round trip");
        Assert.That(expected.Count(l => !l.EndsWith("|-,-")), Is.GreaterThan(0), "the replay must cross an episode end (autoreset)");
    }

    [Test]
    public void Loading_another_envs_state_is_refused()
    {
        using var cart = Env.Make("CartPole-v1");
        cart.Reset(1);
        using var pend = Env.Make("Pendulum-v1");
        var state = cart.SaveState();
        // TimeLimit wraps both; the inner env types differ.
        var e = Assert.Throws<InvalidDataException>(() => pend.LoadState(state))!;
        Assert.That(e.Message, Does.Contain("CartPole").And.Contain("Pendulum"));
    }

    [Test]
    public void A_saved_state_missing_a_key_names_it()
    {
        using var env = Env.Make("CartPole-v1");
        env.Reset(1);
        var state = env.SaveState();
        state.Remove("elapsed_steps");
        var e = Assert.Throws<InvalidDataException>(() => env.LoadState(state))!;
        Assert.That(e.Message, Does.Contain("elapsed_steps"));
    }

    [Test]
    public void State_numbers_round_trip_exactly_through_json_text()
    {
        var rng = new Rng(7);
        var xs = new List<double> { double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, -0.0, 0.1, 1e308, 5e-324 };
        for (int i = 0; i < 200; i++) xs.Add(BitConverter.Int64BitsToDouble((long)rng.NextUInt64()) is var d && double.IsFinite(d) ? d : rng.NextNormal());
        var o = JsonNode.Parse(new JsonObject { ["x"] = StateJson.Nums(xs.ToArray()) }.ToJsonString())!.AsObject();
        var back = StateJson.Doubles(o, "x");
        Assert.That(back.Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(xs.Select(BitConverter.DoubleToInt64Bits)));
        var fs = xs.Select(x => (float)x).ToArray();
        var of = JsonNode.Parse(new JsonObject { ["f"] = StateJson.Nums(fs) }.ToJsonString())!.AsObject();
        Assert.That(StateJson.Floats(of, "f").Select(BitConverter.SingleToInt32Bits), Is.EqualTo(fs.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void A_generator_continues_from_its_saved_state_including_the_cached_normal()
    {
        var a = new Rng(11);
        a.NextNormal();                                 // leaves the second Box-Muller value cached
        var saved = JsonNode.Parse(new JsonObject { ["r"] = StateJson.Rng(a) }.ToJsonString())!.AsObject();
        var b = StateJson.ReadRng(saved, "r");
        for (int i = 0; i < 50; i++)
        {
            Assert.That(b.NextNormal(), Is.EqualTo(a.NextNormal()));
            Assert.That(b.NextUInt64(), Is.EqualTo(a.NextUInt64()));
        }
        Assert.Throws<ArgumentException>(() => Rng.FromState(new RngState(0, 0, 0, 0, 0, false)));
    }
}
