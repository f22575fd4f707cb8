// Adam, AMSGrad and AdamW: torch.optim.Adam / AdamW (PyTorch 1.13, single-tensor path).
// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; Reddi et al., "On the Convergence of Adam
// and Beyond" (AMSGrad), ICLR 2018; Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (AdamW), ICLR 2019.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options the Adam family shares (Adam/AdamW, Adamax, NAdam, RAdam): betas, eps and weight decay with
/// torch's defaults, checked with torch's messages in torch's order (lr, eps, beta1, beta2, weight_decay).</summary>
public abstract record AdamFamilyOptions(double Lr) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the first-moment EMA m (torch's betas[0]), in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v (torch's betas[1]), in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to the denominator sqrt(v_hat) for numerical stability.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Weight decay coefficient wd (0: none); how it applies (L2 term or decoupled) is the optimizer's.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Checks lr, eps, beta1, beta2 and weight_decay in torch's order and throws torch's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
    }
}

/// <summary>Options of Adam and AdamW (AdamW's WeightDecay is decoupled and defaults to 1e-2).</summary>
public sealed record AdamOptions(double Lr = 1e-3) : AdamFamilyOptions(Lr)
{
    /// <summary>AMSGrad: divide by the running maximum of v instead of v (adds the max_exp_avg_sq buffer).</summary>
    public bool Amsgrad { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }
}

/// <summary>
/// Adam (coupled L2 weight decay); AdamW derives from it with decoupled decay. Per element, step t:
/// <code>
/// g = maximize ? -grad : grad
/// AdamW: p = p*(1 - lr*wd)          Adam: if wd != 0: g = g + wd*p
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g
/// if amsgrad: vmax = max(vmax, v), use vmax for v below
/// p = p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
/// </code>
/// State: exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad).
/// </summary>
public class Adam : Optimizer<AdamOptions>
{
    private readonly bool _decoupled;

    /// <summary>Adam over parameters as one param group, with torch.optim.Adam's arguments and defaults.</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new GroupSpec<AdamOptions>(parameters)], new AdamOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize }) { }

    /// <summary>Adam over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Adam(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults) : this(groups, defaults, false) { }

    private protected Adam(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults, bool decoupled)
        : base(groups, defaults) => _decoupled = decoupled;

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"], MomentsAms = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    private protected sealed override void Update<T>(Tensor p, Tensor grad, AdamOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, o.Amsgrad ? MomentsAms : Moments, out _);
        long t = ++state.Step;
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);   // bias corrections 1 - b^t
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Wd = C<T>(o.WeightDecay), Decay = C<T>(1 - o.Lr * o.WeightDecay), Eps = C<T>(o.Eps),
            Bc2Sqrt = C<T>(Math.Sqrt(bc2)), NegStepSize = C<T>(-(o.Lr / bc1)),
            Maximize = o.Maximize, Amsgrad = o.Amsgrad, Decoupled = _decoupled, L2 = o.WeightDecay != 0 && !_decoupled,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Adam's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the effective
    /// step lr/(sqrt(v_hat) + eps) that multiplies m_hat = m/bc1, with v_hat = v/bc2 (v: max_exp_avg_sq with AMSGrad;
    /// from a sample of <see cref="InternalsRecorder.SampleSize"/> elements in a larger tensor); bias_correction1 and
    /// bias_correction2, bc1 = 1 - b1^t and bc2 = 1 - b2^t; momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdamOptions o)
    {
        if (probe.State is not { } s || probe.Buffer(o.Amsgrad ? "max_exp_avg_sq" : "exp_avg_sq") is not { } v) return;
        probe.AddStep(v, o.Lr, o.Eps, 1 - Math.Pow(o.Beta2, s.Step));
        probe.AddBiasCorrections(s.Step, o.Beta1, o.Beta2);
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, 1-b2, wd, the decoupled decay 1 - lr*wd, eps,
        /// sqrt(1 - b2^t) and -lr/(1 - b1^t).</summary>
        public T B1, OneMinusB1, B2, OneMinusB2, Wd, Decay, Eps, Bc2Sqrt, NegStepSize;
        /// <summary>Switches: negate the gradient, AMSGrad's max, AdamW's decoupled decay, Adam's L2 term in the gradient.</summary>
        public Flag Maximize, Amsgrad, Decoupled, L2;

        /// <summary>One Adam step of one lane: p, m, v (and vmax with AMSGrad) updated in place from the gradient g; r and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L vmax, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.Decoupled) p *= L.Splat(c.Decay);                                    // AdamW: p <- p*(1 - lr*wd)
            else if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                             // Adam:  g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, L.Splat(c.B1) * m);                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, L.Splat(c.B2) * v);                // v <- b2*v + (1-b2)*g*g
            var vi = v;
            if (c.Amsgrad) vi = vmax = L.Max(vmax, v);                                 // vmax <- max(vmax, v)
            var denom = L.Sqrt(vi) / L.Splat(c.Bc2Sqrt) + L.Splat(c.Eps);             // sqrt(v)/sqrt(bc2) + eps (eps after correction)
            p += L.Splat(c.NegStepSize) * m / denom;                                   // p <- p - (lr/bc1) * m/denom
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay p &lt;- p*(1 - lr*wd) before the Adam step.</summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW over parameters as one param group, with torch.optim.AdamW's arguments and defaults (weight decay 1e-2).</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                 double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new GroupSpec<AdamOptions>(parameters)], new AdamOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize }) { }

    /// <summary>AdamW over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public AdamW(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults) : base(groups, defaults, true) { }
}
