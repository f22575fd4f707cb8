// C-Lion (cautious Lion): Liang, Chen, Liu & Liu, "Cautious Optimizers: Improving Training with One Line of Code",
// arXiv 2411.16085 (2024). Follows the authors' reference kyleliang919/C-Optim c_lion.py (commit
// 2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3): lucidrains' Lion with the cautious mask, rescaled by numel/(sum + 1) (the
// original rescaling; C-AdamW uses the clamped mean). Lion itself: Chen et al. 2023 (Lion.cs). Bit-level order: the
// reference's ops under torch 1.13 on the CPU (notation of tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data:
// tests/Tiny.Tests/data/gen_golden_lit2.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of C-Lion (the reference's names and defaults: lr 1e-4, betas (0.95, 0.98), weight_decay 0; the
/// reference asserts lr &gt; 0 and 0 &lt;= beta &lt;= 1).</summary>
public sealed record CLionOptions(double Lr = 1e-4) : OptimizerOptions(Lr)
{
    /// <summary>Interpolation weight of the momentum in the update direction sign(b1*m + (1-b1)*g).</summary>
    public double Beta1 { get; init; } = 0.95;
    /// <summary>Decay rate of the momentum m.</summary>
    public double Beta2 { get; init; } = 0.98;
    /// <summary>Decoupled weight decay: p = p*(1 - lr*wd) every step.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Checks lr &gt; 0 and 0 &lt;= beta1, beta2 &lt;= 1 (the reference's asserts), throwing for the first that fails.</summary>
    public override void Validate()
    {
        Check(Lr > 0, $"Invalid learning rate: {Py(Lr)} (the reference asserts lr > 0)", "lr");
        Check(Beta1 >= 0 && Beta1 <= 1, $"Invalid beta parameter at index 0: {Py(Beta1)} (the reference asserts 0 <= beta <= 1)", "beta1");
        Check(Beta2 >= 0 && Beta2 <= 1, $"Invalid beta parameter at index 1: {Py(Beta2)} (the reference asserts 0 <= beta <= 1)", "beta2");
    }
}

/// <summary>
/// C-Lion: Lion that steps only where its update agrees in sign with the current gradient, the kept elements scaled
/// by numel/(kept + 1). Per element:
/// <code>
/// p = p*(1 - lr*wd)                                   # always (exact for wd = 0)
/// u = sign(b1*m + (1-b1)*g)
/// mask = (u*g > 0) * numel/(count(u*g > 0) + 1)       # per tensor
/// p = p - lr*u*mask
/// m = b2*m + (1-b2)*g
/// </code>
/// The count needs this step's u first: a counting pre-pass (<see cref="Agree{T}"/>), then the update with r = the
/// count. State: exp_avg.
/// </summary>
public sealed class CLion : Optimizer<CLionOptions>
{
    /// <summary>C-Lion over parameters as one param group, with the reference's arguments and defaults.</summary>
    public CLion(IEnumerable<Tensor> parameters, double lr = 1e-4, double beta1 = 0.95, double beta2 = 0.98, double weightDecay = 0)
        : this([new GroupSpec<CLionOptions>(parameters)], new CLionOptions(lr) { Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay }) { }

    /// <summary>C-Lion over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public CLion(IEnumerable<GroupSpec<CLionOptions>> groups, CLionOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Momentum = ["exp_avg"];

    private protected override void Update<T>(Tensor p, Tensor grad, CLionOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Momentum, out _);
        state.Step++;   // the reference keeps no step count; ours is bookkeeping only
        T b1 = C<T>(o.Beta1), oneMinusB1 = C<T>(1 - o.Beta1);
        var map = new Map<T>
        {
            Decay = C<T>(1 - o.Lr * o.WeightDecay), B1 = b1, OneMinusB1 = oneMinusB1, B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2),
            NegLr = C<T>(-o.Lr), Numel = C<T>(p.Numel),
        };
        p.Backend.FusedMap<Map<T>, Agree<T>, T>(map, new Agree<T> { B1 = b1, OneMinusB1 = oneMinusB1 }, p.Storage, grad.Storage, buffers);
    }

    /// <summary>C-Lion's internals: sign_agree, the share of elements that moved (the cautious mask keeps only those
    /// whose sign(b1*m + (1-b1)*g) agrees with g, so it is the mask's share); momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, CLionOptions o)
    {
        probe.Add("sign_agree", probe.SignAgreement(o.Lr * o.WeightDecay));
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The counting pre-pass: x &lt;- sign(b1*m + (1-b1)*g) * g (the mask is x &gt; 0), nothing stored.</summary>
    public struct Agree<T> : IFusedMap<Agree<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>b1 and 1-b1 rounded to T, to recompute this step's direction as the update will.</summary>
        public T B1, OneMinusB1;

        /// <summary>Writes sign(b1*m + (1-b1)*g) * g into the scratch lane x; the backend counts the lanes where it is &gt; 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<L>(in Agree<T> c, L r, ref L x, L g, ref L m, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T> =>
            x = L.Sign(L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1))) * g;
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code), r = the count of u*g &gt; 0.</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: 1 - lr*wd, b1, 1-b1, b2, 1-b2, -lr and the tensor's element count.</summary>
        public T Decay, B1, OneMinusB1, B2, OneMinusB2, NegLr, Numel;

        /// <summary>One C-Lion step of one lane, r = the tensor's count of u*g &gt; 0: p and m updated in place; s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            p *= L.Splat(c.Decay);                                                     // p <- p*(1 - lr*wd)
            var u = L.Sign(L.Fma(L.Splat(c.OneMinusB1), g, m * L.Splat(c.B1)));       // sign(exp_avg*b1 + (1-b1)*g), add_ with alpha: one FMA
            var one = L.FromDouble(1);
            var scale = one / (r + one) * L.Splat(c.Numel);                           // numel / (sum + 1): reciprocal, then times numel
            var zero = L.FromDouble(0);
            p = L.Fma(L.Splat(c.NegLr), u * L.IfGreater(u * g, zero, scale, zero), p);   // p <- p - lr*(u*mask)
            m = L.Fma(L.Splat(c.OneMinusB2), g, m * L.Splat(c.B2));                    // m <- b2*m + (1-b2)*g
        }
    }
}
