// Adam, AMSGrad and AdamW: torch.optim.Adam / AdamW (PyTorch 1.13, single-tensor path).
// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; Reddi et al., "On the Convergence of Adam
// and Beyond" (AMSGrad), ICLR 2018; Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (AdamW), ICLR 2019.
using System.Numerics;

namespace Tiny.Optim;

/// <summary>Options of Adam and AdamW (AdamW's WeightDecay is decoupled and defaults to 1e-2).</summary>
public sealed record AdamOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
    public bool Amsgrad { get; init; }
    public bool Maximize { get; init; }

    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1, $"Invalid beta parameter at index 0: {Py(Beta1)}", "beta1");
        Check(Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameter at index 1: {Py(Beta2)}", "beta2");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
    }
}

/// <summary>Adam (coupled L2 weight decay); AdamW derives from it with decoupled decay.</summary>
public class Adam : Optimizer<AdamOptions>
{
    private readonly bool _decoupled;

    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new GroupSpec<AdamOptions>(parameters)], new AdamOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize }) { }

    public Adam(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults) : this(groups, defaults, false) { }

    private protected Adam(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults, bool decoupled)
        : base(groups, defaults) => _decoupled = decoupled;

    /// <summary>Step t's constants in double (the CPU pass rounds them to T; a device kernel gets them as they are).</summary>
    private FusedStep Constants(AdamOptions o, long t)
    {
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);   // bias corrections 1 - b^t
        return new FusedStep
        {
            Kind = FusedKind.Adam, Beta1 = o.Beta1, OneMinusBeta1 = 1 - o.Beta1, Beta2 = o.Beta2, OneMinusBeta2 = 1 - o.Beta2,
            WeightDecay = o.WeightDecay, Decay = 1 - o.Lr * o.WeightDecay, Eps = o.Eps,
            Bc2Sqrt = Math.Sqrt(bc2), StepSize = -(o.Lr / bc1), Amsgrad = o.Amsgrad, Maximize = o.Maximize, Decoupled = _decoupled,
        };
    }

    private protected sealed override (FusedStep Step, string[] Buffers) Fused(AdamOptions o, ParamGroup group, ParamState state) =>
        (Constants(o, ++state.Step), o.Amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"]);

    protected sealed override void Update<T>(Span<T> p, ReadOnlySpan<T> g, AdamOptions o, ParamGroup group, ParamState state)
    {
        long t = ++state.Step;
        var m = state.Buffer<T>("exp_avg", p.Length);
        var v = state.Buffer<T>("exp_avg_sq", p.Length);
        var vmax = o.Amsgrad ? state.Buffer<T>("max_exp_avg_sq", p.Length) : default;
        var f = Constants(o, t);
        T b1 = C<T>(f.Beta1), oneMinusB1 = C<T>(f.OneMinusBeta1), b2 = C<T>(f.Beta2), oneMinusB2 = C<T>(f.OneMinusBeta2);
        T wd = C<T>(f.WeightDecay), decay = C<T>(f.Decay), eps = C<T>(f.Eps);
        T bc2Sqrt = C<T>(f.Bc2Sqrt), negStep = C<T>(f.StepSize);
        bool l2 = o.WeightDecay != 0 && !_decoupled;
        int i = 0;
        if (VecMath.On)
        {
            Vector<T> vb1 = new(b1), v1mb1 = new(oneMinusB1), vb2 = new(b2), v1mb2 = new(oneMinusB2), vwd = new(wd), vdecay = new(decay),
                      veps = new(eps), vbc2 = new(bc2Sqrt), vstep = new(negStep);
            for (; i + Vector<T>.Count <= p.Length; i += Vector<T>.Count)   // the scalar loop below, Vector<T>.Count lanes at a time
            {
                Vector<T> gi = new(g[i..]), pi = new(p[i..]);
                if (o.Maximize) gi = -gi;
                if (_decoupled) pi *= vdecay;
                else if (l2) gi = VecMath.Fma(vwd, pi, gi);
                var mi = VecMath.Fma(v1mb1, gi, vb1 * new Vector<T>(m[i..]));
                var vi = VecMath.Fma(v1mb2 * gi, gi, vb2 * new Vector<T>(v[i..]));
                mi.CopyTo(m[i..]); vi.CopyTo(v[i..]);
                if (o.Amsgrad) { vi = Vector.Max(new Vector<T>(vmax[i..]), vi); vi.CopyTo(vmax[i..]); }
                (pi + vstep * mi / (Vector.SquareRoot(vi) / vbc2 + veps)).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            T gi = o.Maximize ? -g[i] : g[i];
            if (_decoupled) p[i] *= decay;                                 // AdamW: p <- p*(1 - lr*wd)
            else if (l2) gi = T.FusedMultiplyAdd(wd, p[i], gi);             // Adam:  g <- g + wd*p
            T mi = T.FusedMultiplyAdd(oneMinusB1, gi, b1 * m[i]);           // m <- b1*m + (1-b1)*g
            T vi = T.FusedMultiplyAdd(oneMinusB2 * gi, gi, b2 * v[i]);      // v <- b2*v + (1-b2)*g*g
            m[i] = mi; v[i] = vi;
            if (o.Amsgrad) vi = vmax[i] = T.Max(vmax[i], vi);               // vmax <- max(vmax, v)
            T denom = T.Sqrt(vi) / bc2Sqrt + eps;                           // sqrt(v)/sqrt(bc2) + eps (eps after correction)
            p[i] += negStep * mi / denom;                                   // p <- p - (lr/bc1) * m/denom
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay p &lt;- p*(1 - lr*wd) before the Adam step.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                 double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new GroupSpec<AdamOptions>(parameters)], new AdamOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Amsgrad = amsgrad, Maximize = maximize }) { }

    public AdamW(IEnumerable<GroupSpec<AdamOptions>> groups, AdamOptions defaults) : base(groups, defaults, true) { }
}
