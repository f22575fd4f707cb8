// Grams: Cao, Li & Song, "Grams: Gradient Descent with Adaptive Momentum Scaling", arXiv 2412.17107 (ICLR 2025
// SCOPE workshop). Follows the authors' reference Gunale0926/Grams grams/src/grams.py (commit
// f91a375daaa85c5a4644e3f064ca6693c59f6cdb; pip grams-pytorch). Bit-level order: the reference's ops under torch 1.13
// on the CPU (notation of tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit2.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Grams (the reference's names, defaults and messages: lr 1e-3, betas (0.9, 0.999), eps 1e-6,
/// weight_decay 0 (decoupled; applied only when &gt; 0), correct_bias true).</summary>
public sealed record GramsOptions(double Lr = 1e-3) : TransformersAdamWOptions(Lr);

/// <summary>
/// Grams: Adam's magnitude |m|/(sqrt(v)+eps), the current gradient's direction. Per element, step t:
/// <code>
/// if wd > 0: p = p - lr*wd*p                                  # decoupled decay first
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g
/// step_size = correct_bias ? lr*sqrt(1 - b2^t)/(1 - b1^t) : lr
/// p = p - step_size * sign(g)*|m| / (sqrt(v) + eps)
/// </code>
/// State: exp_avg, exp_avg_sq. (The reference also overwrites p.grad with sign(g)*|m|; this one leaves the gradient as it is.)
/// </summary>
public sealed class Grams : Optimizer<GramsOptions>
{
    /// <summary>Grams over parameters as one param group, with the reference's arguments and defaults.</summary>
    public Grams(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-6,
                 double weightDecay = 0, bool correctBias = true)
        : this([new GroupSpec<GramsOptions>(parameters)], new GramsOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, CorrectBias = correctBias }) { }

    /// <summary>Grams over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Grams(IEnumerable<GroupSpec<GramsOptions>> groups, GramsOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, GramsOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long t = ++state.Step;
        double stepSize = o.StepSize(t);
        var map = new Map<T>
        {
            NegLrWd = C<T>(-o.Lr * o.WeightDecay), B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1.0 - o.Beta1),
            B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1.0 - o.Beta2), Eps = C<T>(o.Eps), NegStepSize = C<T>(-stepSize),
            Decay = o.WeightDecay > 0.0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Grams' internals: the step percentiles and bias corrections of <see cref="TransformersAdamWOptions"/>;
    /// momentum_agree, the share of elements whose momentum m has the gradient's sign (m*g &gt; 0): there Grams steps as
    /// Adam would, elsewhere it turns Adam's step around to follow -g (its step always has the sign of -g);
    /// momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, GramsOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v || probe.Buffer("exp_avg") is not { } m) return;
        o.AddStep(probe, s.Step, v);
        probe.Add("momentum_agree", InternalsProbe.ShareSameSign(m, probe.Grad));
        probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: -lr*wd, b1, 1-b1, b2, 1-b2, eps and minus the step size.</summary>
        public T NegLrWd, B1, OneMinusB1, B2, OneMinusB2, Eps, NegStepSize;
        /// <summary>Whether to apply the decoupled decay (wd &gt; 0).</summary>
        public Flag Decay;

        /// <summary>One Grams step of one lane: p, m and v updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Decay) p = L.Fma(L.Splat(c.NegLrWd), p, p);                         // p <- p + (-lr*wd)*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
            var denom = L.Sqrt(v) + L.Splat(c.Eps);                                    // sqrt(v) + eps
            var d = L.Sign(g) * L.Abs(m);                                              // sign(g)*|m| (exact)
            p += L.Splat(c.NegStepSize) * d / denom;                                   // addcdiv_: p + (-step_size*d)/denom
        }
    }
}
