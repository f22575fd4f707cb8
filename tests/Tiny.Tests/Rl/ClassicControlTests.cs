// Tests of Acrobot-v1, MountainCar-v0 and MountainCarContinuous-v0: Gymnasium reference trajectories, spaces,
// time limits, reset distributions, physics invariants, bad actions.
using System.Text.Json;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class ClassicControlTests
{
    // The reference data (classic_control_trajectories.json) were recorded from Gymnasium's own classes under
    // NumPy 1.24 (see data/README.md). MountainCar and MountainCarContinuous use Python floats and math.cos (libm,
    // as .NET's Math.Cos), so they are compared bit for bit. Acrobot uses NumPy's SIMD sin/cos, which differ from libm
    // by 1-3 ulp; the chaotic dynamics amplify that (each case is cut where a 1e-12 error could grow past 1e-9), so
    // its states are compared to 1e-9 relative, the file's tolerance_hint. Observations are float32 casts that the
    // generator placed at least 1e-13 (and 10x the libm replica's error) from a rounding midpoint: exact everywhere.
    private const double AcrobotTol = 1e-9;

    private static readonly Lazy<JsonDocument> Reference = new(() => TestData.Load("classic_control_trajectories.json"));

    private static JsonElement Trajectory(string key, int index) => Reference.Value.RootElement.GetProperty(key)[index];
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static IEnumerable<int> AcrobotCases => Enumerable.Range(0, 5);
    public static IEnumerable<int> MountainCarCases => Enumerable.Range(0, 6);
    public static IEnumerable<int> ContinuousCases => Enumerable.Range(0, 5);

    private static void AssertBits(double actual, double expected, string what) =>
        Assert.That(BitConverter.DoubleToInt64Bits(actual), Is.EqualTo(BitConverter.DoubleToInt64Bits(expected)), $"{what}: {actual:R} vs {expected:R}");

    private static void AssertObs(float[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.That((double)(float)expected[k], Is.EqualTo(expected[k]), $"{what}[{k}]: the reference is not a float32");
            Assert.That(BitConverter.SingleToInt32Bits(actual[k]), Is.EqualTo(BitConverter.SingleToInt32Bits((float)expected[k])), $"{what}[{k}]: {actual[k]:R} vs {expected[k]:R}");
        }
    }

    private static void AssertFlags(StepResult r, JsonElement step, string what)
    {
        Assert.That(r.Terminated, Is.EqualTo(step.GetProperty("terminated").GetBoolean()), $"{what} terminated");
        Assert.That(r.Truncated, Is.EqualTo(step.GetProperty("truncated").GetBoolean()), $"{what} truncated");
    }

    /// <summary>Replays a recorded trajectory the way the generator made it: Make(id), Reset(seed 0), write
    /// init_state into the unwrapped env, step the recorded actions through the TimeLimit wrapper.</summary>
    private static (Env Env, JsonElement Traj) Start(string key, int index, string id, Action<Env, double[]> setState, Func<Env, float[]> obs)
    {
        var traj = Trajectory(key, index);
        Assert.That(traj.GetProperty("env").GetString(), Is.EqualTo(id));
        var env = Env.Make(id);
        env.Reset(seed: 0);
        setState(env.Unwrapped, Doubles(traj.GetProperty("init_state")));
        AssertObs(obs(env.Unwrapped), Doubles(traj.GetProperty("init_obs")), $"{traj.GetProperty("name").GetString()} init obs");
        return (env, traj);
    }

    [Test]
    public void ReferenceFileHasTheExpectedCases()
    {
        var root = Reference.Value.RootElement;
        Assert.That(root.GetProperty("acrobot").GetArrayLength(), Is.EqualTo(5));
        Assert.That(root.GetProperty("mountaincar").GetArrayLength(), Is.EqualTo(6));
        Assert.That(root.GetProperty("mountaincar_continuous").GetArrayLength(), Is.EqualTo(5));
        Assert.That(root.GetProperty("tolerance_hint").GetDouble(), Is.EqualTo(AcrobotTol));
        Assert.That(root.GetProperty("source").GetProperty("numpy_version").GetString(), Is.EqualTo("1.24.2"));
        // The last step of each truncation case is the limit Env.Make must apply.
        Assert.That(Trajectory("acrobot", 4).GetProperty("steps").GetArrayLength(), Is.EqualTo(500));
        Assert.That(Trajectory("mountaincar", 5).GetProperty("steps").GetArrayLength(), Is.EqualTo(200));
        Assert.That(Trajectory("mountaincar_continuous", 4).GetProperty("steps").GetArrayLength(), Is.EqualTo(999));
    }

    [TestCaseSource(nameof(AcrobotCases))]
    public void AcrobotReplaysGymnasiumTrajectory(int index)
    {
        var (env, traj) = Start("acrobot", index, "Acrobot-v1", (e, s) => ((Acrobot)e).State = s, e => ((Acrobot)e).GetObservation());
        using var _ = env;
        var acrobot = (Acrobot)env.Unwrapped;
        string name = traj.GetProperty("name").GetString()!;
        double maxRel = 0;
        foreach (var step in traj.GetProperty("steps").EnumerateArray())
        {
            string at = $"{name} t={step.GetProperty("t").GetInt32()}";
            var r = env.Step(step.GetProperty("action").GetInt32());
            double[] expected = Doubles(step.GetProperty("state")), state = acrobot.State;
            for (int k = 0; k < 4; k++)
            {
                double rel = Math.Abs(state[k] - expected[k]) / Math.Max(1, Math.Abs(expected[k]));
                Assert.That(rel, Is.LessThanOrEqualTo(AcrobotTol), $"{at} state[{k}]: {state[k]:R} vs {expected[k]:R}");
                maxRel = Math.Max(maxRel, rel);
            }
            AssertObs(r.Observation, Doubles(step.GetProperty("obs_f32")), $"{at} obs");
            AssertBits(r.Reward, step.GetProperty("reward").GetDouble(), $"{at} reward");
            AssertFlags(r, step, at);
        }
        TestContext.Out.WriteLine($"{name}: {traj.GetProperty("steps").GetArrayLength()} steps, max relative state error {maxRel:E2}");
    }

    [TestCaseSource(nameof(MountainCarCases))]
    public void MountainCarReplaysGymnasiumTrajectoryBitExactly(int index)
    {
        var (env, traj) = Start("mountaincar", index, "MountainCar-v0", (e, s) => ((MountainCar)e).State = s, e => ((MountainCar)e).GetObservation());
        using var _ = env;
        var car = (MountainCar)env.Unwrapped;
        string name = traj.GetProperty("name").GetString()!;
        foreach (var step in traj.GetProperty("steps").EnumerateArray())
        {
            string at = $"{name} t={step.GetProperty("t").GetInt32()}";
            var r = env.Step(step.GetProperty("action").GetInt32());
            double[] expected = Doubles(step.GetProperty("state")), state = car.State;
            for (int k = 0; k < 2; k++) AssertBits(state[k], expected[k], $"{at} state[{k}]");
            AssertObs(r.Observation, Doubles(step.GetProperty("obs_f32")), $"{at} obs");
            AssertBits(r.Reward, step.GetProperty("reward").GetDouble(), $"{at} reward");
            AssertFlags(r, step, at);
        }
    }

    [TestCaseSource(nameof(ContinuousCases))]
    public void MountainCarContinuousReplaysGymnasiumTrajectoryBitExactly(int index)
    {
        var (env, traj) = Start("mountaincar_continuous", index, "MountainCarContinuous-v0",
            (e, s) => ((MountainCarContinuous)e).State = s, e => ((MountainCarContinuous)e).GetObservation());
        using var _ = env;
        var car = (MountainCarContinuous)env.Unwrapped;
        string name = traj.GetProperty("name").GetString()!;
        foreach (var step in traj.GetProperty("steps").EnumerateArray())
        {
            string at = $"{name} t={step.GetProperty("t").GetInt32()}";
            double a = step.GetProperty("action")[0].GetDouble();
            Assert.That((double)(float)a, Is.EqualTo(a), $"{at}: the recorded action is a float32");
            var r = env.Step([(float)a]);
            double[] expected = Doubles(step.GetProperty("state")), state = car.State;
            for (int k = 0; k < 2; k++) AssertBits(state[k], expected[k], $"{at} state[{k}]");
            AssertObs(r.Observation, Doubles(step.GetProperty("obs_f32")), $"{at} obs");
            AssertBits(r.Reward, step.GetProperty("reward").GetDouble(), $"{at} reward");
            AssertFlags(r, step, at);
        }
    }

    [Test]
    public void MakeAppliesGymnasiumsTimeLimits()
    {
        foreach (var (id, limit, type) in new[] { ("Acrobot-v1", 500, typeof(Acrobot)), ("MountainCar-v0", 200, typeof(MountainCar)), ("MountainCarContinuous-v0", 999, typeof(MountainCarContinuous)) })
        {
            using var env = Env.Make(id);
            Assert.That(((TimeLimit)env).MaxEpisodeSteps, Is.EqualTo(limit), id);
            Assert.That(env.Unwrapped, Is.InstanceOf(type), id);
            Assert.That(env.Unwrapped.Id, Is.EqualTo(id));
        }
    }

    [Test]
    public void SpacesMatchGymnasium()
    {
        var ac = new Acrobot();
        Assert.That(((Discrete)ac.ActionSpace).N, Is.EqualTo(3));
        var acObs = (Box)ac.ObservationSpace;
        Assert.That(acObs.Shape, Is.EqualTo(new[] { 6 }));
        // Gymnasium: high = np.array([1, 1, 1, 1, 4*pi, 9*pi], dtype=np.float32), low = -high.
        Assert.That(acObs.High, Is.EqualTo(new[] { 1f, 1f, 1f, 1f, 12.566371f, 28.274334f }));
        Assert.That(acObs.Low, Is.EqualTo(new[] { -1f, -1f, -1f, -1f, -12.566371f, -28.274334f }));

        foreach (Env car in new Env[] { new MountainCar(), new MountainCarContinuous() })
        {
            var obs = (Box)car.ObservationSpace;
            Assert.That(obs.Low, Is.EqualTo(new[] { -1.2f, -0.07f }), car.Id);
            Assert.That(obs.High, Is.EqualTo(new[] { 0.6f, 0.07f }), car.Id);
        }
        Assert.That(((Discrete)new MountainCar().ActionSpace).N, Is.EqualTo(3));
        var act = (Box)new MountainCarContinuous().ActionSpace;
        Assert.That((act.Dim, act.Low[0], act.High[0]), Is.EqualTo((1, -1f, 1f)));
    }

    [Test]
    public void ResetDistributionsAreGymnasiums()
    {
        var ac = new Acrobot();
        var mc = new MountainCar();
        var mcc = new MountainCarContinuous();
        double acMax = 0, mcLo = 0, mcHi = -1;
        bool mccAllFloat32 = true;
        for (int i = 0; i < 2000; i++)
        {
            int? seed = i == 0 ? 1 : null;
            ac.Reset(seed);
            foreach (double v in ac.State)
            {
                Assert.That((double)(float)v, Is.EqualTo(v), "Acrobot's reset state is .astype(np.float32)");
                acMax = Math.Max(acMax, Math.Abs(v));
            }
            mc.Reset(seed);
            Assert.That(mc.State[1], Is.EqualTo(0.0));
            mcLo = Math.Min(mcLo, mc.State[0]); mcHi = Math.Max(mcHi, mc.State[0]);
            Assert.That(mcc.Reset(seed)[1], Is.EqualTo(0f));
            mccAllFloat32 &= (double)(float)mcc.State[0] == mcc.State[0];
        }
        Assert.That(acMax, Is.InRange(0.099, 0.1));
        Assert.That(mcLo, Is.InRange(-0.6, -0.599));
        Assert.That(mcHi, Is.InRange(-0.401, -0.4));
        Assert.That(mccAllFloat32, Is.False, "MountainCarContinuous keeps its reset state in float64 until the first step");
    }

    /// <summary>The acrobot's energy: 0.5 w^T M(theta2) w + U, with Gymnasium's mass matrix M = [[d1, d2], [d2,
    /// m2 lc2^2 + I2]] and U = -(m1 lc1 + m2 l1) g cos theta1 - m2 lc2 g cos(theta1 + theta2) (theta1 = 0 hangs down);
    /// phi1 and phi2 in _dsdt are dU/dtheta1 and dU/dtheta2.</summary>
    private static double Energy(double[] s)
    {
        double c2 = Math.Cos(s[1]);
        double d1 = 0.25 + (1.25 + c2) + 2, d2 = 0.25 + 0.5 * c2 + 1, d22 = 1.25;
        double kinetic = 0.5 * (d1 * s[2] * s[2] + 2 * d2 * s[2] * s[3] + d22 * s[3] * s[3]);
        return kinetic - 1.5 * 9.8 * Math.Cos(s[0]) - 0.5 * 9.8 * Math.Cos(s[0] + s[1]);
    }

    [Test]
    public void AcrobotBookDynamicsConserveEnergyWithoutTorqueAndNipsDoNot()
    {
        // The book equations are the Lagrangian ones (with the centripetal -m2 l1 lc2 w1^2 sin theta2 term), so with
        // zero torque RK4 conserves the energy up to its truncation error; the NIPS paper drops that term.
        double Drift(AcrobotDynamics dyn)
        {
            var env = new Acrobot(dyn) { State = [0.8, 0.0, 0.0, 0.0] };
            double e0 = Energy(env.State), worst = 0;
            for (int t = 0; t < 100; t++)
            {
                var r = env.Step(1);
                Assert.That(r.Terminated, Is.False, "the swing stays below the bar");
                worst = Math.Max(worst, Math.Abs(Energy(env.State) - e0));
            }
            return worst / Math.Abs(e0);
        }
        double book = Drift(AcrobotDynamics.Book), nips = Drift(AcrobotDynamics.Nips);
        TestContext.Out.WriteLine($"relative energy drift over 100 steps: book {book:E2}, nips {nips:E2}");
        // Measured: book 7.7e-3 (RK4 at dt = 0.2 is coarse), nips 0.23.
        Assert.That(book, Is.LessThan(1.5e-2));
        Assert.That(nips, Is.GreaterThan(0.1));
    }

    [Test]
    public void AcrobotWrapsByRepeatedShiftsAndBoundsClip()
    {
        Assert.That(Acrobot.Wrap(3.5, -Math.PI, Math.PI), Is.EqualTo(3.5 - 2 * Math.PI));
        Assert.That(Acrobot.Wrap(-3.5, -Math.PI, Math.PI), Is.EqualTo(-3.5 + 2 * Math.PI));
        Assert.That(Acrobot.Wrap(Math.PI, -Math.PI, Math.PI), Is.EqualTo(Math.PI), "the bounds themselves stay");
        Assert.That(Acrobot.Wrap(15.0, -Math.PI, Math.PI), Is.EqualTo(15.0 - 2 * Math.PI - 2 * Math.PI));
        Assert.That(Acrobot.Bound(50.0, -Acrobot.MaxVel2, Acrobot.MaxVel2), Is.EqualTo(9 * Math.PI));
        Assert.That(Acrobot.Bound(-50.0, -Acrobot.MaxVel1, Acrobot.MaxVel1), Is.EqualTo(-4 * Math.PI));
    }

    [Test]
    public void AcrobotTerminatesWithRewardZeroAboveTheBar()
    {
        // Arm straight up and at rest: -cos(pi) - cos(2 pi) = 2 > 1 after one step (it barely moves).
        var env = new Acrobot { State = [Math.PI - 1e-3, 0.0, 0.0, 0.0] };
        var r = env.Step(1);
        Assert.That((r.Terminated, r.Reward), Is.EqualTo((true, 0.0)));
        env.State = [0.0, 0.0, 0.0, 0.0];
        r = env.Step(1);
        Assert.That((r.Terminated, r.Reward), Is.EqualTo((false, -1.0)));
        // At rest at the bottom without torque it stays (up to cos(-pi/2) = 6e-17, not 0, in phi1 and phi2).
        Assert.That(env.State.Max(Math.Abs), Is.LessThan(1e-14));
    }

    [Test]
    public void MountainCarContinuousChargesTheUnclippedAction()
    {
        var a = new MountainCarContinuous { State = [-0.5, 0.0] };
        var b = new MountainCarContinuous { State = [-0.5, 0.0] };
        var ra = a.Step([3f]);
        var rb = b.Step([1f]);
        Assert.That(ra.Observation, Is.EqualTo(rb.Observation), "the force is clipped to 1");
        Assert.That(ra.Reward, Is.EqualTo(-0.1 * 9).Within(1e-15));
        Assert.That(rb.Reward, Is.EqualTo(-0.1).Within(1e-15));
        Assert.That(a.State.All(v => (double)(float)v == v), "the stored state is float32 after a step");
    }

    [Test]
    public void MountainCarWallStopsTheCar()
    {
        var mc = new MountainCar { State = [-1.19, -0.05] };
        mc.Step(0);
        Assert.That(mc.State, Is.EqualTo(new[] { -1.2, 0.0 }));
        var mcc = new MountainCarContinuous { State = [-1.19, -0.05] };
        mcc.Step([-1f]);
        Assert.That(mcc.State, Is.EqualTo(new[] { (double)(float)-1.2, 0.0 }));
    }

    [Test]
    public void BadActionsThrowClearly()
    {
        foreach (string id in new[] { "Acrobot-v1", "MountainCar-v0" })
        {
            using var env = Env.Make(id);
            env.Reset(seed: 0);
            var ex = Assert.Throws<ArgumentException>(() => env.Step(3))!;
            Assert.That(ex.Message, Does.Contain(id).And.Contain("3").And.Contain("Discrete(3)"));
            Assert.Throws<ArgumentException>(() => env.Step(-1));
            Assert.That(Assert.Throws<ArgumentException>(() => env.Step([float.NaN]))!.Message, Does.Contain(id).And.Contain("NaN"));
            Assert.That(Assert.Throws<ArgumentException>(() => env.Step([1.5f]))!.Message, Does.Contain(id).And.Contain("1.5"));
            Assert.Throws<ArgumentException>(() => env.Step([1f, 0f]));
            Assert.DoesNotThrow(() => env.Step([2f]));
        }

        using var mcc = Env.Make("MountainCarContinuous-v0");
        mcc.Reset(seed: 0);
        Assert.That(Assert.Throws<ArgumentException>(() => mcc.Step([float.NaN]))!.Message, Does.Contain("MountainCarContinuous-v0").And.Contain("NaN"));
        Assert.Throws<ArgumentException>(() => mcc.Step([float.NegativeInfinity]));
        Assert.That(Assert.Throws<ArgumentException>(() => mcc.Step([0f, 0f]))!.Message, Does.Contain("1 element").And.Contain("2"));
        Assert.Throws<ArgumentException>(() => mcc.Step(ReadOnlySpan<float>.Empty));
        Assert.That(Assert.Throws<InvalidOperationException>(() => mcc.Step(1))!.Message, Does.Contain("MountainCarContinuous-v0").And.Contain("Box(-1, 1, (1))"));
        Assert.DoesNotThrow(() => mcc.Step([5f]), "out-of-box actions are Gymnasium's: the force is clipped, the reward charges a^2");
    }

    [Test]
    public void StepBeforeResetThrowsAndStatesAreValidated()
    {
        Assert.That(Assert.Throws<InvalidOperationException>(() => new Acrobot().Step(0))!.Message, Does.Contain("Reset"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => new MountainCar().Step(0))!.Message, Does.Contain("Reset"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => new MountainCarContinuous().Step([0f]))!.Message, Does.Contain("Reset"));
        Assert.Throws<ArgumentException>(() => new Acrobot().State = [0.0, 0.0]);
        Assert.Throws<ArgumentException>(() => new MountainCar().State = [0.0]);
        Assert.Throws<ArgumentException>(() => new MountainCarContinuous().State = [0.0, 0.0, 0.0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Acrobot((AcrobotDynamics)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MountainCar(double.NaN));
    }

    [Test]
    public void ZooDefaultsAreValidOptionsForEachAgent()
    {
        // Every per-env default names real options with valid values: the agent builds.
        var ids = new[] { "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0" };
        var entries = Agents.EnvDefaults.Keys.Where(k => ids.Contains(k.Env)).ToList();
        Assert.That(entries, Is.EquivalentTo(new[]
        {
            ("dqn", "Acrobot-v1"), ("ppo", "Acrobot-v1"), ("dqn", "MountainCar-v0"), ("ppo", "MountainCar-v0"),
            ("td3", "MountainCarContinuous-v0"), ("ppo", "MountainCarContinuous-v0"),
        }));
        foreach (var (algo, env) in entries)
        {
            var defaults = Agents.Defaults(algo, env);
            foreach (var (key, value) in Agents.EnvDefaults[(algo, env)])
                Assert.That(defaults[key]?.ToJsonString(), Is.EqualTo(value?.ToJsonString()), $"{algo} {env} {key}");
            Assert.DoesNotThrow(() => Agents.Create(algo, env, null, null, seed: 1, totalSteps: null), $"{algo} {env}");
        }
        Assert.That(Agents.Defaults("dqn", "Acrobot-v1")["hiddenSizes"]!.ToJsonString(), Is.EqualTo("[256,256]"));
    }

    [Test]
    public void SameSeedSameEpisode()
    {
        foreach (string id in new[] { "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0" })
        {
            List<float> Run(int seed)
            {
                using var env = Env.Make(id);
                var rng = new Rng(99);
                var trace = new List<float>(env.Reset(seed));
                for (int t = 0; t < 30; t++)
                {
                    var r = env.ActionSpace is Discrete d ? env.Step(d.Sample(rng)) : env.Step(((Box)env.ActionSpace).Sample(rng));
                    trace.AddRange(r.Observation);
                    trace.Add((float)r.Reward);
                }
                return trace;
            }
            Assert.That(Run(7), Is.EqualTo(Run(7)), id);
            Assert.That(Run(7), Is.Not.EqualTo(Run(8)), id);
        }
    }
}
