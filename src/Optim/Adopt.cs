// ADOPT: Taniguchi et al., "ADOPT: Modified Adam Can Converge with Any beta2 with the Optimal Rate", NeurIPS 2024.
// Follows the authors' reference iShohei220/adopt src/adopt/adopt.py (commit 6468572b4b3688a2f056b796b071da540568520e),
// its single-tensor path (_single_tensor_adopt). Bit-level order: the reference's ops under torch 1.13 on the CPU (see
// the notation of tests/Tiny.Tests/data/OPTIM_SEMANTICS.md; torch's lerp_ with a scalar weight is one FMA there);
// golden data: tests/Tiny.Tests/data/gen_golden_lit2.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of ADOPT (the reference's names and defaults: lr 1e-3, betas (0.9, 0.9999), eps 1e-6,
/// clip_lambda = step**0.25, weight_decay 0, decouple false). The reference's clip_lambda is a callable: here the
/// schedule step**ClipExponent, and NoClip for the reference's clip_lambda=None.</summary>
public sealed record AdoptOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of the momentum m of the normalised gradient.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v.</summary>
    public double Beta2 { get; init; } = 0.9999;
    /// <summary>Lower bound of sqrt(v) in the normalisation g / max(sqrt(v), eps).</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>The clipping schedule clip_lambda(step) = step**clip_exponent (the reference's default: 0.25).</summary>
    public double ClipExponent { get; init; } = 0.25;
    /// <summary>No clipping (the reference's clip_lambda=None).</summary>
    public bool NoClip { get; init; }
    /// <summary>Weight decay coefficient wd (0: none): an L2 term, or decoupled with Decouple.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Decoupled (AdamW-style) weight decay p &lt;- p - lr*wd*p instead of the L2 term in the gradient.</summary>
    public bool Decouple { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, eps, beta1, beta2 and weight_decay, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
    }
}

/// <summary>
/// ADOPT: Adam with the current gradient normalised by the PREVIOUS second moment (so the two are independent), the
/// momentum taken after the normalisation, and the normalised gradient clipped. Per element, step s = 0, 1, 2, ...:
/// <code>
/// g = maximize ? -grad : grad
/// if wd != 0 and not decouple: g = g + wd*p
/// if s == 0: v = v + g*g ; done                      # the first step only initialises v
/// if wd != 0 and decouple: p = p - lr*wd*p
/// n = g / max(sqrt(v), eps)
/// if clipping: n = clamp(n, -s**e, s**e)           # clip_lambda(s) = s**clip_exponent
/// m = lerp(m, n, 1 - b1)                             # m + (1-b1)*(n - m)
/// p = p - lr*m
/// v = b2*v + (1-b2)*g*g                              # after the step: the next step's normaliser
/// </code>
/// State: exp_avg, exp_avg_sq (the step count is the reference's state step).
/// </summary>
public sealed class Adopt : Optimizer<AdoptOptions>
{
    /// <summary>ADOPT over parameters as one param group, with the reference's arguments and defaults.</summary>
    public Adopt(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.9999, double eps = 1e-6,
                 double clipExponent = 0.25, bool noClip = false, double weightDecay = 0, bool decouple = false, bool maximize = false)
        : this([new GroupSpec<AdoptOptions>(parameters)], new AdoptOptions(lr)
        {
            Beta1 = beta1, Beta2 = beta2, Eps = eps, ClipExponent = clipExponent, NoClip = noClip, WeightDecay = weightDecay,
            Decouple = decouple, Maximize = maximize,
        }) { }

    /// <summary>ADOPT over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Adopt(IEnumerable<GroupSpec<AdoptOptions>> groups, AdoptOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Moments = ["exp_avg", "exp_avg_sq"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdoptOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Moments, out _);
        long s = state.Step++;                            // the reference's step before its increment
        double step = (float)s;                           // held in a float32 tensor, read back with .item()
        double clip = Math.Pow(step, o.ClipExponent);     // clip_lambda(step), a Python float
        double w = 1 - o.Beta1;                           // lerp weight, cast to T by torch
        T wt = C<T>(w);
        var map = new Map<T>
        {
            Wd = C<T>(o.WeightDecay), NegLrWd = C<T>(-o.Lr * o.WeightDecay), Eps = C<T>(o.Eps),
            Clip = C<T>(clip), NegClip = C<T>(-clip), W = wt, OneMinusW = T.One - wt, NegLr = C<T>(-o.Lr),
            B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            Maximize = o.Maximize, L2 = o.WeightDecay != 0 && !o.Decouple, Decoupled = o.WeightDecay != 0 && o.Decouple,
            First = s == 0, Clipped = !o.NoClip, LerpFromStart = T.Abs(wt) < C<T>(0.5),
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>ADOPT's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/max(sqrt(v), eps) with the v now in the state: the step the NEXT update takes per unit of gradient (ADOPT
    /// divides the gradient by the previous step's v, so the update just made used the v of the record before); from a
    /// sample in a larger tensor. clip, the bound s^clip_exponent the normalised gradient was clipped to this step (s
    /// counted from 0; absent with no_clip). momentum_norm, ||m||_2. ADOPT has no bias corrections.</summary>
    private protected override void Internals(InternalsProbe probe, AdoptOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("exp_avg_sq") is not { } v) return;
        probe.AddPercentiles("step", InternalsProbe.Sample(v), x => o.Lr / Math.Max(Math.Sqrt(x), o.Eps));
        if (!o.NoClip) probe.Add("clip", Math.Pow((float)(s.Step - 1), o.ClipExponent));
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: wd, -lr*wd, eps, the clip bound s^e and its negation, the lerp weight 1-b1 and
        /// one minus it, -lr, b2 and 1-b2.</summary>
        public T Wd, NegLrWd, Eps, Clip, NegClip, W, OneMinusW, NegLr, B2, OneMinusB2;
        /// <summary>Switches: negate the gradient, L2 term, decoupled decay, first step (only initialises v), clip the normalised
        /// gradient, and which end torch's lerp computes from (weight &lt; 0.5).</summary>
        public Flag Maximize, L2, Decoupled, First, Clipped, LerpFromStart;

        /// <summary>One ADOPT step of one lane: p, m and v updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L v, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            if (c.First) { v = L.Fma(g, g, v); return; }                               // v <- v + g*g (addcmul_, value 1)
            if (c.Decoupled) p = L.Fma(L.Splat(c.NegLrWd), p, p);                      // p <- p + (-lr*wd)*p
            var n = g / L.Max(L.Sqrt(v), L.Splat(c.Eps));                             // g / clamp(sqrt(v), min=eps)
            if (c.Clipped) n = L.Min(L.Max(n, L.Splat(c.NegClip)), L.Splat(c.Clip));   // clamp_(-clip, clip)
            var d = n - m;                                                             // torch's lerp: one FMA either way
            m = c.LerpFromStart ? L.Fma(L.Splat(c.W), d, m) : L.Fma(-d, L.Splat(c.OneMinusW), n);
            p = L.Fma(L.Splat(c.NegLr), m, p);                                         // p <- p - lr*m
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, v * L.Splat(c.B2));                // v <- b2*v + (1-b2)*g*g
        }
    }
}
