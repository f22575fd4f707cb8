// AlphaGrad: Sane, "AlphaGrad: Non-Linear Gradient Normalization Optimizer", arXiv 2504.16020 (2025); the
// author's reference class (CleanRL fork, cleanrl/optim/sgd.py): per tensor g <- tanh(alpha*g/(||g||+eps)),
// then SGD's weight decay and momentum. Without momentum it keeps no state at all.
using System.Numerics;

namespace Tiny.Optim;

/// <summary>Options of AlphaGrad; Alpha is the tanh steepness (-> 0: normalised GD, -> inf: sign descent).</summary>
public sealed record AlphaGradOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    public double Alpha { get; init; } = 1.0;
    public double Eps { get; init; } = 1e-8;
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public bool Maximize { get; init; }

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

/// <summary>AlphaGrad: layer-wise normalised, tanh-squashed gradient, then SGD (momentum optional).</summary>
public sealed class AlphaGrad : Optimizer<AlphaGradOptions>
{
    public AlphaGrad(IEnumerable<Tensor> parameters, double lr = 1e-3, double alpha = 1.0, double eps = 1e-8,
                     double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<AlphaGradOptions>(parameters)], new AlphaGradOptions(lr)
        { Alpha = alpha, Eps = eps, Momentum = momentum, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay, Maximize = maximize }) { }

    public AlphaGrad(IEnumerable<GroupSpec<AlphaGradOptions>> groups, AlphaGradOptions defaults) : base(groups, defaults) { }

    /// <summary>This step's constants (the CPU pass rounds the same doubles to T).</summary>
    private static FusedStep Constants(AlphaGradOptions o) => new()
    {
        Kind = FusedKind.AlphaGrad, Alpha = o.Alpha, Eps = o.Eps, WeightDecay = o.WeightDecay, Momentum = o.Momentum,
        OneMinusDampening = 1 - o.Dampening, NegLr = -o.Lr, Nesterov = o.Nesterov, Maximize = o.Maximize,
    };

    private protected override (FusedStep Step, string[] Buffers) Fused(AlphaGradOptions o, ParamGroup group, ParamState state)
    {
        if (o.Momentum != 0) state.Step++;
        return (Constants(o), o.Momentum != 0 ? ["momentum_buffer"] : []);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]   // hot loop: no tier-0 code
    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> g, AlphaGradOptions o, ParamGroup group, ParamState state)
    {
        var f = Constants(o);
        T scale = Norms.L2(g) + C<T>(f.Eps);                                  // ||g||_2 + eps (the sign of g does not matter)
        T alpha = C<T>(f.Alpha), wd = C<T>(f.WeightDecay), mu = C<T>(f.Momentum), oneMinusDamp = C<T>(f.OneMinusDampening), negLr = C<T>(f.NegLr);
        bool useWd = o.WeightDecay != 0, useMu = o.Momentum != 0;
        bool fresh = false;
        Span<T> buf = useMu ? state.Buffer<T>("momentum_buffer", p.Length, out fresh) : default;
        if (useMu) state.Step++;
        // One pass in chunks: u = tanh(alpha*g/scale) into a stack buffer (vectorised tanh), then the SGD update.
        const int chunk = 256;
        Span<T> u = stackalloc T[chunk];
        for (int start = 0; start < p.Length; start += chunk)
        {
            int len = Math.Min(chunk, p.Length - start);
            var gs = g.Slice(start, len);
            var us = u[..len];
            int j0 = 0;
            if (VecMath.On)
                for (Vector<T> va = new(o.Maximize ? -alpha : alpha), vs = new(scale); j0 + Vector<T>.Count <= len; j0 += Vector<T>.Count)
                    (va * new Vector<T>(gs[j0..]) / vs).CopyTo(us[j0..]);
            for (int j = j0; j < len; j++) us[j] = alpha * (o.Maximize ? -gs[j] : gs[j]) / scale;   // alpha * g/(||g|| + eps)
            Tiny.Cpu.TorchTanh.Tanh<T>(us, us);                                    // g <- tanh(...), torch's bits
            int k = 0;
            if (VecMath.On)
            {
                Vector<T> vwd = new(wd), vmu = new(mu), v1md = new(oneMinusDamp), vlr = new(negLr);
                for (; k + Vector<T>.Count <= len; k += Vector<T>.Count)   // the scalar loop below, Vector<T>.Count lanes at a time
                {
                    int i = start + k;
                    Vector<T> d = new(us[k..]), pi = new(p[i..]);
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
            for (int j = k; j < len; j++)
            {
                int i = start + j;
                T d = us[j];
                if (useWd) d = T.FusedMultiplyAdd(wd, p[i], d);                  // g <- g + wd*p
                if (useMu)
                {
                    T b = fresh ? d : T.FusedMultiplyAdd(oneMinusDamp, d, mu * buf[i]);   // buf <- mu*buf + (1-dampening)*g
                    buf[i] = b;
                    d = o.Nesterov ? T.FusedMultiplyAdd(mu, b, d) : b;          // g <- nesterov ? g + mu*buf : buf
                }
                p[i] = T.FusedMultiplyAdd(negLr, d, p[i]);                        // p <- p - lr*g
            }
        }
    }
}
