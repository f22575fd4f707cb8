// C-AdamW (cautious AdamW): Liang, Chen, Liu & Liu, "Cautious Optimizers: Improving Training with One Line of Code",
// arXiv 2411.16085 (2024). Follows the authors' reference kyleliang919/C-Optim c_adamw.py (commit
// 2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3), class AdamW with foreach=False: its single-tensor loop (the HF
// transformers AdamW with the cautious mask, rescaled by the mask's mean clamped at 1e-3). Its default foreach=True
// path is an asynchronous torch.compile kernel of a different order. Bit-level order: the reference's ops under torch
// 1.13 on the CPU (notation of tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit2.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of the references built on Hugging Face transformers' AdamW (C-AdamW here, Grams): betas, eps
/// 1e-6, decoupled weight_decay (applied when &gt; 0), correct_bias; that AdamW's checks and messages.</summary>
public abstract record TransformersAdamWOptions(double Lr) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the first-moment EMA m, in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v, in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to sqrt(v) in the denominator (before bias correction, as transformers' AdamW).</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>Decoupled weight decay p = p - lr*wd*p before the step, applied only when &gt; 0.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Adam's bias correction of the step size (false: BERT's uncorrected Adam).</summary>
    public bool CorrectBias { get; init; } = true;

    /// <summary>Checks lr, beta1, beta2 and eps, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(!(Lr < 0.0), $"Invalid learning rate: {Py(Lr)} - should be >= 0.0", "lr");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter: {Py(Beta1)} - should be in [0.0, 1.0)", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter: {Py(Beta2)} - should be in [0.0, 1.0)", "beta2");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)} - should be >= 0.0", "eps");
    }

    /// <summary>Step t's step size as the reference computes it in Python: lr * sqrt(1 - b2^t) / (1 - b1^t) with
    /// correct_bias, else lr.</summary>
    public double StepSize(long t) => CorrectBias ? Lr * Math.Sqrt(1.0 - Math.Pow(Beta2, t)) / (1.0 - Math.Pow(Beta1, t)) : Lr;

    /// <summary>The internals C-AdamW and Grams share, after step t: step_p5, step_p50, step_p95, percentiles over the
    /// tensor's elements of the per-element step step_size*bc1/(sqrt(v) + eps) that multiplies m_hat = m/bc1 (from a
    /// sample in a larger tensor); bias_correction1 and bias_correction2, bc1 = 1 - b1^t and bc2 = 1 - b2^t (both 1
    /// without correct_bias).</summary>
    internal void AddStep(InternalsProbe probe, long t, Tensor v)
    {
        double bc1 = CorrectBias ? 1 - Math.Pow(Beta1, t) : 1, bc2 = CorrectBias ? 1 - Math.Pow(Beta2, t) : 1;
        probe.AddStep(v, StepSize(t) * bc1, Eps);
        probe.Add("bias_correction1", bc1);
        probe.Add("bias_correction2", bc2);
    }
}

/// <summary>Options of C-AdamW (the reference's names, defaults and messages: lr 1e-3, betas (0.9, 0.999), eps 1e-6,
/// weight_decay 0 (decoupled; applied only when &gt; 0), correct_bias true).</summary>
public sealed record CAdamWOptions(double Lr = 1e-3) : TransformersAdamWOptions(Lr);

