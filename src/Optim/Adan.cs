// Adan: Xie et al., "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing Deep Models", arXiv 2208.06677
// (2022; TPAMI 2024). Follows the authors' reference sail-sg/Adan adan.py (commit 2c65beaf400775753b155da4082c3819fea689b9),
// its single-tensor path (_single_tensor_adan; foreach/fused choose other kernels of the same update and are left out).
// Bit-level order: the reference's ops under torch 1.13 on the CPU (see the notation of
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit1.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Adan (the reference's names and defaults: lr 1e-3, betas (0.98, 0.92, 0.99), eps 1e-8).
/// MaxGradNorm is read from the optimizer's defaults only, as the reference reads self.defaults.</summary>
public sealed record AdanOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the gradient EMA m (the reference's beta1; the paper's 1 - beta1).</summary>
    public double Beta1 { get; init; } = 0.98;
    /// <summary>Decay rate of the gradient-difference EMA diff (the reference's beta2).</summary>
    public double Beta2 { get; init; } = 0.92;
    /// <summary>Decay rate of the second-moment EMA n of (g + b2*(g - g_prev))^2 (the reference's beta3).</summary>
    public double Beta3 { get; init; } = 0.99;
    /// <summary>Added to the bias-corrected sqrt(n) in the denominator (and to the norm in gradient clipping).</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Weight decay coefficient wd: proximal p/(1 + lr*wd) after the step, or p*(1 - lr*wd) before it with NoProx.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Clip all gradients together to this global L2 norm before the step (0: no clipping).</summary>
    public double MaxGradNorm { get; init; }
    /// <summary>Decay the weights before the step by p*(1 - lr*wd) instead of the proximal division after it.</summary>
    public bool NoProx { get; init; }

    /// <summary>Checks max_grad_norm, lr, eps and the three betas, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(MaxGradNorm >= 0, $"Invalid Max grad norm: {Py(MaxGradNorm)}", "max_grad_norm");
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
        Check(Beta3 >= 0 && Beta3 < 1, $"Invalid beta parameter at index 2: {Py(Beta3)}", "beta3");
    }
}

