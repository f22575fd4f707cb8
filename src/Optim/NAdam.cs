// NAdam: torch.optim.NAdam (PyTorch 1.13, single-tensor path). Dozat, "Incorporating Nesterov Momentum into Adam",
// ICLR 2016 workshop; the momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*momentum_decay)) of torch's implementation.
// Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of NAdam (torch 1.13's names and defaults; 1.13 has no maximize).</summary>
public sealed record NAdamOptions(double Lr = 2e-3) : AdamFamilyOptions(Lr)
{
    /// <summary>psi in the momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)).</summary>
    public double MomentumDecay { get; init; } = 4e-3;

    /// <summary>Checks the Adam-family options, then momentum_decay, throwing torch's message for the first invalid one.</summary>
    public override void Validate()
    {
        base.Validate();
        Check(MomentumDecay >= 0, $"Invalid momentum_decay value: {Py(MomentumDecay)}", "momentum_decay");
    }
}

/// <summary>
/// NAdam, per element, step t:
/// <code>
/// if wd != 0: g = g + wd*p
/// mu_t = b1*(1 - 0.5*0.96^(t*momentum_decay)) ; mu_next = the same at t+1
/// mu_product = mu_product * mu_t                      # a float32 scalar, as torch 1.13 keeps it
/// m = b1*m + (1-b1)*g ;  v = b2*v + (1-b2)*g*g ;  denom = sqrt(v / (1 - b2^t)) + eps
/// p = p - lr*(1 - mu_t)/(1 - mu_product) * g/denom
/// p = p - lr*mu_next/(1 - mu_product*mu_next) * m/denom
/// </code>
/// State: exp_avg, exp_avg_sq, and the scalar mu_product.
/// </summary>
public sealed class NAdam : Optimizer<NAdamOptions>
{
    /// <summary>NAdam over parameters as one param group, with torch.optim.NAdam's arguments and defaults.</summary>
    public NAdam(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                 double weightDecay = 0, double momentumDecay = 4e-3)
        : this([new GroupSpec<NAdamOptions>(parameters)], new NAdamOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, MomentumDecay = momentumDecay }) { }

    /// <summary>NAdam over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public NAdam(IEnumerable<GroupSpec<NAdamOptions>> groups, NAdamOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, NAdamOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long t = ++state.Step;
        double bc2 = 1 - Math.Pow(o.Beta2, t);
        double mu = Mu(o, t), muNext = Mu(o, t + 1);
        // torch 1.13 holds mu_product in a float32 tensor, whatever the parameter's dtype: every product rounds to float.
        float muProduct = (float)state.Scalars.GetValueOrDefault("mu_product", 1.0) * (float)mu;
        float muProductNext = muProduct * (float)mu * (float)muNext;
        state.Scalars["mu_product"] = muProduct;
        var map = new Map<T>
        {
            B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Bc2 = C<T>(bc2), Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay), L2 = o.WeightDecay != 0,
            GradStep = C<T>(-o.Lr * (1.0 - mu) / (1.0 - muProduct)),
            MomentStep = C<T>(-o.Lr * muNext / (1.0 - muProductNext)),
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>NAdam's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/(sqrt(v/(1 - b2^t)) + eps) that both shares (the gradient's and the momentum's) are divided by (from a
    /// sample in a larger tensor); bias_correction2, 1 - b2^t; mu, this step's momentum mu_t = b1*(1 - 0.5*0.96^(t*psi)),
    /// and mu_product, the product of the mu's so far (the gradient's share is corrected by 1 - mu_product, as Adam's m
    /// by 1 - b1^t); momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, NAdamOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v) return;
        probe.AddStep(v, o.Lr, o.Eps, 1 - Math.Pow(o.Beta2, s.Step));
        probe.Add("bias_correction2", 1 - Math.Pow(o.Beta2, s.Step));
        probe.Add("mu", Mu(o, s.Step));
        probe.Add("mu_product", s.Scalars.GetValueOrDefault("mu_product", 1.0));
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*momentum_decay)).</summary>
    private static double Mu(NAdamOptions o, long t) => o.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t * o.MomentumDecay));

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b1, 1-b1, b2, 1-b2, 1 - b2^t, eps, wd, the gradient's step
        /// -lr*(1 - mu_t)/(1 - mu_product) and the momentum's step -lr*mu_next/(1 - mu_product*mu_next).</summary>
        public T B1, OneMinusB1, B2, OneMinusB2, Bc2, Eps, Wd, GradStep, MomentStep;
        /// <summary>Whether to add the L2 term wd*p to the gradient.</summary>
        public Flag L2;

        /// <summary>One NAdam step of one lane: p, m and v updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
            var denom = L.Sqrt(v / L.Splat(c.Bc2)) + L.Splat(c.Eps);                  // sqrt(v/bc2) + eps
            p += L.Splat(c.GradStep) * g / denom;                                       // the gradient's share (p rounds here)
            p += L.Splat(c.MomentStep) * m / denom;                                     // the momentum's share
        }
    }
}
