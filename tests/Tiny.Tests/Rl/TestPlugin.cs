// TestPlugin: what a user's plugin assembly (tiny ... --assembly MyEnvs.dll) holds, here in the test assembly: two small
// envs, a discrete and a continuous walk to a goal, and networks for the agents (an MLP, a Module type of our own, and
// one whose output has the wrong size).
using System.Text.Json.Nodes;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

/// <summary>Registers the test envs and networks (once per process: Plugins.Load runs it).</summary>
public sealed class TestPlugin : ITinyPlugin
{
    public const string Walk = "Test/Walk-v0", WalkContinuous = "Test/WalkContinuous-v0";
    /// <summary>An MLP of built-in layers (exportable to ONNX).</summary>
    public const string MlpNet = "test-mlp";
    /// <summary>A network of our own Module type (trains, saves, loads; not exportable).</summary>
    public const string OwnNet = "test-own";
    /// <summary>One output too many.</summary>
    public const string WrongSizeNet = "test-wrong-size";

    public void Register()
    {
        Env.Register(Walk, () => new WalkEnv(), maxEpisodeSteps: 20);
        Env.Register(WalkContinuous, () => new WalkContinuousEnv(), maxEpisodeSteps: 30);
        Networks.Register(MlpNet, ctx => Mlp.Create([ctx.InputSize, 16, ctx.OutputSize], () => new Tanh(), ctx.Rng));
        Networks.Register(OwnNet, ctx => new TwoLayerNet(ctx.InputSize, 16, ctx.OutputSize, ctx.Rng));
        Networks.Register(WrongSizeNet, ctx => Mlp.Create([ctx.InputSize, 8, ctx.OutputSize + 1], () => new Tanh(), ctx.Rng));
    }

    /// <summary>Registers them in this process (the test assembly as a plugin) and returns its file.</summary>
    public static string Load()
    {
        Plugins.Load(typeof(TestPlugin).Assembly);
        return typeof(TestPlugin).Assembly.Location;
    }
}

/// <summary>A user's own network type: Linear -> tanh -> Linear written as code (its Forward is not a Sequential).</summary>
public sealed class TwoLayerNet : Module
{
    private readonly Linear _in, _out;

    public TwoLayerNet(int inputs, int hidden, int outputs, Rng rng)
    {
        _in = RegisterModule("input", new Linear(inputs, hidden, rng));
        _out = RegisterModule("output", new Linear(hidden, outputs, rng));
    }

    public override Tensor Forward(Tensor x) => _out.Forward(_in.Forward(x).Tanh());
}

/// <summary>
/// Positions 0..5, starting at 0 or 1 (the env's generator), the goal at 5: actions 0 left, 1 stay, 2 right; reward 1
/// on reaching the goal (terminated), else -0.05; the observation is the position one-hot. Best return from 0: 0.8.
/// </summary>
public sealed class WalkEnv() : Env(TestPlugin.Walk)
{
    public const int Size = 6;
    private static readonly Box Obs = new(0f, 1f, Size);
    private static readonly Discrete Act = new(3);
    private int _x;

    public override Space ObservationSpace => Obs;
    public override Space ActionSpace => Act;

    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _x = Rng.NextInt(2);
        return Observe();
    }

    public override StepResult Step(int action)
    {
        if (!Act.Contains(action)) throw new ArgumentException($"{Id}: action {action} is not in {Act}");
        _x = Math.Clamp(_x + action - 1, 0, Size - 1);
        bool goal = _x == Size - 1;
        return new StepResult(Observe(), goal ? 1.0 : -0.05, goal, false);
    }

    private float[] Observe()
    {
        var o = new float[Size];
        o[_x] = 1;
        return o;
    }

    protected override void WriteState(JsonObject state) => state["x"] = _x;
    protected override void ReadState(JsonObject state) => _x = state["x"]!.GetValue<int>();
}

/// <summary>
/// x in [-1, 1] from U(-0.2, 0.2), one action a in [-1, 1]: x += 0.2 a; reward 1 on reaching x >= 0.9 (terminated),
/// else -0.05 - 0.01 a^2; the observation is [x].
/// </summary>
public sealed class WalkContinuousEnv() : Env(TestPlugin.WalkContinuous)
{
    private static readonly Box Obs = new(-1f, 1f, 1);
    private static readonly Box Act = new(-1f, 1f, 1);
    private float _x;

    public override Space ObservationSpace => Obs;
    public override Space ActionSpace => Act;

    public override float[] Reset(int? seed = null)
    {
        Reseed(seed);
        _x = (float)Rng.Uniform(-0.2, 0.2);
        return [_x];
    }

    public override StepResult Step(ReadOnlySpan<float> action)
    {
        if (action.Length != 1 || !float.IsFinite(action[0])) throw new ArgumentException($"{Id}: one finite action expected");
        float a = Math.Clamp(action[0], -1f, 1f);
        _x = Math.Clamp(_x + 0.2f * a, -1f, 1f);
        bool goal = _x >= 0.9f;
        return new StepResult([_x], goal ? 1.0 : -0.05 - 0.01 * a * a, goal, false);
    }

    protected override void WriteState(JsonObject state) => state["x"] = _x;
    protected override void ReadState(JsonObject state) => _x = state["x"]!.GetValue<float>();
}
