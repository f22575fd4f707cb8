// LaProp: Ziyin, Wang & Ueda, "LaProp: Separating Momentum and Adaptivity in Adam", arXiv 2002.04839 (2020). Follows
// the authors' reference Z-T-WANG/LaProp-Optimizer laprop.py (commit a419916505bfb5d6a55f6b7b0ae14eb401b3be12).
// Bit-level order: the reference's ops under torch 1.13 on the CPU (see the notation of
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit1.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of LaProp (the reference's names and defaults: lr 4e-4, betas (0.9, 0.999), eps 1e-15).</summary>
public sealed record LaPropOptions(double Lr = 4e-4) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the momentum m of the normalised steps, in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v (and of mg when centered), in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to the bias-corrected RMS in the denominator.</summary>
    public double Eps { get; init; } = 1e-15;
    /// <summary>Weight decay p = p - wd*p after the step, not scaled by lr (as the reference; 0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Normalise by the running maximum of the second moment (adds max_exp_avg_sq).</summary>
    public bool Amsgrad { get; init; }
    /// <summary>Normalise by the variance v - mg^2 instead of v after the first 10 steps (adds exp_mean_avg_beta2).</summary>
    public bool Centered { get; init; }

    /// <summary>Checks lr, eps, beta1 and beta2, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
    }
}

/// <summary>
/// LaProp: the gradient is normalised by the RMS first, and the momentum averages the normalised steps (Adam's order
/// reversed). Per element, step t:
/// <code>
/// v = b2*v + (1-b2)*g*g
/// lr1 = b1*lr1 + (1-b1)*lr ;  lr2 = b2*lr2 + (1-b2)        # per tensor, in double: the bias corrections (lr may vary)
/// d = v
/// if centered: mg = b2*mg + (1-b2)*g ;  if t > 10: d = v - mg^2
/// if amsgrad (and not centered with t &lt;= 10): vmax = max(vmax, d) ;  d = vmax
/// m = b1*m + (1-b1)*lr * g / (sqrt(d / lr2) + eps)
/// p = p - (lr / lr1) * m                                  # lr/lr1 = 1 when lr = 0
/// if wd != 0: p = p - wd*p                                # not scaled by lr, as in the reference
/// </code>
/// State: exp_avg, exp_avg_sq, exp_mean_avg_beta2 (centered), max_exp_avg_sq (amsgrad); scalars exp_avg_lr_1, exp_avg_lr_2.
/// </summary>
public sealed class LaProp : Optimizer<LaPropOptions>
{
    /// <summary>Steps before the centered second moment is used (the reference's steps_before_using_centered).</summary>
    public const int StepsBeforeUsingCentered = 10;

