// AdaBound / AMSBound and AdaBoundW: Luo, Xiong, Liu, Sun, "Adaptive Gradient Methods with Dynamic Bound of
// Learning Rate", ICLR 2019; the official code (github.com/Luolc/AdaBound), not the paper's pseudo-code.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of AdaBound. Decoupled = the official AdaBoundW class (p &lt;- p - eta*m - wd*p).</summary>
public sealed record AdaBoundOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the first-moment EMA m, in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v, in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>The SGD learning rate the bounds converge to (scaled by lr/base_lr when lr is scheduled).</summary>
    public double FinalLr { get; init; } = 0.1;
    /// <summary>Convergence speed of the bounds: they close like 1/(gamma*t).</summary>
    public double Gamma { get; init; } = 1e-3;
    /// <summary>Added to sqrt(v) in the denominator (before bias correction, as the reference).</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Weight decay coefficient wd (0: none): an L2 term, or decoupled with AdaBoundW.</summary>
    public double WeightDecay { get; init; }
    /// <summary>AMSBound: divide by the running maximum of v (adds the max_exp_avg_sq buffer).</summary>
    [OptionKey("amsbound")] public bool AmsBound { get; init; }
    /// <summary>AdaBoundW: decoupled weight decay p = p - eta - wd*p instead of the L2 term.</summary>
    [OptionKey("adaboundw")] public bool Decoupled { get; init; }

    /// <summary>Checks lr, eps, betas, final_lr and gamma, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameters: ({Py(Beta1)}, {Py(Beta2)})", "betas");
        Check(FinalLr >= 0, $"Invalid final learning rate: {Py(FinalLr)}", "final_lr");
        Check(Gamma >= 0 && Gamma < 1, $"Invalid gamma parameter: {Py(Gamma)}", "gamma");
    }
}

/// <summary>
/// AdaBound: Adam whose per-element step is clipped into bounds that converge to SGD's final_lr (the official code):
/// <code>
/// if wd != 0 (not AdaBoundW): g = g + wd*p
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g ;  amsbound: vmax = max(vmax, v), use vmax for v below
/// final = final_lr * lr / base_lr ; lower = final*(1 - 1/(gamma*t+1)) ; upper = final*(1 + 1/(gamma*t))
/// eta = clamp(lr*sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps), lower, upper) * m
/// p = p - eta            (AdaBoundW: p = p - eta - wd*p_old)
/// </code>
/// State: exp_avg, exp_avg_sq (and max_exp_avg_sq with amsbound).
/// </summary>
public sealed class AdaBound : Optimizer<AdaBoundOptions>
{
    /// <summary>AdaBound over parameters as one param group, with the official code's arguments and defaults.</summary>
    public AdaBound(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                    double finalLr = 0.1, double gamma = 1e-3, double eps = 1e-8, double weightDecay = 0,
                    bool amsbound = false, bool decoupled = false)
        : this([new GroupSpec<AdaBoundOptions>(parameters)], new AdaBoundOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, FinalLr = finalLr, Gamma = gamma, Eps = eps, WeightDecay = weightDecay, AmsBound = amsbound, Decoupled = decoupled }) { }

    /// <summary>AdaBound over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public AdaBound(IEnumerable<GroupSpec<AdaBoundOptions>> groups, AdaBoundOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"], MomentsAms = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdaBoundOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, o.AmsBound ? MomentsAms : Moments, out _);
        long t = ++state.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        double finalLr = o.FinalLr * o.Lr / group.InitialLr;              // a scheduled lr scales the SGD target too
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Wd = C<T>(o.WeightDecay), Eps = C<T>(o.Eps),
            StepSize = C<T>(o.Lr * Math.Sqrt(bc2) / bc1),                     // lr * sqrt(1-b2^t) / (1-b1^t)
            Lower = C<T>(finalLr * (1 - 1 / (o.Gamma * t + 1))),              // final*(1 - 1/(gamma*t+1))
            Upper = C<T>(finalLr * (1 + 1 / (o.Gamma * t))),                  // final*(1 + 1/(gamma*t))
            AmsBound = o.AmsBound, L2 = o.WeightDecay != 0 && !o.Decoupled, DecayAfter = o.WeightDecay != 0 && o.Decoupled,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>AdaBound's internals: clipped_lower and clipped_upper, the shares of elements whose step
    /// lr*sqrt(1-b2^t)/(1-b1^t)/(sqrt(v)+eps) lies below the lower bound or above the upper bound (clamped there: the
    /// lower bound is SGD at final_lr taking over), and lower_bound and upper_bound themselves; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdaBoundOptions o)
    {
        if (probe.State is not { } s || probe.Buffer(o.AmsBound ? "max_exp_avg_sq" : "exp_avg_sq") is not { } v) return;
        long t = s.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t), finalLr = o.FinalLr * o.Lr / probe.Group.InitialLr;
        double lower = finalLr * (1 - 1 / (o.Gamma * t + 1)), upper = finalLr * (1 + 1 / (o.Gamma * t));
        // The step c/(sqrt(v) + eps), c = lr*sqrt(bc2)/bc1, is below lower where sqrt(v) > c/lower - eps, above upper
        // where sqrt(v) < c/upper - eps: counts of v against squared thresholds, no per-element division.
        double c = o.Lr * Math.Sqrt(bc2) / bc1, low = c / lower - o.Eps, up = c / upper - o.Eps;
        probe.Add("clipped_lower", low < 0 ? 1 : InternalsProbe.ShareAbove(v, low * low));
        probe.Add("clipped_upper", up <= 0 ? 0 : InternalsProbe.ShareBelow(v, up * up));
        probe.Add("lower_bound", lower);
        probe.Add("upper_bound", upper);
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, 1-b2, wd, eps, lr*sqrt(1 - b2^t)/(1 - b1^t), and this step's
        /// lower and upper bounds on the per-element step size.</summary>
        public T B1, OneMinusB1, B2, OneMinusB2, Wd, Eps, StepSize, Lower, Upper;
        /// <summary>Switches: AMSBound's max, L2 term in the gradient, AdaBoundW's decoupled decay after the step.</summary>
        public Flag AmsBound, L2, DecayAfter;

        /// <summary>One AdaBound step of one lane: p, m, v (and vmax with AMSBound) updated in place from g; r and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L vmax, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, L.Splat(c.B1) * m);                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, L.Splat(c.B2) * v);                // v <- b2*v + (1-b2)*g*g
            var vi = v;
            if (c.AmsBound) vi = vmax = L.Max(vmax, v);                                // vmax <- max(vmax, v)
            var denom = L.Sqrt(vi) + L.Splat(c.Eps);                                   // sqrt(v) + eps (eps before correction)
            var eta = L.Min(L.Max(L.Splat(c.StepSize) / denom, L.Splat(c.Lower)), L.Splat(c.Upper)) * m;   // clamp(step/denom, lower, upper) * m
            p = c.DecayAfter ? (p - eta) - p * L.Splat(c.Wd) : p - eta;               // AdaBoundW: p - eta*m - wd*p_old
        }
    }
}
