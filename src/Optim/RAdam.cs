// RAdam: torch.optim.RAdam (PyTorch 1.13, single-tensor path). Liu et al., "On the Variance of the Adaptive Learning
// Rate and Beyond", ICLR 2020. Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of RAdam (torch 1.13's names and defaults; 1.13 has no maximize).</summary>
public sealed record RAdamOptions(double Lr = 1e-3) : AdamFamilyOptions(Lr);

/// <summary>
/// RAdam, per element, step t:
/// <code>
/// if wd != 0: g = g + wd*p
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g ;  m_hat = m / (1 - b1^t)
/// rho_inf = 2/(1-b2) - 1 ;  rho_t = rho_inf - 2*t*b2^t/(1 - b2^t)
/// if rho_t > 5:  rect = sqrt((rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t))
///                p = p - m_hat*lr * (sqrt(1 - b2^t) / (sqrt(v) + eps)) * rect
/// else:          p = p - m_hat*lr                  # variance not yet tractable: momentum SGD
/// </code>
/// State: exp_avg, exp_avg_sq.
/// </summary>
public sealed class RAdam : Optimizer<RAdamOptions>
{
    /// <summary>RAdam over parameters as one param group, with torch.optim.RAdam's arguments and defaults.</summary>
    public RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : this([new GroupSpec<RAdamOptions>(parameters)], new RAdamOptions(lr) { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay }) { }

    /// <summary>RAdam over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public RAdam(IEnumerable<GroupSpec<RAdamOptions>> groups, RAdamOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, RAdamOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long t = ++state.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        var (_, rectified, rect) = Rectification(o, t);
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Bc1 = C<T>(bc1), SqrtBc2 = C<T>(Math.Sqrt(bc2)), Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay), Lr = C<T>(o.Lr),
            Rect = C<T>(rect), L2 = o.WeightDecay != 0, Rectified = rectified,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Step t's rho_t = rho_inf - 2*t*b2^t/(1 - b2^t) (rho_inf = 2/(1-b2) - 1), whether it passes 5 (the variance
    /// of the adaptive step is tractable: the rectified branch), and the rectification term there (0 otherwise).</summary>
    private static (double RhoT, bool Rectified, double Rect) Rectification(RAdamOptions o, long t)
    {
        double rhoInf = 2 / (1 - o.Beta2) - 1;
        double rhoT = rhoInf - 2 * t * Math.Pow(o.Beta2, t) / (1 - Math.Pow(o.Beta2, t));
        bool rectified = rhoT > 5.0;
        return (rhoT, rectified, rectified ? Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0);
    }

    /// <summary>RAdam's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step that multiplies m_hat = m/(1 - b1^t): lr*rect*sqrt(1 - b2^t)/(sqrt(v) + eps) on the rectified branch, lr
    /// (momentum SGD, all three equal) before it (from a sample in a larger tensor); rectified, 1 on the rectified branch
    /// (rho_t &gt; 5), else 0; rho_t; bias_correction1 and bias_correction2, 1 - b1^t and 1 - b2^t; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, RAdamOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v) return;
        var (rhoT, rectified, rect) = Rectification(o, s.Step);
        double bc2 = 1 - Math.Pow(o.Beta2, s.Step);
        if (rectified) probe.AddStep(v, o.Lr * rect * Math.Sqrt(bc2), o.Eps);
        else probe.AddPercentiles("step", [o.Lr]);
        probe.Add("rectified", rectified ? 1 : 0);
        probe.Add("rho_t", rhoT);
        probe.AddBiasCorrections(s.Step, o.Beta1, o.Beta2);
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, 1-b2, 1 - b1^t, sqrt(1 - b2^t), eps, wd, lr and the rectification term.</summary>
        public T B1, OneMinusB1, B2, OneMinusB2, Bc1, SqrtBc2, Eps, Wd, Lr, Rect;
        /// <summary>Switches: add the L2 term wd*p, take the rectified adaptive step (rho_t &gt; 5) rather than momentum SGD.</summary>
        public Flag L2, Rectified;

        /// <summary>One RAdam step of one lane: p, m and v updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
            var step = m / L.Splat(c.Bc1) * L.Splat(c.Lr);                             // m_hat*lr (a true division by bc1)
            if (c.Rectified)
            {
                var adaptive = L.FromDouble(1.0) / (L.Sqrt(v) + L.Splat(c.Eps)) * L.Splat(c.SqrtBc2);   // torch: reciprocal, then times sqrt(bc2)
                step = step * adaptive * L.Splat(c.Rect);                              // left to right, one rounding each
            }
            p -= step;
        }
    }
}
