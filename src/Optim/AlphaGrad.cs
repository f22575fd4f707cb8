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

    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> g, AlphaGradOptions o, ParamGroup group, ParamState state)
    {
        T sumSq = T.Zero;                                                    // ||g||_2: sequential FMA sum of squares
        for (int i = 0; i < g.Length; i++) sumSq = T.FusedMultiplyAdd(g[i], g[i], sumSq);
        T scale = T.Sqrt(sumSq) + C<T>(o.Eps);                                // ||g|| + eps (the sign of g does not matter)
        T alpha = C<T>(o.Alpha), wd = C<T>(o.WeightDecay), mu = C<T>(o.Momentum), oneMinusDamp = C<T>(1 - o.Dampening), negLr = C<T>(-o.Lr);
        bool useWd = o.WeightDecay != 0, useMu = o.Momentum != 0;
        bool fresh = false;
        Span<T> buf = useMu ? state.Buffer<T>("momentum_buffer", p.Length, out fresh) : default;
        if (useMu) state.Step++;
        for (int i = 0; i < p.Length; i++)
        {
            T d = o.Maximize ? -g[i] : g[i];
            d = T.Tanh(alpha * d / scale);                                    // g <- tanh(alpha * g/(||g|| + eps))
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
