// Tests of CartPole-v1 and Pendulum-v1: Gymnasium reference trajectories, time limits, seeding, spaces, errors.
using System.Text.Json;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class EnvTests
{
    private const double Tol = 1e-9;

    private static readonly Lazy<JsonDocument> Reference = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "data", "gym_trajectories.json"))));

    private static JsonElement Trajectory(string env, int index) => Reference.Value.RootElement.GetProperty(env)[index];
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static IEnumerable<int> CartPoleCases => Enumerable.Range(0, 5);
    public static IEnumerable<int> PendulumCases => Enumerable.Range(0, 4);

    private static void AssertClose(double actual, double expected, string what) =>
        Assert.That(Math.Abs(actual - expected), Is.LessThanOrEqualTo(Tol + Tol * Math.Abs(expected)), $"{what}: {actual:R} vs {expected:R}");

    private static void AssertFloatWithinUlp(float actual, double expected, string what)
    {
        float e = (float)expected;
        Assert.That(e, Is.EqualTo(expected), $"{what}: reference obs_f32 is not a float32");
        long diff = Math.Abs((long)BitConverter.SingleToInt32Bits(actual) - BitConverter.SingleToInt32Bits(e));
        Assert.That(diff, Is.LessThanOrEqualTo(1), $"{what}: {actual:R} vs {e:R}");
    }

    [Test]
    public void ReferenceFileHasTheExpectedCases()
    {
        var root = Reference.Value.RootElement;
        Assert.That(root.GetProperty("cartpole").GetArrayLength(), Is.EqualTo(5));
        Assert.That(root.GetProperty("pendulum").GetArrayLength(), Is.EqualTo(4));
        Assert.That(root.GetProperty("tolerance_hint").GetDouble(), Is.EqualTo(Tol));
    }

    [TestCaseSource(nameof(CartPoleCases))]
    public void CartPoleReplaysGymnasiumTrajectory(int index)
    {
        var traj = Trajectory("cartpole", index);
        Assert.That(traj.GetProperty("env").GetString(), Is.EqualTo("CartPole-v1"));
        using var env = Env.Make("CartPole-v1");
        env.Reset(seed: 0);
        var cartPole = (CartPole)env.Unwrapped;
        cartPole.State = Doubles(traj.GetProperty("init_state"));
        double maxErr = 0;
        foreach (var step in traj.GetProperty("steps").EnumerateArray())
        {
            int t = step.GetProperty("t").GetInt32();
            var r = env.Step(step.GetProperty("action").GetInt32());
            double[] expected = Doubles(step.GetProperty("state"));
            double[] state = cartPole.State;
            double[] obs = Doubles(step.GetProperty("obs_f32"));
            for (int k = 0; k < 4; k++)
            {
                AssertClose(state[k], expected[k], $"case {index} t={t} state[{k}]");
                AssertFloatWithinUlp(r.Observation[k], obs[k], $"case {index} t={t} obs[{k}]");
                maxErr = Math.Max(maxErr, Math.Abs(state[k] - expected[k]));
            }
            Assert.That(r.Reward, Is.EqualTo(step.GetProperty("reward").GetDouble()), $"t={t} reward");
            Assert.That(r.Terminated, Is.EqualTo(step.GetProperty("terminated").GetBoolean()), $"t={t} terminated");
            Assert.That(r.Truncated, Is.EqualTo(step.GetProperty("truncated").GetBoolean()), $"t={t} truncated");
        }
        TestContext.Out.WriteLine($"cartpole case {index}: {traj.GetProperty("steps").GetArrayLength()} steps, max |state error| {maxErr:E2}");
    }

    [TestCaseSource(nameof(PendulumCases))]
    public void PendulumReplaysGymnasiumTrajectory(int index)
    {
        var traj = Trajectory("pendulum", index);
        Assert.That(traj.GetProperty("env").GetString(), Is.EqualTo("Pendulum-v1"));
        using var env = Env.Make("Pendulum-v1");
        env.Reset(seed: 0);
        var pendulum = (Pendulum)env.Unwrapped;
        pendulum.State = Doubles(traj.GetProperty("init_state"));
        double[] initObs = Doubles(traj.GetProperty("init_obs"));
        float[] o0 = pendulum.GetObservation();
        for (int k = 0; k < 3; k++) AssertFloatWithinUlp(o0[k], (float)initObs[k], $"case {index} init obs[{k}]");
        double maxErr = 0;
        foreach (var step in traj.GetProperty("steps").EnumerateArray())
        {
            int t = step.GetProperty("t").GetInt32();
            var r = env.Step([(float)step.GetProperty("u").GetDouble()]);
            double[] expected = Doubles(step.GetProperty("state"));
            double[] state = pendulum.State;
            for (int k = 0; k < 2; k++)
            {
                AssertClose(state[k], expected[k], $"case {index} t={t} state[{k}]");
                maxErr = Math.Max(maxErr, Math.Abs(state[k] - expected[k]));
            }
            double[] obs = Doubles(step.GetProperty("obs_f32"));
            for (int k = 0; k < 3; k++) AssertFloatWithinUlp(r.Observation[k], obs[k], $"case {index} t={t} obs[{k}]");
            AssertClose(r.Reward, step.GetProperty("reward").GetDouble(), $"case {index} t={t} reward");
            Assert.That(r.Terminated, Is.EqualTo(step.GetProperty("terminated").GetBoolean()), $"t={t} terminated");
            Assert.That(r.Truncated, Is.EqualTo(step.GetProperty("truncated").GetBoolean()), $"t={t} truncated");
        }
        TestContext.Out.WriteLine($"pendulum case {index}: max |state error| {maxErr:E2}");
    }

    [Test]
    public void CartPoleAfterTerminationKeepsSteppingWithRewardZero()
    {
        // Reference case 3 ends with x > 2.4 after 4 pushes right; Gymnasium then gives reward 0 while terminated.
        var traj = Trajectory("cartpole", 3);
        var env = new CartPole();
        env.State = Doubles(traj.GetProperty("init_state"));
        StepResult r = default;
        foreach (var _ in traj.GetProperty("steps").EnumerateArray()) r = env.Step(1);
        Assert.That(r is { Terminated: true, Reward: 1.0 });
        var after = env.Step(1);
        Assert.That(after.Terminated, Is.True);
        Assert.That(after.Reward, Is.EqualTo(0.0));
        Assert.That(env.Step(1).Reward, Is.EqualTo(0.0));
        env.Reset(seed: 1);
        Assert.That(env.Step(1).Reward, Is.EqualTo(1.0));
    }

    [Test]
    public void AngleNormalizeUsesFloorModulo()
    {
        Assert.That(Pendulum.AngleNormalize(0.0), Is.EqualTo(0.0));
        Assert.That(Pendulum.AngleNormalize(3 * Math.PI / 2), Is.EqualTo(-Math.PI / 2).Within(1e-12));
        Assert.That(Pendulum.AngleNormalize(-3 * Math.PI / 2), Is.EqualTo(Math.PI / 2).Within(1e-12));
        Assert.That(Pendulum.AngleNormalize(-Math.PI), Is.EqualTo(-Math.PI));
        Assert.That(Pendulum.AngleNormalize(Math.PI), Is.EqualTo(-Math.PI));
        Assert.That(Pendulum.AngleNormalize(-7.0), Is.EqualTo(-7.0 + 2 * Math.PI).Within(1e-12));
    }

    [Test]
    public void PendulumClipsTorqueAndSpeed()
    {
        var env = new Pendulum();
        env.State = [0.0, 0.0];
        var r = env.Step([10f]);
        Assert.That(env.State[1], Is.EqualTo(0.3).Within(1e-15));
        Assert.That(env.State[0], Is.EqualTo(0.015).Within(1e-15));
        Assert.That(r.Reward, Is.EqualTo(-0.004).Within(1e-15));
        env.State = [0.0, 7.99];
        env.Step([2f]);
        Assert.That(env.State[1], Is.EqualTo(8.0));
        Assert.That(env.State[0], Is.EqualTo(0.4).Within(1e-15));
    }

    // The bang-bang feedback of gym_reference.py, run closed loop on our own state: keeps the pole up for 500 steps.
    private static int Balance(float[] s) => s[2] + 0.5 * s[3] + 0.02 * s[0] + 0.05 * s[1] > 0 ? 1 : 0;

    [Test]
    public void CartPoleIsTruncatedAt500()
    {
        using var env = Env.Make("CartPole-v1");
        Assert.That(env, Is.InstanceOf<TimeLimit>());
        float[] obs = env.Reset(seed: 3);
        for (int t = 1; t <= 500; t++)
        {
            var r = env.Step(Balance(obs));
            obs = r.Observation;
            Assert.That(r.Terminated, Is.False, $"t={t}");
            Assert.That(r.Truncated, Is.EqualTo(t == 500), $"t={t}");
        }
        Assert.That(((TimeLimit)env).ElapsedSteps, Is.EqualTo(500));
        env.Reset();
        Assert.That(env.Step(Balance(obs)).Truncated, Is.False);
    }

    [Test]
    public void PendulumIsTruncatedAt200AndNeverTerminates()
    {
        using var env = Env.Make("Pendulum-v1");
        env.Reset(seed: 5);
        var rng = new Rng(5);
        var space = (Box)env.ActionSpace;
        for (int t = 1; t <= 200; t++)
        {
            var r = env.Step(space.Sample(rng));
            Assert.That(r.Terminated, Is.False);
            Assert.That(r.Truncated, Is.EqualTo(t == 200), $"t={t}");
            Assert.That(r.Reward, Is.InRange(-16.2736045, 0.0));
            Assert.That(((Box)env.ObservationSpace).Contains(r.Observation), Is.True);
        }
    }

    [Test]
    public void MakeOverridesTheStepLimit()
    {
        using var env = Env.Make("Pendulum-v1", maxEpisodeSteps: 3);
        env.Reset(seed: 1);
        Assert.That(env.Step([0f]).Truncated, Is.False);
        Assert.That(env.Step([0f]).Truncated, Is.False);
        Assert.That(env.Step([0f]).Truncated, Is.True);
    }

    [Test]
    public void SameSeedSameTrajectory()
    {
        foreach (string id in new[] { "CartPole-v1", "Pendulum-v1" })
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
                    if (r.Terminated || r.Truncated) trace.AddRange(env.Reset());
                }
                trace.AddRange(env.Reset());   // unseeded reset continues the seeded stream
                return trace;
            }
            Assert.That(Run(7), Is.EqualTo(Run(7)), id);
            Assert.That(Run(7), Is.Not.EqualTo(Run(8)), id);
        }
    }

    [Test]
    public void UnseededResetContinuesTheStream()
    {
        var a = new CartPole();
        float[] first = a.Reset(seed: 11), second = a.Reset(), third = a.Reset(seed: 11);
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(third, Is.EqualTo(first));
    }

    [Test]
    public void ResetDistributionsAreGymnasiums()
    {
        var cp = new CartPole();
        var pd = new Pendulum();
        double maxCp = 0, maxTh = 0, maxThDot = 0;
        for (int i = 0; i < 2000; i++)
        {
            cp.Reset(i == 0 ? 1 : null);
            foreach (double v in cp.State) maxCp = Math.Max(maxCp, Math.Abs(v));
            pd.Reset(i == 0 ? 1 : null);
            maxTh = Math.Max(maxTh, Math.Abs(pd.State[0]));
            maxThDot = Math.Max(maxThDot, Math.Abs(pd.State[1]));
        }
        Assert.That(maxCp, Is.InRange(0.049, 0.05));
        Assert.That(maxTh, Is.InRange(3.1, Math.PI));
        Assert.That(maxThDot, Is.InRange(0.99, 1.0));
    }

    [Test]
    public void SpacesMatchGymnasium()
    {
        var cp = new CartPole();
        Assert.That(((Discrete)cp.ActionSpace).N, Is.EqualTo(2));
        var cpObs = (Box)cp.ObservationSpace;
        Assert.That(cpObs.Shape, Is.EqualTo(new[] { 4 }));
        Assert.That(cpObs.High, Is.EqualTo(new[] { 4.8f, float.MaxValue, (float)(24 * 2 * Math.PI / 360), float.MaxValue }));
        var pd = new Pendulum();
        var act = (Box)pd.ActionSpace;
        Assert.That((act.Dim, act.Low[0], act.High[0]), Is.EqualTo((1, -2f, 2f)));
        Assert.That(((Box)pd.ObservationSpace).High, Is.EqualTo(new[] { 1f, 1f, 8f }));
        Assert.That(act.ToString(), Is.EqualTo("Box(-2, 2, (1))"));

        var rng = new Rng(0);
        var d = new Discrete(3);
        var seen = new HashSet<int>();
        for (int i = 0; i < 100; i++) { int a = d.Sample(rng); Assert.That(d.Contains(a)); seen.Add(a); }
        Assert.That(seen, Has.Count.EqualTo(3));
        Assert.That(d.Contains(3) || d.Contains(-1), Is.False);
        var box = new Box([-1f, 0f], [1f, float.PositiveInfinity], [2]);
        for (int i = 0; i < 100; i++) Assert.That(box.Contains(box.Sample(rng)));
        Assert.That(box.Contains([0f, float.NaN]) || box.Contains([2f, 0f]) || box.Contains([0f]), Is.False);
    }

    [Test]
    public void UnknownIdListsTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Env.Make("CartPole-v0"))!;
        Assert.That(ex.Message, Does.Contain("CartPole-v0").And.Contain("CartPole-v1").And.Contain("Pendulum-v1"));
        Assert.That(Env.Registered, Is.SupersetOf(new[] { "CartPole-v1", "Pendulum-v1" }));
    }

    [Test]
    public void RegisterAddsAnId()
    {
        Env.Register("Test/Pendulum-g9-v0", () => new Pendulum(9.0), maxEpisodeSteps: 7, replace: true);
        Assert.That(Env.Registered, Does.Contain("Test/Pendulum-g9-v0"));
        using var env = Env.Make("Test/Pendulum-g9-v0");
        Assert.That(((TimeLimit)env).MaxEpisodeSteps, Is.EqualTo(7));
        Assert.That(((Pendulum)env.Unwrapped).G, Is.EqualTo(9.0));
        Assert.Throws<ArgumentException>(() => Env.Register("CartPole-v1", () => new CartPole()));
    }

    [Test]
    public void BadActionsThrowClearly()
    {
        using var cp = Env.Make("CartPole-v1");
        cp.Reset(seed: 0);
        var ex = Assert.Throws<ArgumentException>(() => cp.Step(2))!;
        Assert.That(ex.Message, Does.Contain("CartPole-v1").And.Contain("2").And.Contain("Discrete(2)"));
        Assert.Throws<ArgumentException>(() => cp.Step(-1));
        Assert.That(Assert.Throws<ArgumentException>(() => cp.Step([0.5f]))!.Message, Does.Contain("CartPole-v1").And.Contain("0.5"));
        Assert.Throws<ArgumentException>(() => cp.Step([1f, 0f]));

        using var pd = Env.Make("Pendulum-v1");
        pd.Reset(seed: 0);
        Assert.That(Assert.Throws<ArgumentException>(() => pd.Step([float.NaN]))!.Message, Does.Contain("Pendulum-v1").And.Contain("NaN"));
        Assert.That(Assert.Throws<ArgumentException>(() => pd.Step([float.PositiveInfinity]))!.Message, Does.Contain("Pendulum-v1").And.Contain(float.PositiveInfinity.ToString()));
        var inv = Assert.Throws<InvalidOperationException>(() => pd.Step(1))!;
        Assert.That(inv.Message, Does.Contain("Pendulum-v1").And.Contain("Box(-2, 2, (1))"));
        Assert.Throws<ArgumentException>(() => pd.Step([0f, 0f]));
    }

    [Test]
    public void DiscreteEnvAcceptsAOneElementFloatAction()
    {
        var a = new CartPole(); var b = new CartPole();
        a.Reset(seed: 4); b.Reset(seed: 4);
        for (int t = 0; t < 5; t++)
            Assert.That(a.Step([(float)(t % 2)]).Observation, Is.EqualTo(b.Step(t % 2).Observation));
    }

    [Test]
    public void StepBeforeResetThrows()
    {
        Assert.That(Assert.Throws<InvalidOperationException>(() => new CartPole().Step(0))!.Message, Does.Contain("Reset"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => new Pendulum().Step([0f]))!.Message, Does.Contain("Reset"));
    }
}
