// AdaBelief: Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients", NeurIPS
// 2020. Follows the authors' pip package adabelief_pytorch 0.2.1 as kept in juntang-zhuang/Adabelief-Optimizer
// (pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py, commit 2855178eff6776762793f915ce2c615f776a1e4b).
// Bit-level order: the reference's ops under torch 1.13 on the CPU (see the notation of
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit1.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of AdaBelief (adabelief_pytorch 0.2.x names and defaults: eps 1e-16, weight_decouple and rectify on;
/// the reference's print_change_log only prints, and is left out).</summary>
public sealed record AdaBeliefOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the gradient EMA m, in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the belief EMA s of (g - m)^2, in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to s every step and to the denominator.</summary>
    public double Eps { get; init; } = 1e-16;
    /// <summary>Weight decay coefficient wd (0: none): decoupled or an L2 term, by WeightDecouple.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Keep the running maximum of s (max_exp_avg_var) and divide by it (unrectified updates only, as the reference).</summary>
    public bool Amsgrad { get; init; }
    /// <summary>Decoupled weight decay p = p*(1 - lr*wd) (AdamW's) instead of the L2 term g + wd*p.</summary>
    public bool WeightDecouple { get; init; } = true;
    /// <summary>With WeightDecouple, decay by p*(1 - wd), independent of lr.</summary>
    public bool FixedDecay { get; init; }
    /// <summary>RAdam's rectification of the adaptive step (SGD-like steps while the variance estimate is unreliable).</summary>
    public bool Rectify { get; init; } = true;
    /// <summary>With Rectify, take momentum-SGD steps lr/(1 - b1^t)*m while rho_t &lt; 5 (otherwise no step at all).</summary>
    public bool DegeneratedToSgd { get; init; } = true;

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
/// AdaBelief: Adam whose second moment is the variance of g around its EMA ("belief"), not g^2. Per element, step t:
/// <code>
/// weight_decouple: p = p * (fixed_decay ? 1 - wd : 1 - lr*wd)      else if wd != 0: g = g + wd*p
/// m = b1*m + (1-b1)*g
/// s = b2*s + (1-b2)*(g - m)^2 ;  s = s + eps                      # eps is added to the state itself, every step
/// if amsgrad: smax = max(smax, s)
/// if not rectify:  p = p - lr/(1-b1^t) * m / (sqrt(amsgrad ? smax : s)/sqrt(1-b2^t) + eps)
/// else (RAdam's rectification; the update uses s, also with amsgrad, as in the reference):
///   rho_inf = 2/(1-b2) - 1 ;  rho_t = rho_inf - 2*t*b2^t/(1-b2^t)
///   if rho_t >= 5:              p = p - lr * sqrt((1-b2^t)(rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t)) / (1-b1^t) * m / (sqrt(s) + eps)
///   elif degenerated_to_sgd:    p = p - lr/(1-b1^t) * m
/// </code>
/// State: exp_avg, exp_avg_var (and max_exp_avg_var with amsgrad).
/// </summary>
public sealed class AdaBelief : Optimizer<AdaBeliefOptions>
{
    /// <summary>AdaBelief over parameters as one param group, with the reference's (adabelief-pytorch 0.2) arguments and defaults.</summary>
    public AdaBelief(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-16,
                     double weightDecay = 0, bool amsgrad = false, bool weightDecouple = true, bool fixedDecay = false,
                     bool rectify = true, bool degeneratedToSgd = true)
        : this([new GroupSpec<AdaBeliefOptions>(parameters)], new AdaBeliefOptions(lr)
        {
            Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, WeightDecouple = weightDecouple,
            FixedDecay = fixedDecay, Rectify = rectify, DegeneratedToSgd = degeneratedToSgd,
        }) { }

    /// <summary>AdaBelief over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public AdaBelief(IEnumerable<GroupSpec<AdaBeliefOptions>> groups, AdaBeliefOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_var"], MomentsAms = ["exp_avg", "exp_avg_var", "max_exp_avg_var"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdaBeliefOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, o.Amsgrad ? MomentsAms : Moments, out _);
        long t = ++state.Step;
        double bc2 = 1 - Math.Pow(o.Beta2, t);
        var (stepSize, adaptive, sgd, _) = StepSize(o, t);
        var map = new Map<T>
        {
            Decay = C<T>(o.FixedDecay ? 1.0 - o.WeightDecay : 1.0 - o.Lr * o.WeightDecay), Wd = C<T>(o.WeightDecay),
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Eps = C<T>(o.Eps), Bc2Sqrt = C<T>(Math.Sqrt(bc2)), NegStepSize = C<T>(-stepSize),
            Decoupled = o.WeightDecouple, L2 = !o.WeightDecouple && o.WeightDecay != 0, Amsgrad = o.Amsgrad,
            Rectified = o.Rectify, Adaptive = adaptive, Sgd = sgd,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Step t's step size (lr/(1 - b1^t) unrectified; with rectify, the reference's Python scalars in its order,
    /// as its per-group cache of (N_sma, step_size) by step holds them), whether the rectified step is adaptive
    /// (rho_t &gt;= 5), whether it is momentum SGD instead, and rho_t (NaN without rectify).</summary>
    private static (double StepSize, bool Adaptive, bool Sgd, double RhoT) StepSize(AdaBeliefOptions o, long t)
    {
        if (!o.Rectify) return (o.Lr / (1 - Math.Pow(o.Beta1, t)), true, false, double.NaN);
        double beta2T = Math.Pow(o.Beta2, t);
        double nSmaMax = 2 / (1 - o.Beta2) - 1;
        double nSma = nSmaMax - 2 * t * beta2T / (1 - beta2T);
        bool adaptive = nSma >= 5;
        double stepSize = adaptive ? Math.Sqrt((1 - beta2T) * (nSma - 4) / (nSmaMax - 4) * (nSma - 2) / nSma * nSmaMax / (nSmaMax - 2)) / (1 - Math.Pow(o.Beta1, t))
            : o.DegeneratedToSgd ? 1.0 / (1 - Math.Pow(o.Beta1, t)) : -1;
        return (stepSize * o.Lr, adaptive, !adaptive && stepSize > 0, nSma);   // -step_size * lr is the value the reference passes
    }

    /// <summary>AdaBelief's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the
    /// per-element step that multiplies m_hat = m/(1 - b1^t) (from a sample in a larger tensor): unrectified
    /// lr/(sqrt(s/(1 - b2^t)) + eps) (s: smax with AMSGrad); rectified and adaptive
    /// lr*rect*sqrt(1 - b2^t)/(sqrt(s) + eps); before that lr (momentum SGD) or 0 (no step without degenerated_to_sgd);
    /// s holds the eps added every step. bias_correction1 and bias_correction2, 1 - b1^t and 1 - b2^t; with rectify,
    /// rectified (1 once rho_t &gt;= 5, else 0) and rho_t; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdaBeliefOptions o)
    {
        if (probe.State is not { } st || probe.Buffer(o.Amsgrad && !o.Rectify ? "max_exp_avg_var" : "exp_avg_var") is not { } s) return;
        long t = st.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        var (stepSize, adaptive, sgd, rhoT) = StepSize(o, t);
        if (!o.Rectify) probe.AddStep(s, o.Lr, o.Eps, bc2);
        else if (adaptive) probe.AddStep(s, stepSize * bc1, o.Eps);
        else probe.AddPercentiles("step", [sgd ? o.Lr : 0]);
        probe.AddBiasCorrections(t, o.Beta1, o.Beta2);
        if (o.Rectify)
        {
            probe.Add("rectified", adaptive ? 1 : 0);
            probe.Add("rho_t", rhoT);
        }
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: the decoupled decay factor, wd, b1, 1-b1, b2, 1-b2, eps, sqrt(1 - b2^t)
        /// and minus the step size (rectified or lr/(1 - b1^t)).</summary>
        public T Decay, Wd, B1, OneMinusB1, B2, OneMinusB2, Eps, Bc2Sqrt, NegStepSize;
        /// <summary>Switches: decoupled decay, L2 term, AMSGrad, rectification on, this step adaptive (rho_t &gt;= 5), this step plain SGD.</summary>
        public Flag Decoupled, L2, Amsgrad, Rectified, Adaptive, Sgd;

        /// <summary>One AdaBelief step of one lane: p, m, s (and smax with AMSGrad) updated in place from g; r and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L s, ref L smax, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Decoupled) p *= L.Splat(c.Decay);                                    // p <- p*(1 - lr*wd) or p*(1 - wd)
            else if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                             // g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            var res = g - m;                                                            // grad_residual
            s = L.Fma(L.Splat(c.OneMinusB2) * res, res, s * L.Splat(c.B2));            // s <- b2*s + (1-b2)*res^2
            var eps = L.Splat(c.Eps);
            s += eps;                                                                   // exp_avg_var.add_(eps), in place
            var si = s;
            if (c.Amsgrad) si = smax = L.Max(smax, s);                                 // smax <- max(smax, s)
            if (!c.Rectified)
                p += L.Splat(c.NegStepSize) * m / (L.Sqrt(si) / L.Splat(c.Bc2Sqrt) + eps);   // addcdiv: p + (-step*m)/denom
            else if (c.Adaptive)
                p += L.Splat(c.NegStepSize) * m / (L.Sqrt(s) + eps);                   // addcdiv with denom sqrt(s) + eps
            else if (c.Sgd)
                p = L.Fma(L.Splat(c.NegStepSize), m, p);                               // p <- p - step*m
        }
    }
}
