// AdEMAMix: Pagliardini, Ablin & Grangier, "The AdEMAMix Optimizer: Better, Faster, Older", arXiv 2409.03137 (2024).
// Follows the authors' PyTorch reference apple/ml-ademamix pytorch/ademamix.py (commit
// c3d73c09f1287e5c33b95189bb0aa7de0a5a7667), its alpha and beta3 warmup schedulers included. Bit-level order: the
// reference's ops under torch 1.13 on the CPU (notation of tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data:
// tests/Tiny.Tests/data/gen_golden_lit2.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of AdEMAMix (the reference's names and defaults: lr 1e-3, betas (0.9, 0.999, 0.9999), alpha 2,
/// beta3_warmup and alpha_warmup None, eps 1e-8, weight_decay 0). A warmup of 0 is the reference's None (its
/// schedulers return the final value from step 1 on for any warmup &lt;= 1); the paper's T_alpha_beta3 is both
/// warmups set to the same step count.</summary>
public sealed record AdEMAMixOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the fast EMA m1 (0: m1 is the gradient itself, no buffer).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>The slow EMA's final beta (the third of the reference's betas).</summary>
    public double Beta3 { get; init; } = 0.9999;
    /// <summary>The slow EMA's final weight in the update.</summary>
    public double Alpha { get; init; } = 2.0;
    /// <summary>Steps over which beta3 rises from beta1 (linearly in half-life), 0: none.</summary>
    public int Beta3Warmup { get; init; }
    /// <summary>Steps over which alpha rises linearly from 0, 0: none.</summary>
    public int AlphaWarmup { get; init; }
    /// <summary>Added to the bias-corrected sqrt(v) in the denominator.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay (AdamW's, scaled by lr).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Checks lr, eps, the three betas, weight_decay and alpha, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
        Check(Beta3 >= 0 && Beta3 < 1, $"Invalid beta parameter at index 2: {Py(Beta3)}", "beta3");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(Alpha >= 0, $"Invalid alpha value: {Py(Alpha)}", "alpha");
    }
}

/// <summary>
/// AdEMAMix: Adam whose numerator mixes the usual (fast) EMA with a much slower one, so gradients hundreds of steps
/// old still count. Per element, step t:
/// <code>
/// alpha_t = t &lt; T_a ? (t/T_a)*alpha : alpha                                   # alpha_warmup
/// beta3_t = t &lt; T_b ? f_inv((1 - t/T_b)*f(b1) + (t/T_b)*f(b3)) : b3           # beta3_warmup, half-life linear:
///           f(b) = ln(0.5)/ln(b + 1e-8) - 1,  f_inv(h) = 0.5^(1/(h+1))
/// m1 = b1*m1 + (1-b1)*g          (b1 = 0: m1 = g, no buffer)
/// m2 = beta3_t*m2 + (1-beta3_t)*g
/// v  = b2*v + (1-b2)*g*g
/// u  = (m1/(1 - b1^t) + alpha_t*m2) / (sqrt(v)/sqrt(1 - b2^t) + eps) + wd*p
/// p  = p - lr*u
/// </code>
/// State: exp_avg_fast (not when beta1 = 0), exp_avg_slow, exp_avg_sq.
/// </summary>
public sealed class AdEMAMix : Optimizer<AdEMAMixOptions>
{
    /// <summary>AdEMAMix over parameters as one param group, with the reference's arguments and defaults.</summary>
    public AdEMAMix(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double beta3 = 0.9999,
                    double alpha = 2.0, int beta3Warmup = 0, int alphaWarmup = 0, double eps = 1e-8, double weightDecay = 0)
        : this([new GroupSpec<AdEMAMixOptions>(parameters)], new AdEMAMixOptions(lr)
        {
            Beta1 = beta1, Beta2 = beta2, Beta3 = beta3, Alpha = alpha, Beta3Warmup = beta3Warmup, AlphaWarmup = alphaWarmup,
            Eps = eps, WeightDecay = weightDecay,
        }) { }

    /// <summary>AdEMAMix over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public AdEMAMix(IEnumerable<GroupSpec<AdEMAMixOptions>> groups, AdEMAMixOptions defaults) : base(groups, defaults) { }

    private static readonly string?[] Buffers = ["exp_avg_fast", "exp_avg_slow", "exp_avg_sq"], BuffersNoFast = [null, "exp_avg_slow", "exp_avg_sq"];

