// SGD with momentum, dampening, Nesterov, L2 weight decay, maximize: torch.optim.SGD (PyTorch 1.13).
// Nesterov: Sutskever et al., "On the importance of initialization and momentum in deep learning", ICML 2013.
using System.Numerics;

namespace Tiny.Optim;

/// <summary>Options of Sgd (PyTorch names in .NET casing). Lr has no default, as in torch.</summary>
public sealed record SgdOptions(double Lr) : OptimizerOptions(Lr)
{
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public bool Maximize { get; init; }

    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Momentum >= 0, $"Invalid momentum value: {Py(Momentum)}", "momentum");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(!Nesterov || (Momentum > 0 && Dampening == 0), "Nesterov momentum requires a momentum and zero dampening", "nesterov");
    }
}

/// <summary>Stochastic gradient descent, exactly torch.optim.SGD's single-tensor path.</summary>
public sealed class Sgd : Optimizer<SgdOptions>
{
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0,
               bool nesterov = false, double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<SgdOptions>(parameters)], new SgdOptions(lr)
        { Momentum = momentum, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay, Maximize = maximize }) { }

    public Sgd(IEnumerable<GroupSpec<SgdOptions>> groups, SgdOptions defaults) : base(groups, defaults) { }

    /// <summary>This step's constants (the CPU pass rounds the same doubles to T).</summary>
    private static FusedStep Constants(SgdOptions o) => new()
    {
        Kind = FusedKind.Sgd, WeightDecay = o.WeightDecay, Momentum = o.Momentum, OneMinusDampening = 1 - o.Dampening, NegLr = -o.Lr,
        Nesterov = o.Nesterov, Maximize = o.Maximize,
    };

    private protected override (FusedStep Step, string[] Buffers) Fused(SgdOptions o, ParamGroup group, ParamState state)
    {
        state.Step++;
        return (Constants(o), o.Momentum != 0 ? ["momentum_buffer"] : []);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]   // hot loop: no tier-0 code
    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> g, SgdOptions o, ParamGroup group, ParamState state)
    {
        var f = Constants(o);
        T wd = C<T>(f.WeightDecay), mu = C<T>(f.Momentum), oneMinusDamp = C<T>(f.OneMinusDampening), negLr = C<T>(f.NegLr);
        bool useWd = o.WeightDecay != 0, useMu = o.Momentum != 0;
        bool fresh = false;
        Span<T> buf = useMu ? state.Buffer<T>("momentum_buffer", p.Length, out fresh) : default;
        state.Step++;
        int i = 0;
        if (VecMath.On)
        {
            Vector<T> vwd = new(wd), vmu = new(mu), v1md = new(oneMinusDamp), vlr = new(negLr);
            for (; i + Vector<T>.Count <= p.Length; i += Vector<T>.Count)   // the scalar loop below, Vector<T>.Count lanes at a time
            {
                Vector<T> d = new(g[i..]), pi = new(p[i..]);
                if (o.Maximize) d = -d;
                if (useWd) d = VecMath.Fma(vwd, pi, d);
                if (useMu)
                {
                    var b = fresh ? d : VecMath.Fma(v1md, d, vmu * new Vector<T>(buf[i..]));
                    b.CopyTo(buf[i..]);
                    d = o.Nesterov ? VecMath.Fma(vmu, b, d) : b;
                }
                VecMath.Fma(vlr, d, pi).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            T d = o.Maximize ? -g[i] : g[i];                             // g <- maximize ? -grad : grad
            if (useWd) d = T.FusedMultiplyAdd(wd, p[i], d);              // g <- g + wd*p
            if (useMu)
            {
                T b = fresh ? d : T.FusedMultiplyAdd(oneMinusDamp, d, mu * buf[i]);   // buf <- mu*buf + (1-dampening)*g (copy of g at first)
                buf[i] = b;
                d = o.Nesterov ? T.FusedMultiplyAdd(mu, b, d) : b;      // g <- nesterov ? g + mu*buf : buf
            }
            p[i] = T.FusedMultiplyAdd(negLr, d, p[i]);                    // p <- p - lr*g
        }
    }
}