/// <summary>
/// Adan, per element, step t (the reference writes beta for what the paper calls 1 - beta):
/// <code>
/// if max_grad_norm > 0: g = g * min(1, max_grad_norm / (||all grads||_2 + eps))   # one global factor per step, float32
/// d_g = g - g_prev                                   # 0 at the first step
/// m = b1*m + (1-b1)*g                                # exp_avg
/// diff = b2*diff + (1-b2)*d_g                        # exp_avg_diff
/// u = g + b2*d_g ;  n = b3*n + (1-b3)*u*u            # exp_avg_sq
/// denom = sqrt(n)/sqrt(1-b3^t) + eps
/// no_prox: p = p*(1 - lr*wd) ; p = p - lr/(1-b1^t) * m/denom ; p = p - lr*b2/(1-b2^t) * diff/denom
/// else:    p = p - lr/(1-b1^t) * m/denom ; p = p - lr*b2/(1-b2^t) * diff/denom ; p = p / (1 + lr*wd)
/// g_prev = g                                         # kept negated, as the reference's neg_pre_grad
/// </code>
/// State: exp_avg, exp_avg_sq, exp_avg_diff, neg_pre_grad. Differences from the reference, outside its usual use: the
/// step count is per tensor (the reference counts per group, also steps where a tensor had no gradient), and the
/// clipped gradient is not written back into p.Grad (the reference scales p.grad in place).
/// </summary>
public sealed class Adan : Optimizer<AdanOptions>
{
    /// <summary>Adan over parameters as one param group, with the reference's arguments and defaults.</summary>
    public Adan(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.98, double beta2 = 0.92, double beta3 = 0.99,
                double eps = 1e-8, double weightDecay = 0, double maxGradNorm = 0, bool noProx = false)
        : this([new GroupSpec<AdanOptions>(parameters)], new AdanOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Beta3 = beta3, Eps = eps, WeightDecay = weightDecay, MaxGradNorm = maxGradNorm, NoProx = noProx }) { }

    /// <summary>Adan over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Adan(IEnumerable<GroupSpec<AdanOptions>> groups, AdanOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Buffers = ["exp_avg", "exp_avg_sq", "exp_avg_diff", "neg_pre_grad"];

    /// <summary>This step's global clip factor (1 without clipping), computed at the step's first parameter.</summary>
    private double _clip = 1.0;

    private protected override void Update<T>(Tensor p, Tensor grad, AdanOptions o, ParamGroup group, ParamState state)
    {
        if (Defaults.MaxGradNorm > 0 && IsFirstOfStep(p)) _clip = GlobalClip();
        double clip = Defaults.MaxGradNorm > 0 ? _clip : 1.0;
        var buffers = State(p, state, Buffers, out _);
        long t = ++state.Step;
        double bc1 = 1.0 - Math.Pow(o.Beta1, t), bc2 = 1.0 - Math.Pow(o.Beta2, t), bc3 = 1.0 - Math.Pow(o.Beta3, t);
        var map = new Map<T>
        {
            Clip = C<T>(clip), B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1), B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            B3 = C<T>(o.Beta3), OneMinusB3 = C<T>(1 - o.Beta3), Bc3Sqrt = C<T>(Math.Sqrt(bc3)), Eps = C<T>(o.Eps),
            NegStepSize = C<T>(-(o.Lr / bc1)), NegStepSizeDiff = C<T>(-(o.Lr * o.Beta2 / bc2)),
            Decay = C<T>(1 - o.Lr * o.WeightDecay), Prox = C<T>(1 + o.Lr * o.WeightDecay),
            Clipped = clip != 1.0, First = t == 1, NoProx = o.NoProx,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Whether p is the first parameter this step updates (the first with a gradient, groups in order).</summary>
    private bool IsFirstOfStep(Tensor p)
    {
        var groups = ParamGroups;
        for (int k = 0; k < groups.Count; k++)
            for (int i = 0; i < groups[k].Params.Count; i++)
                if (groups[k].Params[i].Grad is not null) return ReferenceEquals(groups[k].Params[i], p);
        return false;
    }

    /// <summary>The reference's clip factor: a float32 accumulator of each gradient's grad.pow(2).sum() (summed in torch's
    /// order on the CPU), then clamp(max_grad_norm / (sqrt(total) + eps), max=1) in float32, eps of the last group.</summary>
    private double GlobalClip()
    {
        var groups = ParamGroups;
        var grads = groups.SelectMany(g => g.Params).Select(p => p.Grad).OfType<Tensor>().ToList();
        float total = 0f;
        foreach (double s in Backends.Each(grads, (b, xs) => b.TorchSumSquaresEach(xs)))   // on a device in double, one wait
            total += (float)s;                                                        // global_grad_norm.add_(...) in float32
        float norm = MathF.Sqrt(total);
        float coef = (float)Defaults.MaxGradNorm / (norm + (float)((AdanOptions)groups[^1].Options).Eps);
        return coef > 1f ? 1.0 : coef;                                                // clamp(max=1.0) (NaN stays NaN)
    }

    /// <summary>Adan's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/(sqrt(n/(1 - b3^t)) + eps) that multiplies m/(1 - b1^t) (and, by b2, diff/(1 - b2^t)); from a sample in a
    /// larger tensor; bias_correction1, bias_correction2 and bias_correction3, 1 - b^t of each beta; the three moments'
    /// norms: momentum_norm ||m||_2 (the gradient's EMA), diff_norm ||diff||_2 (the EMA of gradient differences: the
    /// Nesterov part) and second_moment_norm ||n||_2; grad_clip, the global clip factor of the step (with max_grad_norm).</summary>
    private protected override void Internals(InternalsProbe probe, AdanOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } n) return;
        long t = s.Step;
        probe.AddStep(n, o.Lr, o.Eps, 1 - Math.Pow(o.Beta3, t));
        probe.AddBiasCorrections(t, o.Beta1, o.Beta2, o.Beta3);
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
        if (probe.Buffer("exp_avg_diff") is { } diff) probe.Add("diff_norm", InternalsProbe.Norm(diff));
        probe.Add("second_moment_norm", InternalsProbe.Norm(n));
        if (Defaults.MaxGradNorm > 0) probe.Add("grad_clip", _clip);
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: the global clip factor, b1, 1-b1, b2, 1-b2, b3, 1-b3, sqrt(1 - b3^t), eps,
        /// -lr/(1 - b1^t), -lr*b2/(1 - b2^t), 1 - lr*wd and 1 + lr*wd.</summary>
        public T Clip, B1, OneMinusB1, B2, OneMinusB2, B3, OneMinusB3, Bc3Sqrt, Eps, NegStepSize, NegStepSizeDiff, Decay, Prox;
        /// <summary>Switches: scale the gradient by Clip, first step (no previous gradient), decay before the step instead of the proximal division.</summary>
        public Flag Clipped, First, NoProx;

        /// <summary>One Adan step of one lane: p, m, n, diff and the negated previous gradient updated in place from g; r unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L n, ref L diff, ref L negPrev) where L : struct, ILane<L, T>
        {
            if (c.Clipped) g *= L.Splat(c.Clip);                                       // grad.mul_(clip)
            var d = (c.First ? -g : negPrev) + g;                                       // g - g_prev (neg_pre_grad = -g at step 1)
            m = L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1));                    // m <- b1*m + (1-b1)*g
            diff = L.Fma(L.Splat(c.OneMinusB2), d, diff * L.Splat(c.B2));              // diff <- b2*diff + (1-b2)*d
            var u = d * L.Splat(c.B2) + g;                                              // u <- b2*d + g
            n = L.Fma(L.Splat(c.OneMinusB3) * u, u, n * L.Splat(c.B3));                // n <- b3*n + (1-b3)*u*u
            var denom = L.Sqrt(n) / L.Splat(c.Bc3Sqrt) + L.Splat(c.Eps);
            if (c.NoProx) p *= L.Splat(c.Decay);                                       // p <- p*(1 - lr*wd)
            p += L.Splat(c.NegStepSize) * m / denom;                                   // addcdiv, no FMA
            p += L.Splat(c.NegStepSizeDiff) * diff / denom;
            if (!c.NoProx) p /= L.Splat(c.Prox);                                       // p <- p/(1 + lr*wd)
            negPrev = -g;                                                               // neg_pre_grad <- -g
        }
    }
}