    /// <summary>The reference's linear_warmup_scheduler (alpha_start 0).</summary>
    private static double AlphaAt(long step, double alphaEnd, int warmup)
    {
        if (step >= warmup) return alphaEnd;
        double a = step / (double)warmup;
        return (1.0 - a) * 0.0 + a * alphaEnd;
    }

    /// <summary>The reference's linear_hl_warmup_scheduler (beta_start = beta1): linear in the half-life.</summary>
    private static double Beta3At(long step, double betaEnd, double betaStart, int warmup)
    {
        static double F(double beta) => Math.Log(0.5) / Math.Log(beta + 1e-8) - 1;
        static double FInv(double t) => Math.Pow(0.5, 1 / (t + 1));
        if (step >= warmup) return betaEnd;
        double a = step / (double)warmup;
        return FInv((1.0 - a) * F(betaStart) + a * F(betaEnd));
    }

    private protected override void Update<T>(Tensor p, Tensor grad, AdEMAMixOptions o, ParamGroup group, ParamState state)
    {
        bool fast = o.Beta1 != 0.0;
        var buffers = State(p, state, fast ? Buffers : BuffersNoFast, out _);
        long t = ++state.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        double alpha = AlphaAt(t, o.Alpha, o.AlphaWarmup);
        double beta3 = Beta3At(t, o.Beta3, o.Beta1, o.Beta3Warmup);
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            B3 = C<T>(beta3), OneMinusB3 = C<T>(1 - beta3), Bc1 = C<T>(bc1), Bc2Sqrt = C<T>(Math.Sqrt(bc2)), Alpha = C<T>(alpha),
            Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay), NegLr = C<T>(-o.Lr), Fast = fast,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>AdEMAMix's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the
    /// per-element step lr/(sqrt(v/(1 - b2^t)) + eps) that multiplies the mix m1/(1 - b1^t) + alpha*m2 (from a sample in
    /// a larger tensor); bias_correction1 and bias_correction2, 1 - b1^t and 1 - b2^t; alpha and beta3, this step's
    /// values of their warmup schedules; slow_ema_norm, ||m2||_2 (the slow EMA, not bias-corrected); momentum_norm,
    /// ||m1||_2 (the fast EMA; absent when b1 = 0).</summary>
    private protected override void Internals(InternalsProbe probe, AdEMAMixOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v) return;
        long t = s.Step;
        probe.AddStep(v, o.Lr, o.Eps, 1 - Math.Pow(o.Beta2, t));
        probe.AddBiasCorrections(t, o.Beta1, o.Beta2);
        probe.Add("alpha", AlphaAt(t, o.Alpha, o.AlphaWarmup));
        probe.Add("beta3", Beta3At(t, o.Beta3, o.Beta1, o.Beta3Warmup));
        if (probe.Buffer("exp_avg_slow") is { } slow) probe.Add("slow_ema_norm", InternalsProbe.Norm(slow));
        if (probe.Buffer("exp_avg_fast") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, 1-b2, this step's beta3 and 1-beta3, 1 - b1^t,
        /// sqrt(1 - b2^t), this step's alpha, eps, wd and -lr.</summary>
        public T B1, OneMinusB1, B2, OneMinusB2, B3, OneMinusB3, Bc1, Bc2Sqrt, Alpha, Eps, Wd, NegLr;
        /// <summary>Whether the fast EMA m1 is kept (beta1 != 0).</summary>
        public Flag Fast;

        /// <summary>One AdEMAMix step of one lane: p, the fast and slow EMAs m1, m2 and v updated in place from g; r and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m1, ref L m2, ref L v, ref L s3) where L : struct, ILane<L, T>
        {
            var fast = g;                                                              // b1 = 0: the gradient itself
            if (c.Fast) fast = m1 = L.Fma(L.Splat(c.OneMinusB1), g, m1 * L.Splat(c.B1));   // m1 <- b1*m1 + (1-b1)*g
            m2 = L.Fma(L.Splat(c.OneMinusB3), g, m2 * L.Splat(c.B3));                  // m2 <- b3*m2 + (1-b3)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
            var denom = L.Sqrt(v) / L.Splat(c.Bc2Sqrt) + L.Splat(c.Eps);             // sqrt(v)/sqrt(bc2) + eps
            var u = (fast / L.Splat(c.Bc1) + L.Splat(c.Alpha) * m2) / denom;          // three roundings, no FMA
            u = L.Fma(L.Splat(c.Wd), p, u);                                            // u <- u + wd*p (always, as the reference)
            p += L.Splat(c.NegLr) * u;                                                 // p <- p + (-lr*u)
        }
    }
}
