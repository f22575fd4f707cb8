// AlphaGrad: Sane, "AlphaGrad: Non-Linear Gradient Normalization Optimizer", arXiv 2504.16020 (2025); the
// author's reference class (CleanRL fork, cleanrl/optim/sgd.py): per tensor g <- tanh(alpha*g/(||g||+eps)),
// then SGD's weight decay and momentum. Without momentum it keeps no state at all.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of AlphaGrad; Alpha is the tanh steepness (-> 0: normalised GD, -> inf: sign descent).</summary>
public sealed record AlphaGradOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    /// <summary>Steepness of the squashing tanh(alpha * g/||g||_2): larger alpha pushes components toward +-1.</summary>
    public double Alpha { get; init; } = 1.0;
    /// <summary>Added to the tensor's gradient norm ||g||_2 before dividing.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>SGD momentum factor mu applied after the squashing (0: none).</summary>
    public double Momentum { get; init; }
    /// <summary>Momentum dampening: the buffer takes (1 - dampening) of the new direction.</summary>
    public double Dampening { get; init; }
    /// <summary>Nesterov momentum: step along d + mu*buf instead of buf.</summary>
    public bool Nesterov { get; init; }
    /// <summary>L2 penalty coefficient: wd*p is added to the squashed direction (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, alpha, eps, momentum, weight_decay and that Nesterov has momentum and no dampening, throwing the first failure.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Alpha > 0, $"Invalid alpha: {Py(Alpha)}", "alpha");
        Check(Eps > 0, $"Invalid eps: {Py(Eps)}", "eps");
        Check(Momentum >= 0, $"Invalid momentum value: {Py(Momentum)}", "momentum");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(!Nesterov || (Momentum > 0 && Dampening == 0), "Nesterov momentum requires a momentum and zero dampening", "nesterov");
    }
}

/// <summary>
/// AlphaGrad: layer-wise normalised, tanh-squashed gradient, then SGD (momentum optional):
/// <code>
/// g = maximize ? -grad : grad
/// g = tanh(alpha * g / (||g||_2 + eps))     # per tensor; every component in (-1, 1)
/// if wd != 0: g = g + wd*p
/// if mu != 0: buf = first step ? g : mu*buf + (1-dampening)*g ; g = nesterov ? g + mu*buf : buf
/// p = p - lr*g
/// </code>
/// State: momentum_buffer (when momentum != 0); none otherwise.
/// </summary>
public sealed class AlphaGrad : Optimizer<AlphaGradOptions>
{
    /// <summary>AlphaGrad over parameters as one param group, with the reference's arguments and defaults.</summary>
    public AlphaGrad(IEnumerable<Tensor> parameters, double lr = 1e-3, double alpha = 1.0, double eps = 1e-8,
                     double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<AlphaGradOptions>(parameters)], new AlphaGradOptions(lr)
        { Alpha = alpha, Eps = eps, Momentum = momentum, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>AlphaGrad over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public AlphaGrad(IEnumerable<GroupSpec<AlphaGradOptions>> groups, AlphaGradOptions defaults) : base(groups, defaults) { }

    private protected override void Update<T>(Tensor p, Tensor grad, AlphaGradOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, SgdTail<T>.Buffers(o.Momentum), out bool fresh);
        if (o.Momentum != 0) state.Step++;   // the reference counts steps only where it keeps state
        var map = new Map<T>
        {
            Alpha = C<T>(o.Maximize ? -o.Alpha : o.Alpha), Eps = C<T>(o.Eps),
            Tail = SgdTail<T>.Of(o.Lr, o.Momentum, o.Dampening, o.Nesterov, o.WeightDecay, fresh),
        };
        Fuse<Map<T>, T>(map, p, grad, buffers, PrePass.L2NormOfY);   // r = ||g||_2, in torch's summation order on the CPU
    }

    /// <summary>AlphaGrad's internals: saturated, the share of components whose squashed direction |tanh(alpha*g/(||g||+eps))|
    /// exceeds 0.9 (where |g| &gt; atanh(0.9)*(||g||+eps)/alpha: the step there is sign descent, not gradient descent);
    /// tanh_arg_max, alpha*||g||_inf/(||g||+eps), the largest argument of the tanh (about 1.5 and above: saturated);
    /// momentum_norm, ||momentum_buffer||_2 when there is momentum.</summary>
    private protected override void Internals(InternalsProbe probe, AlphaGradOptions o)
    {
        double scale = probe.GradNorm + o.Eps;
        probe.Add("saturated", InternalsProbe.ShareAbove(probe.Grad, Math.Atanh(0.9) * scale / o.Alpha, magnitude: true));
        probe.Add("tanh_arg_max", o.Alpha * InternalsProbe.MaxAbs(probe.Grad) / scale);
        if (probe.Buffer("momentum_buffer") is { } buf) probe.Add("momentum_norm", InternalsProbe.Norm(buf));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code), r = ||g||_2:
    /// d = tanh(alpha*g / (r + eps)) (alpha negated for maximize), then <see cref="SgdTail{T}"/>.</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's alpha (negated for maximize) and eps, rounded to T.</summary>
        public T Alpha, Eps;
        /// <summary>The weight-decay, momentum and SGD step applied to the squashed direction.</summary>
        public SgdTail<T> Tail;

        /// <summary>One AlphaGrad step of one lane, r = ||g||_2 of the whole tensor: p and the momentum buffer updated in place; s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L buf, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            var scale = r + L.Splat(c.Eps);                                  // ||g||_2 + eps
            c.Tail.Apply(ref p, L.Tanh(L.Splat(c.Alpha) * g / scale), ref buf);   // d = tanh(alpha * g/scale), torch's tanh bits on the CPU
        }
    }
}
