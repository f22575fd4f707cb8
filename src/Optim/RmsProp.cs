// RMSprop: torch.optim.RMSprop (PyTorch 1.13, single-tensor path). Tieleman & Hinton, "Lecture 6.5 - rmsprop",
// COURSERA: Neural Networks for Machine Learning, 2012; centered form: Graves, "Generating Sequences With Recurrent
// Neural Networks", arXiv 1308.0850, 2013. Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of RMSprop (torch's names and defaults).</summary>
public sealed record RmsPropOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
{
    /// <summary>Smoothing constant: decay rate of the EMA of g^2 (and of g when centered).</summary>
    public double Alpha { get; init; } = 0.99;
    /// <summary>Added to the RMS after the square root.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>L2 penalty coefficient: wd*p is added to the gradient (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Momentum factor mu of the buffer of normalised gradients (0: none).</summary>
    public double Momentum { get; init; }
    /// <summary>Normalise by the estimated standard deviation sqrt(v - ga^2) instead of the RMS (adds grad_avg).</summary>
    public bool Centered { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, eps, momentum, weight_decay and alpha, throwing torch's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(Momentum >= 0, $"Invalid momentum value: {Py(Momentum)}", "momentum");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(Alpha >= 0, $"Invalid alpha value: {Py(Alpha)}", "alpha");
    }
}

/// <summary>
/// RMSprop, per element:
/// <code>
/// g = maximize ? -grad : grad ;  if wd != 0: g = g + wd*p
/// v = alpha*v + (1-alpha)*g*g
/// centered: ga = alpha*ga + (1-alpha)*g ; avg = sqrt(v - ga*ga) + eps     else: avg = sqrt(v) + eps
/// momentum > 0: buf = mu*buf + g/avg ; p = p - lr*buf                     else: p = p - lr*g/avg
/// </code>
/// State: square_avg, momentum_buffer (momentum > 0; starts at zero, no dampening), grad_avg (centered).
/// </summary>
public sealed class RmsProp : Optimizer<RmsPropOptions>
{
    /// <summary>RMSprop over parameters as one param group, with torch.optim.RMSprop's arguments and defaults.</summary>
    public RmsProp(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0,
                   double momentum = 0, bool centered = false, bool maximize = false)
        : this([new GroupSpec<RmsPropOptions>(parameters)], new RmsPropOptions(lr)
        { Alpha = alpha, Eps = eps, WeightDecay = weightDecay, Momentum = momentum, Centered = centered, Maximize = maximize }) { }

    /// <summary>RMSprop over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public RmsProp(IEnumerable<GroupSpec<RmsPropOptions>> groups, RmsPropOptions defaults) : base(groups, defaults) { }

    // Fixed slots s0 = square_avg, s1 = momentum_buffer, s2 = grad_avg; null where unused.
    private static readonly string?[][] Slots =
        [["square_avg", null, null], ["square_avg", "momentum_buffer", null], ["square_avg", null, "grad_avg"], ["square_avg", "momentum_buffer", "grad_avg"]];

    private protected override void Update<T>(Tensor p, Tensor grad, RmsPropOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Slots[(o.Momentum > 0 ? 1 : 0) + (o.Centered ? 2 : 0)], out _);
        state.Step++;
        var map = new Map<T>
        {
            Alpha = C<T>(o.Alpha), OneMinusAlpha = C<T>(1 - o.Alpha), Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay), Mu = C<T>(o.Momentum),
            NegLr = C<T>(-o.Lr), Maximize = o.Maximize, L2 = o.WeightDecay != 0, UseMomentum = o.Momentum > 0, Centered = o.Centered,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>RMSprop's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the per-element
    /// step lr/(sqrt(v) + eps) (centered: lr/(sqrt(v - ga^2) + eps), v and ga sampled at the same elements) that
    /// multiplies g (with momentum: g enters the buffer so); from a sample in a larger tensor; square_avg_norm, ||v||_2;
    /// momentum_norm, ||buf||_2 (momentum &gt; 0); grad_avg_norm, ||ga||_2 (centered).</summary>
    private protected override void Internals(InternalsProbe probe, RmsPropOptions o)
    {
        if (probe.Buffer("square_avg") is not { } v) return;
        var ga = probe.Buffer("grad_avg");
        if (ga is null) probe.AddStep(v, o.Lr, o.Eps);
        else
        {
            double[] d = InternalsProbe.Sample(v), a = InternalsProbe.Sample(ga);
            for (int i = 0; i < d.Length; i++) d[i] -= a[i] * a[i];                     // v - ga^2
            probe.AddPercentiles("step", d, x => o.Lr / (Math.Sqrt(x) + o.Eps));
        }
        probe.Add("square_avg_norm", InternalsProbe.Norm(v));
        if (probe.Buffer("momentum_buffer") is { } buf) probe.Add("momentum_norm", InternalsProbe.Norm(buf));
        if (ga is not null) probe.Add("grad_avg_norm", InternalsProbe.Norm(ga));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: alpha, 1-alpha, eps, wd, momentum and -lr.</summary>
        public T Alpha, OneMinusAlpha, Eps, Wd, Mu, NegLr;
        /// <summary>Switches: negate the gradient, add the L2 term, use the momentum buffer, centre the second moment.</summary>
        public Flag Maximize, L2, UseMomentum, Centered;

        /// <summary>One RMSprop step of one lane: p, v (buf with momentum, ga when centered) updated in place from g; r and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L v, ref L buf, ref L ga, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            v = L.Fma(L.Splat(c.OneMinusAlpha) * g, g, v * L.Splat(c.Alpha));          // v <- alpha*v + (1-alpha)*g*g
            L avg;
            if (c.Centered)
            {
                ga = L.Fma(L.Splat(c.OneMinusAlpha), g, ga * L.Splat(c.Alpha));        // ga <- alpha*ga + (1-alpha)*g
                avg = L.Sqrt(L.Fma(-ga, ga, v));                                        // sqrt(v - ga^2), no clamp (torch's)
            }
            else avg = L.Sqrt(v);
            avg += L.Splat(c.Eps);                                                      // eps after the sqrt
            if (c.UseMomentum)
            {
                buf = buf * L.Splat(c.Mu) + g / avg;                                    // buf <- mu*buf + g/avg (addcdiv: no FMA)
                p = L.Fma(L.Splat(c.NegLr), buf, p);                                    // p <- p - lr*buf
            }
            else p += L.Splat(c.NegLr) * g / avg;                                       // p <- p - lr*g/avg
        }
    }
}