/// <summary>
/// C-AdamW: AdamW that takes a step only where the momentum agrees in sign with the current gradient, the kept
/// elements scaled up by the inverse of their share. Per element, step t:
/// <code>
/// if wd > 0: p = p - lr*wd*p
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g
/// mask = (m*g > 0) / max(mean over the tensor of (m*g > 0), 1e-3)   # per tensor
/// step_size = correct_bias ? lr*sqrt(1 - b2^t)/(1 - b1^t) : lr
/// p = p - step_size * (m*mask) / (sqrt(v) + eps)
/// </code>
/// The mean needs this step's m first: a counting pre-pass (<see cref="Agree{T}"/>) counts where m*g > 0, then the
/// update runs with r = that count. State: exp_avg, exp_avg_sq.
/// </summary>
public sealed class CAdamW : Optimizer<CAdamWOptions>
{
    /// <summary>C-AdamW over parameters as one param group, with the reference's arguments and defaults.</summary>
    public CAdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-6,
                  double weightDecay = 0, bool correctBias = true)
        : this([new GroupSpec<CAdamWOptions>(parameters)], new CAdamWOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, CorrectBias = correctBias }) { }

    /// <summary>C-AdamW over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public CAdamW(IEnumerable<GroupSpec<CAdamWOptions>> groups, CAdamWOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, CAdamWOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long t = ++state.Step;
        double stepSize = o.StepSize(t);
        T b1 = C<T>(o.Beta1), oneMinusB1 = C<T>(1.0 - o.Beta1);
        var map = new Map<T>
        {
            NegLrWd = C<T>(-o.Lr * o.WeightDecay), B1 = b1, OneMinusB1 = oneMinusB1, B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1.0 - o.Beta2),
            Eps = C<T>(o.Eps), NegStepSize = C<T>(-stepSize), Numel = C<T>(p.Numel), MinMean = C<T>(1e-3), Decay = o.WeightDecay > 0.0,
        };
        p.Backend.FusedMap<Map<T>, Agree<T>, T>(map, new Agree<T> { B1 = b1, OneMinusB1 = oneMinusB1 }, p.Storage, grad.Storage, buffers);
    }

    /// <summary>C-AdamW's internals: the step percentiles and bias corrections of <see cref="TransformersAdamWOptions"/>
    /// (the step before the mask); masked, the share of elements the cautious mask zeroes (m*g &lt;= 0: the momentum
    /// disagrees in sign with the gradient, or either is 0); mask_scale, 1/max(1 - masked, 1e-3), the factor the kept
    /// elements' steps are scaled up by; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, CAdamWOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v || probe.Buffer("exp_avg") is not { } m) return;
        o.AddStep(probe, s.Step, v);
        double kept = InternalsProbe.ShareSameSign(m, probe.Grad);
        probe.Add("masked", 1 - kept);
        probe.Add("mask_scale", 1 / Math.Max(kept, 1e-3));
        probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The counting pre-pass: x &lt;- m_new * g (the mask is x &gt; 0), nothing stored.</summary>
    public struct Agree<T> : IFusedMap<Agree<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>b1 and 1-b1 rounded to T, to recompute this step's m as the update will.</summary>
        public T B1, OneMinusB1;

        /// <summary>Writes (b1*m + (1-b1)*g) * g into the scratch lane x; the backend counts the lanes where it is &gt; 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<L>(in Agree<T> c, L r, ref L x, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T> =>
            x = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1)) * g;              // (b1*m + (1-b1)*g) * g, as the update computes it
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code), r = the count of m*g &gt; 0.</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: -lr*wd, b1, 1-b1, b2, 1-b2, eps, minus the step size, the tensor's element
        /// count and the floor 1e-3 of the agreeing share.</summary>
        public T NegLrWd, B1, OneMinusB1, B2, OneMinusB2, Eps, NegStepSize, Numel, MinMean;
        /// <summary>Whether to apply the decoupled decay (wd &gt; 0).</summary>
        public Flag Decay;

        /// <summary>One C-AdamW step of one lane, r = the tensor's count of m*g &gt; 0: p, m and v updated in place; s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Decay) p = L.Fma(L.Splat(c.NegLrWd), p, p);                         // p <- p + (-lr*wd)*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
            var denom = L.Sqrt(v) + L.Splat(c.Eps);                                    // sqrt(v) + eps
            var mean = L.Max(r / L.Splat(c.Numel), L.Splat(c.MinMean));                // mask.mean() = sum/numel, clamp_(min=1e-3)
            var zero = L.FromDouble(0);
            var mask = L.IfGreater(m * g, zero, L.FromDouble(1) / mean, zero);         // mask.div_(mean): 1/mean or 0
            p = L.Fma(L.Splat(c.NegStepSize), m * mask / denom, p);                    // p <- p - step_size*(m*mask)/denom
        }
    }
}
