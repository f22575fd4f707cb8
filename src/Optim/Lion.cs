// Lion: Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023. Follows the authors' PyTorch
// reference google/automl lion/lion_pytorch.py (commit 6a54c8741e7c3265d4547c4f35f47a0391122dc5; lucidrains/lion-pytorch
// computes the same update). Bit-level order: the reference's ops under torch 1.13 on the CPU (see the notation of
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md); golden data: tests/Tiny.Tests/data/gen_golden_lit1.py.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Lion (the reference's names and defaults: lr 1e-4, betas (0.9, 0.99), weight_decay 0).</summary>
public sealed record LionOptions(double Lr = 1e-4) : OptimizerOptions(Lr)
{
    /// <summary>Interpolation weight of the momentum in the update direction sign(b1*m + (1-b1)*g), in [0, 1).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the momentum m, in [0, 1).</summary>
    public double Beta2 { get; init; } = 0.99;
    /// <summary>Decoupled weight decay: p = p*(1 - lr*wd) every step.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Checks lr, beta1 and beta2, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
    }
}

/// <summary>
/// Lion (EvoLved Sign Momentum), per element:
/// <code>
/// p = p * (1 - lr*wd)                       # decoupled weight decay (always applied; exact for wd = 0)
/// u = m*b1 + g*(1-b1)                       # two products, then their sum (no FMA)
/// p = p - lr * sign(u)
/// m = b2*m + (1-b2)*g                       # the momentum interpolates with b2, the update with b1
/// </code>
/// State: exp_avg. The step is ±lr (or 0) per element, so lr is typically 3-10x smaller than AdamW's.
/// </summary>
public sealed class Lion : Optimizer<LionOptions>
{
    /// <summary>Lion over parameters as one param group, with the reference's (lion-pytorch) arguments and defaults.</summary>
    public Lion(IEnumerable<Tensor> parameters, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99, double weightDecay = 0)
        : this([new GroupSpec<LionOptions>(parameters)], new LionOptions(lr) { Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay }) { }

    /// <summary>Lion over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Lion(IEnumerable<GroupSpec<LionOptions>> groups, LionOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Momentum = ["exp_avg"];

    private protected override void Update<T>(Tensor p, Tensor grad, LionOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Momentum, out _);
        state.Step++;   // the reference keeps no step count; ours is bookkeeping only
        var map = new Map<T>
        {
            Decay = C<T>(1 - o.Lr * o.WeightDecay), B1 = C<T>(o.Beta1), OneMinusB1 = C<T>(1 - o.Beta1),
            B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2), NegLr = C<T>(-o.Lr),
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Lion's internals: sign_agree, the share of elements whose step -lr*sign(b1*m + (1-b1)*g) has the sign of
    /// -g (1 - sign_agree: where the momentum overrules the gradient); momentum_norm, ||m||_2.</summary>
    private protected override void Internals(InternalsProbe probe, LionOptions o)
    {
        probe.Add("sign_agree", probe.SignAgreement(o.Lr * o.WeightDecay));
        if (probe.Buffer("exp_avg") is { } m) probe.Add("momentum_norm", InternalsProbe.Norm(m));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: 1 - lr*wd, b1, 1-b1, b2, 1-b2 and -lr.</summary>
        public T Decay, B1, OneMinusB1, B2, OneMinusB2, NegLr;

        /// <summary>One Lion step of one lane: p and m updated in place from g; r, s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L m, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            p *= L.Splat(c.Decay);                                                     // p <- p*(1 - lr*wd)
            var u = m * L.Splat(c.B1) + g * L.Splat(c.OneMinusB1);                     // exp_avg*b1 + grad*(1-b1), unfused
            p = L.Fma(L.Splat(c.NegLr), L.Sign(u), p);                                 // p <- p - lr*sign(u)
            m = L.Fma(L.Splat(c.OneMinusB2), g, m * L.Splat(c.B2));                    // m <- b2*m + (1-b2)*g
        }
    }
}
