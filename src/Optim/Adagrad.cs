// Adagrad: torch.optim.Adagrad (PyTorch 1.13, single-tensor path, dense gradients). Duchi, Hazan & Singer, "Adaptive
// Subgradient Methods for Online Learning and Stochastic Optimization", JMLR 2011. Bit-level order:
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Adagrad (torch's names and defaults).</summary>
public sealed record AdagradOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
{
    public double LrDecay { get; init; }
    public double WeightDecay { get; init; }
    public double InitialAccumulatorValue { get; init; }
    public double Eps { get; init; } = 1e-10;
    public bool Maximize { get; init; }

    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(LrDecay >= 0, $"Invalid lr_decay value: {Py(LrDecay)}", "lr_decay");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(InitialAccumulatorValue >= 0, $"Invalid initial_accumulator_value value: {Py(InitialAccumulatorValue)}", "initial_accumulator_value");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
    }
}

/// <summary>
/// Adagrad, per element, step t:
/// <code>
/// g = maximize ? -grad : grad ;  if wd != 0: g = g + wd*p
/// clr = lr / (1 + (t-1)*lr_decay)
/// sum = sum + g*g                      # sum starts at initial_accumulator_value
/// p = p - clr * g / (sqrt(sum) + eps)
/// </code>
/// State: sum. As in torch 1.13, the sum starts at the constructor's initial_accumulator_value for every group (a
/// group's own value is kept in its options but not used).
/// </summary>
public sealed class Adagrad : Optimizer<AdagradOptions>
{
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
                   double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new GroupSpec<AdagradOptions>(parameters)], new AdagradOptions(lr)
        { LrDecay = lrDecay, WeightDecay = weightDecay, InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize }) { }

    public Adagrad(IEnumerable<GroupSpec<AdagradOptions>> groups, AdagradOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Sum = ["sum"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdagradOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Sum, out bool fresh);
        if (fresh && Defaults.InitialAccumulatorValue != 0) p.Backend.FillInPlace(buffers[0]!, Defaults.InitialAccumulatorValue);
        long t = ++state.Step;
        double clr = o.Lr / (1 + (t - 1) * o.LrDecay);
        var map = new Map<T> { Wd = C<T>(o.WeightDecay), Eps = C<T>(o.Eps), NegClr = C<T>(-clr), Maximize = o.Maximize, L2 = o.WeightDecay != 0 };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Wd, Eps, NegClr;
        public Flag Maximize, L2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L sum, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            sum = L.Fma(g, g, sum);                                                     // sum <- sum + g*g
            p += L.Splat(c.NegClr) * g / (L.Sqrt(sum) + L.Splat(c.Eps));              // p <- p - clr*g/(sqrt(sum) + eps)
        }
    }
}
