// Rprop: torch.optim.Rprop (PyTorch 1.13, single-tensor path): the iRprop- variant of Riedmiller & Braun, "A Direct
// Adaptive Method for Faster Backpropagation Learning: The RPROP Algorithm", ICNN 1993 (Igel & Husken 2000 name the
// variant). Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Rprop: torch's etas (etaminus, etaplus) and step_sizes (step_size_min, step_size_max).</summary>
public sealed record RpropOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
{
    /// <summary>Factor in (0, 1) that shrinks an element's step size when its gradient changes sign.</summary>
    public double Etaminus { get; init; } = 0.5;
    /// <summary>Factor &gt; 1 that grows an element's step size while its gradient keeps its sign.</summary>
    public double Etaplus { get; init; } = 1.2;
    /// <summary>Lower bound of every element's step size.</summary>
    public double StepSizeMin { get; init; } = 1e-6;
    /// <summary>Upper bound of every element's step size.</summary>
    public double StepSizeMax { get; init; } = 50;
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr and 0 &lt; etaminus &lt; 1 &lt; etaplus, throwing torch's message for the first that fails.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(0 < Etaminus && Etaminus < 1 && 1 < Etaplus, $"Invalid eta values: {Py(Etaminus)}, {Py(Etaplus)}", "etas");
    }
}

/// <summary>
/// Rprop, per element (only the gradient's sign is used; each element keeps its own step size, starting at lr):
/// <code>
/// g = maximize ? -grad : grad
/// s = g*prev > 0 ? etaplus : g*prev &lt; 0 ? etaminus : 1       # same sign: grow; flipped: shrink
/// step_size = clamp(step_size*s, step_size_min, step_size_max)
/// if s == etaminus: g = 0                                   # after a flip: no step, and no flip next time
/// p = p - sign(g)*step_size ;  prev = g
/// </code>
/// A NaN gradient element is skipped (its sign is 0), as in torch. State: prev, step_size.
/// </summary>
public sealed class Rprop : Optimizer<RpropOptions>
{
    /// <summary>Rprop over parameters as one param group, with torch.optim.Rprop's arguments and defaults.</summary>
    public Rprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double etaminus = 0.5, double etaplus = 1.2,
                 double stepSizeMin = 1e-6, double stepSizeMax = 50, bool maximize = false)
        : this([new GroupSpec<RpropOptions>(parameters)], new RpropOptions(lr)
        { Etaminus = etaminus, Etaplus = etaplus, StepSizeMin = stepSizeMin, StepSizeMax = stepSizeMax, Maximize = maximize }) { }

    /// <summary>Rprop over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Rprop(IEnumerable<GroupSpec<RpropOptions>> groups, RpropOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Buffers = ["prev", "step_size"];

    private protected override void Update<T>(Tensor p, Tensor grad, RpropOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Buffers, out bool fresh);
        if (fresh) p.Backend.FillInPlace(buffers[1]!, o.Lr);   // step sizes start at the lr of the step that made the state
        state.Step++;
        var map = new Map<T>
        {
            Etaminus = C<T>(o.Etaminus), Etaplus = C<T>(o.Etaplus), Min = C<T>(o.StepSizeMin), Max = C<T>(o.StepSizeMax), Maximize = o.Maximize,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Rprop's internals: at_min and at_max, the shares of elements whose step size sits at step_size_min or
    /// step_size_max (the values as the tensor's dtype holds them); step_size_mean, the mean step size (the update moves
    /// each element by its step size, or not at all); sign_flips, the share of elements whose gradient changed sign
    /// this update (step size shrunk by etaminus, no step): prev = 0 with g != 0, counted as #(g != 0) - #(prev != 0)
    /// since g = 0 leaves prev = 0 too.</summary>
    private protected override void Internals(InternalsProbe probe, RpropOptions o)
    {
        if (probe.Buffer("step_size") is not { } size || probe.Buffer("prev") is not { } prev) return;
        bool f32 = size.DType == DType.Float32;
        double min = f32 ? (float)o.StepSizeMin : o.StepSizeMin, max = f32 ? (float)o.StepSizeMax : o.StepSizeMax;
        // x <= min exactly when x < the next value up in the dtype; x >= max when x > the next value down.
        probe.Add("at_min", InternalsProbe.ShareBelow(size, f32 ? MathF.BitIncrement((float)min) : Math.BitIncrement(min)));
        probe.Add("at_max", InternalsProbe.ShareAbove(size, f32 ? MathF.BitDecrement((float)max) : Math.BitDecrement(max)));
        probe.Add("step_size_mean", InternalsProbe.Mean(size));
        probe.Add("sign_flips", InternalsProbe.ShareAbove(probe.Grad, 0, magnitude: true) - InternalsProbe.ShareAbove(prev, 0, magnitude: true));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: etaminus, etaplus and the step-size bounds.</summary>
        public T Etaminus, Etaplus, Min, Max;
        /// <summary>Whether to negate the gradient.</summary>
        public Flag Maximize;

        /// <summary>One Rprop step of one lane: p, the previous gradient and the element's step size updated in place from g; r, s2, s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L prev, ref L stepSize, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            L zero = L.FromDouble(0), etaminus = L.Splat(c.Etaminus);
            var t = g * prev;                                                          // NaN compares false: factor 1
            var factor = L.IfGreater(t, zero, L.Splat(c.Etaplus), L.IfGreater(zero, t, etaminus, L.FromDouble(1)));
            stepSize = L.Min(L.Max(stepSize * factor, L.Splat(c.Min)), L.Splat(c.Max));  // clamp(step_size*factor, min, max)
            g = L.IfGreater(factor, etaminus, g, L.IfGreater(etaminus, factor, g, zero));  // g = 0 where factor == etaminus
            p = L.Fma(-L.Sign(g), stepSize, p);                                        // p <- p - sign(g)*step_size
            prev = g;
        }
    }
}
