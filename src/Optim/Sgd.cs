// SGD with momentum, dampening, Nesterov, L2 weight decay, maximize: torch.optim.SGD (PyTorch 1.13).
// Nesterov: Sutskever et al., "On the importance of initialization and momentum in deep learning", ICML 2013.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Sgd (PyTorch names in .NET casing). Lr has no default, as in torch.</summary>
public sealed record SgdOptions(double Lr) : OptimizerOptions(Lr)
{
    /// <summary>Momentum factor mu (0: plain SGD, no buffer).</summary>
    public double Momentum { get; init; }
    /// <summary>Momentum dampening: the buffer takes (1 - dampening) of each new gradient.</summary>
    public double Dampening { get; init; }
    /// <summary>Nesterov momentum: step along g + mu*buf instead of buf (needs momentum &gt; 0 and no dampening).</summary>
    public bool Nesterov { get; init; }
    /// <summary>L2 penalty coefficient: wd*p is added to the gradient (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, momentum, weight_decay and that Nesterov has momentum and no dampening, throwing torch's message for the first failure.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Momentum >= 0, $"Invalid momentum value: {Py(Momentum)}", "momentum");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(!Nesterov || (Momentum > 0 && Dampening == 0), "Nesterov momentum requires a momentum and zero dampening", "nesterov");
    }
}

/// <summary>
/// Stochastic gradient descent, exactly torch.optim.SGD's single-tensor path:
/// <code>
/// g = maximize ? -grad : grad
/// if wd != 0: g = g + wd*p
/// if mu != 0: buf = first step ? g : mu*buf + (1-dampening)*g ; g = nesterov ? g + mu*buf : buf
/// p = p - lr*g
/// </code>
/// State: momentum_buffer (when momentum != 0).
/// </summary>
public sealed class Sgd : Optimizer<SgdOptions>
{
    /// <summary>SGD over parameters as one param group, with torch.optim.SGD's arguments and defaults (lr required).</summary>
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0,
               bool nesterov = false, double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<SgdOptions>(parameters)], new SgdOptions(lr)
        { Momentum = momentum, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>SGD over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Sgd(IEnumerable<GroupSpec<SgdOptions>> groups, SgdOptions defaults) : base(groups, defaults) { }

    private protected override void Update<T>(Tensor p, Tensor grad, SgdOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, SgdTail<T>.Buffers(o.Momentum), out bool fresh);
        state.Step++;
        Fuse<Map<T>, T>(new Map<T> { Tail = SgdTail<T>.Of(o.Lr, o.Momentum, o.Dampening, o.Nesterov, o.WeightDecay, fresh), Maximize = o.Maximize },
            p, grad, buffers);
    }

    /// <summary>SGD's internals: momentum_norm, ||momentum_buffer||_2 when there is momentum.</summary>
    private protected override void Internals(InternalsProbe probe, SgdOptions o)
    {
        if (probe.Buffer("momentum_buffer") is { } buf) probe.Add("momentum_norm", InternalsProbe.Norm(buf));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code): d = maximize ? -g : g, then
    /// <see cref="SgdTail{T}"/>.</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The weight-decay, momentum and step applied to the (possibly negated) gradient.</summary>
        public SgdTail<T> Tail;
        /// <summary>Whether to negate the gradient.</summary>
        public Flag Maximize;

        /// <summary>One SGD step of one lane: p and the momentum buffer updated in place from g; r, s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L buf, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T> =>
            c.Tail.Apply(ref p, c.Maximize ? -g : g, ref buf);
    }
}
