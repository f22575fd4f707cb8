// Adagrad: torch.optim.Adagrad (PyTorch 1.13, single-tensor path, dense gradients). Duchi, Hazan & Singer, "Adaptive
// Subgradient Methods for Online Learning and Stochastic Optimization", JMLR 2011. Bit-level order:
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Adagrad (torch's names and defaults).</summary>
public sealed record AdagradOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
{
    /// <summary>Learning-rate decay: step t uses lr / (1 + (t-1)*lr_decay).</summary>
    public double LrDecay { get; init; }
    /// <summary>L2 penalty coefficient: wd*p is added to the gradient (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Starting value of the sum of squared gradients (the constructor's value applies to every group, as torch 1.13).</summary>
    public double InitialAccumulatorValue { get; init; }
    /// <summary>Added to sqrt(sum) in the denominator.</summary>
    public double Eps { get; init; } = 1e-10;
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, lr_decay, weight_decay, initial_accumulator_value and eps, throwing torch's message for the first invalid one.</summary>
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
    /// <summary>Adagrad over parameters as one param group, with torch.optim.Adagrad's arguments and defaults.</summary>
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
                   double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new GroupSpec<AdagradOptions>(parameters)], new AdagradOptions(lr)
        { LrDecay = lrDecay, WeightDecay = weightDecay, InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize }) { }

    /// <summary>Adagrad over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
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

    /// <summary>Adagrad's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step clr/(sqrt(sum) + eps), clr = lr/(1 + (t-1)*lr_decay), that multiplies g (from a sample in a larger tensor):
    /// it only falls, as the sum of squared gradients grows; sum_norm, ||sum||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdagradOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("sum") is not { } sum) return;
        probe.AddStep(sum, o.Lr / (1 + (s.Step - 1) * o.LrDecay), o.Eps);
        probe.Add("sum_norm", InternalsProbe.Norm(sum));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: wd, eps and -lr/(1 + (t-1)*lr_decay).</summary>
        public T Wd, Eps, NegClr;
        /// <summary>Switches: negate the gradient, add the L2 term wd*p.</summary>
        public Flag Maximize, L2;

        /// <summary>One Adagrad step of one lane: p and the sum of squares updated in place from g; r, s1, s2 and s3 unused.</summary>
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