    /// <summary>LaProp over parameters as one param group, with the reference's arguments and defaults.</summary>
    public LaProp(IEnumerable<Tensor> parameters, double lr = 4e-4, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-15,
                  double weightDecay = 0, bool amsgrad = false, bool centered = false)
        : this([new GroupSpec<LaPropOptions>(parameters)], new LaPropOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Centered = centered }) { }

    /// <summary>LaProp over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public LaProp(IEnumerable<GroupSpec<LaPropOptions>> groups, LaPropOptions defaults) : base(groups, defaults) { }

    private static readonly string?[] Plain = ["exp_avg", "exp_avg_sq", null, null],
        CenteredOnly = ["exp_avg", "exp_avg_sq", "exp_mean_avg_beta2", null],
        Ams = ["exp_avg", "exp_avg_sq", null, "max_exp_avg_sq"],
        CenteredAms = ["exp_avg", "exp_avg_sq", "exp_mean_avg_beta2", "max_exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, LaPropOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, o.Centered ? (o.Amsgrad ? CenteredAms : CenteredOnly) : (o.Amsgrad ? Ams : Plain), out _);
        long t = ++state.Step;
        // The reference's per-tensor Python floats, in its order.
        double lr1 = state.Scalars.GetValueOrDefault("exp_avg_lr_1") * o.Beta1 + (1 - o.Beta1) * o.Lr;
        double lr2 = state.Scalars.GetValueOrDefault("exp_avg_lr_2") * o.Beta2 + (1 - o.Beta2);
        state.Scalars["exp_avg_lr_1"] = lr1;
        state.Scalars["exp_avg_lr_2"] = lr2;
        double bc1 = o.Lr != 0 ? lr1 / o.Lr : 1.0;
        double stepSize = 1 / bc1;
        bool useCentered = o.Centered && t > StepsBeforeUsingCentered;
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1Lr = C<T>((1 - o.Beta1) * o.Lr), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Bc2 = C<T>(lr2), Eps = C<T>(o.Eps), NegStepSize = C<T>(-stepSize), NegWd = C<T>(-o.WeightDecay),
            Centered = o.Centered, UseCentered = useCentered, Amsgrad = o.Amsgrad && !(o.Centered && t <= StepsBeforeUsingCentered),
            Wd = o.WeightDecay != 0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>LaProp's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/(sqrt(d/lr2) + eps) by which the gradient enters the momentum (d: v; v - mg^2 once centered; vmax with
    /// AMSGrad), from a sample in a larger tensor (v and mg sampled at the same elements); bias_correction1, lr1/lr (the
    /// momentum's, 1 when lr = 0), and bias_correction2, lr2 (the second moment's); momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, LaPropOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v) return;
        bool centered = o.Centered && s.Step > StepsBeforeUsingCentered, amsgrad = o.Amsgrad && !(o.Centered && s.Step <= StepsBeforeUsingCentered);
        double bc2 = s.Scalars.GetValueOrDefault("exp_avg_lr_2");
        double[] d = InternalsProbe.Sample(amsgrad ? probe.Buffer("max_exp_avg_sq")! : v);
        if (centered && !amsgrad)
        {
            var mg = InternalsProbe.Sample(probe.Buffer("exp_mean_avg_beta2")!);
            for (int i = 0; i < d.Length; i++) d[i] -= mg[i] * mg[i];                   // v - mg^2
        }
        probe.AddPercentiles("step", d, x => o.Lr / (Math.Sqrt(x / bc2) + o.Eps));
        probe.Add("bias_correction1", o.Lr != 0 ? s.Scalars.GetValueOrDefault("exp_avg_lr_1") / o.Lr : 1.0);
        probe.Add("bias_correction2", bc2);
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, (1-b1)*lr, b2, 1-b2, the second-moment bias correction lr2, eps,
        /// -lr/lr1 and -wd.</summary>
        public T B1, OneMinusB1Lr, B2, OneMinusB2, Bc2, Eps, NegStepSize, NegWd;
        /// <summary>Switches: keep mg, use v - mg^2 this step, take the running maximum, apply weight decay.</summary>
        public Flag Centered, UseCentered, Amsgrad, Wd;

        /// <summary>One LaProp step of one lane: p, m, v (mg when centered, vmax with AMSGrad) updated in place from g; r unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L mg, ref L vmax) where L : struct, ILane<L, T>
        {
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g (addcmul)
            var d = v;
            if (c.Centered)
            {
                mg = L.Fma(L.Splat(c.OneMinusB2), g, mg * L.Splat(c.B2));              // mg <- b2*mg + (1-b2)*g
                if (c.UseCentered) d = v - mg * mg;                                     // v - mg**2
            }
            if (c.Amsgrad) d = vmax = L.Max(vmax, d);                                  // vmax <- max(vmax, d)
            var denom = L.Sqrt(d / L.Splat(c.Bc2)) + L.Splat(c.Eps);                   // sqrt(d / lr2) + eps
            m = L.Fma(L.Splat(c.OneMinusB1Lr), g / denom, m * L.Splat(c.B1));          // m <- b1*m + (1-b1)*lr * g/denom
            p = L.Fma(L.Splat(c.NegStepSize), m, p);                                   // p <- p - m/bc1
            if (c.Wd) p = L.Fma(L.Splat(c.NegWd), p, p);                               // p <- p - wd*p
        }
    }
}
