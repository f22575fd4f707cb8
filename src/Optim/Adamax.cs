// Adamax: torch.optim.Adamax (PyTorch 1.13, single-tensor path). Kingma & Ba, "Adam: A Method for Stochastic
// Optimization", ICLR 2015, section 7.1. Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Adamax (torch's names and defaults).</summary>
public sealed record AdamaxOptions(double Lr = 2e-3) : AdamFamilyOptions(Lr)
{
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }
}

/// <summary>
/// Adamax (Adam under the infinity norm), per element, step t:
/// <code>
/// g = maximize ? -grad : grad ;  if wd != 0: g = g + wd*p
/// m = b1*m + (1-b1)*g
/// u = max(b2*u, |g| + eps)              # NaN on either side propagates
/// p = p - lr/(1 - b1^t) * m / u
/// </code>
/// State: exp_avg, exp_inf.
/// </summary>
public sealed class Adamax : Optimizer<AdamaxOptions>
{
    /// <summary>Adamax over parameters as one param group, with torch.optim.Adamax's arguments and defaults.</summary>
    public Adamax(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                  double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<AdamaxOptions>(parameters)], new AdamaxOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>Adamax over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Adamax(IEnumerable<GroupSpec<AdamaxOptions>> groups, AdamaxOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_inf"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdamaxOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long t = ++state.Step;
        double clr = o.Lr / (1 - Math.Pow(o.Beta1, t));                      // lr / (1 - b1^t)
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay),
            NegClr = C<T>(-clr), Maximize = o.Maximize, L2 = o.WeightDecay != 0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Adamax's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/u that multiplies m_hat = m/(1 - b1^t), u the infinity-norm accumulator exp_inf (from a sample in a larger
    /// tensor); bias_correction1, 1 - b1^t; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdamaxOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_inf") is not { } u) return;
        probe.AddPercentiles("step", InternalsProbe.Sample(u), x => o.Lr / x);
        probe.Add("bias_correction1", 1 - Math.Pow(o.Beta1, s.Step));
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, eps, wd and -lr/(1 - b1^t).</summary>
        public T B1, OneMinusB1, B2, Eps, Wd, NegClr;
        /// <summary>Switches: negate the gradient, add the L2 term wd*p.</summary>
        public Flag Maximize, L2;

        /// <summary>One Adamax step of one lane: p, exp_avg m and exp_inf u updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L u, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            u = L.Max(u * L.Splat(c.B2), L.Abs(g) + L.Splat(c.Eps));                   // u <- max(b2*u, |g| + eps)
            p += L.Splat(c.NegClr) * m / u;                                             // p <- p - clr*m/u
        }
    }
}
