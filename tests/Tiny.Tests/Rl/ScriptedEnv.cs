// ScriptedEnv: a deterministic toy env for wrapper and vector-env tests, whose observations say where it is.
using Tiny.Rl;

namespace Tiny.Tests.Rl;

/// <summary>
/// Observation [100*Index + Resets, t]; reward t + 0.5*action; terminated when t reaches Length (0: never).
/// Resets counts Reset calls (the first episode is 1); LastSeed is the seed of the last Reset.
/// </summary>
internal sealed class ScriptedEnv(int index, int length, Func<int, double>? reward = null) : Env("Test/Scripted-v0")
{
    private static readonly Box Obs = new(float.NegativeInfinity, float.PositiveInfinity, 2);
    private static readonly Discrete Act = new(2);
    private int _t;

    public int Index { get; } = index;
    public int Length { get; } = length;
    public int Resets { get; private set; }
    public int? LastSeed { get; private set; }
    public bool Disposed { get; private set; }

    public override Space ObservationSpace => Obs;
    public override Space ActionSpace => Act;

    public override float[] Reset(int? seed = null)
    {
        LastSeed = seed; Resets++; _t = 0;
        return [100 * Index + Resets, 0];
    }

    public override StepResult Step(int action)
    {
        if (!Act.Contains(action)) throw new ArgumentException($"{Id}: action {action} is not in {Act}");
        _t++;
        double r = reward?.Invoke(_t) ?? _t + 0.5 * action;
        return new StepResult([100 * Index + Resets, _t], r, Length > 0 && _t >= Length, false);
    }

    public override void Dispose() { Disposed = true; base.Dispose(); }
}
