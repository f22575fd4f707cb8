// AdaBound / AMSBound and AdaBoundW: Luo, Xiong, Liu, Sun, "Adaptive Gradient Methods with Dynamic Bound of
// Learning Rate", ICLR 2019; the official code (github.com/Luolc/AdaBound), not the paper's pseudo-code.
using System.Numerics;

namespace Tiny.Optim;

/// <summary>Options of AdaBound. Decoupled = the official AdaBoundW class (p &lt;- p - eta*m - wd*p).</summary>
public sealed record AdaBoundOptions(double Lr = 1e-3) : OptimizerOptions(Lr)
{
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double FinalLr { get; init; } = 0.1;
    public double Gamma { get; init; } = 1e-3;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
    public bool AmsBound { get; init; }
    public bool Decoupled { get; init; }

    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1, $"Invalid beta parameters: ({Py(Beta1)}, {Py(Beta2)})", "betas");
        Check(FinalLr >= 0, $"Invalid final learning rate: {Py(FinalLr)}", "final_lr");
        Check(Gamma >= 0 && Gamma < 1, $"Invalid gamma parameter: {Py(Gamma)}", "gamma");
    }
}

/// <summary>AdaBound: Adam whose per-element step is clipped into bounds that converge to SGD's final_lr.</summary>
public sealed class AdaBound : Optimizer<AdaBoundOptions>
{
    public AdaBound(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                    double finalLr = 0.1, double gamma = 1e-3, double eps = 1e-8, double weightDecay = 0,
                    bool amsbound = false, bool decoupled = false)
        : this([new GroupSpec<AdaBoundOptions>(parameters)], new AdaBoundOptions(lr)
        { Beta1 = beta1, Beta2 = beta2, FinalLr = finalLr, Gamma = gamma, Eps = eps, WeightDecay = weightDecay, AmsBound = amsbound, Decoupled = decoupled }) { }

    public AdaBound(IEnumerable<GroupSpec<AdaBoundOptions>> groups, AdaBoundOptions defaults) : base(groups, defaults) { }

    /// <summary>Step t's constants in double (the CPU pass rounds them to T; a device kernel gets them as they are).</summary>
    private static FusedStep Constants(AdaBoundOptions o, ParamGroup group, long t)
    {
        double bc1 = 1 - Math.Pow(o.Beta1, t), bc2 = 1 - Math.Pow(o.Beta2, t);
        double stepSize = o.Lr * Math.Sqrt(bc2) / bc1;                     // lr * sqrt(1-b2^t) / (1-b1^t)
        double finalLr = o.FinalLr * o.Lr / group.InitialLr;              // a scheduled lr scales the SGD target too
        double lower = finalLr * (1 - 1 / (o.Gamma * t + 1));             // final*(1 - 1/(gamma*t+1))
        double upper = finalLr * (1 + 1 / (o.Gamma * t));                 // final*(1 + 1/(gamma*t))
        return new FusedStep
        {
            Kind = FusedKind.AdaBound, Beta1 = o.Beta1, OneMinusBeta1 = 1 - o.Beta1, Beta2 = o.Beta2, OneMinusBeta2 = 1 - o.Beta2,
            WeightDecay = o.WeightDecay, Eps = o.Eps, StepSize = stepSize, Lower = lower, Upper = upper,
            Amsgrad = o.AmsBound, Decoupled = o.Decoupled,
        };
    }

    private protected override (FusedStep Step, string[] Buffers) Fused(AdaBoundOptions o, ParamGroup group, ParamState state) =>
        (Constants(o, group, ++state.Step), o.AmsBound ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"]);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]   // hot loop: no tier-0 code
    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> g, AdaBoundOptions o, ParamGroup group, ParamState state)
    {
        long t = ++state.Step;
        var m = state.Buffer<T>("exp_avg", p.Length);
        var v = state.Buffer<T>("exp_avg_sq", p.Length);
        var vmax = o.AmsBound ? state.Buffer<T>("max_exp_avg_sq", p.Length) : default;
        var f = Constants(o, group, t);
        T b1 = C<T>(f.Beta1), oneMinusB1 = C<T>(f.OneMinusBeta1), b2 = C<T>(f.Beta2), oneMinusB2 = C<T>(f.OneMinusBeta2);
        T wd = C<T>(f.WeightDecay), eps = C<T>(f.Eps), step = C<T>(f.StepSize), lo = C<T>(f.Lower), hi = C<T>(f.Upper);
        bool l2 = o.WeightDecay != 0 && !o.Decoupled, decay = o.WeightDecay != 0 && o.Decoupled;
        int i = 0;
        if (VecMath.On)
        {
            Vector<T> vb1 = new(b1), v1mb1 = new(oneMinusB1), vb2 = new(b2), v1mb2 = new(oneMinusB2), vwd = new(wd),
                      veps = new(eps), vstep = new(step), vlo = new(lo), vhi = new(hi);
            for (; i + Vector<T>.Count <= p.Length; i += Vector<T>.Count)   // the scalar loop below, Vector<T>.Count lanes at a time
            {
                Vector<T> gi = new(g[i..]), pi = new(p[i..]);
                if (l2) gi = VecMath.Fma(vwd, pi, gi);
                var mi = VecMath.Fma(v1mb1, gi, vb1 * new Vector<T>(m[i..]));
                var vi = VecMath.Fma(v1mb2 * gi, gi, vb2 * new Vector<T>(v[i..]));
                mi.CopyTo(m[i..]); vi.CopyTo(v[i..]);
                if (o.AmsBound) { vi = Vector.Max(new Vector<T>(vmax[i..]), vi); vi.CopyTo(vmax[i..]); }
                var eta = Vector.Min(Vector.Max(vstep / (Vector.SquareRoot(vi) + veps), vlo), vhi) * mi;
                (decay ? (pi - eta) - pi * vwd : pi - eta).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            T gi = g[i];
            if (l2) gi = T.FusedMultiplyAdd(wd, p[i], gi);                  // g <- g + wd*p
            T mi = T.FusedMultiplyAdd(oneMinusB1, gi, b1 * m[i]);           // m <- b1*m + (1-b1)*g
            T vi = T.FusedMultiplyAdd(oneMinusB2 * gi, gi, b2 * v[i]);      // v <- b2*v + (1-b2)*g*g
            m[i] = mi; v[i] = vi;
            if (o.AmsBound) vi = vmax[i] = T.Max(vmax[i], vi);              // vmax <- max(vmax, v)
            T denom = T.Sqrt(vi) + eps;                                     // sqrt(v) + eps (eps before correction)
            T eta = T.Min(T.Max(step / denom, lo), hi) * mi;                // clamp(step_size/denom, lower, upper) * m
            if (decay) p[i] = (p[i] - eta) - p[i] * wd;                     // AdaBoundW: p <- p - eta*m - wd*p_old
            else p[i] -= eta;                                               // p <- p - eta*m
        }
    }
}
