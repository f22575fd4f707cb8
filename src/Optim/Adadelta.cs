// Adadelta: torch.optim.Adadelta (PyTorch 1.13, single-tensor path). Zeiler, "ADADELTA: An Adaptive Learning Rate
// Method", arXiv 1212.5701, 2012. Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of Adadelta (torch's names and defaults; lr defaults to 1.0).</summary>
public sealed record AdadeltaOptions(double Lr = 1.0) : OptimizerOptions(Lr)
{
    /// <summary>Decay rate of both running averages (of g^2 and of delta^2), in [0, 1].</summary>
    public double Rho { get; init; } = 0.9;
    /// <summary>Added inside both square roots.</summary>
    public double Eps { get; init; } = 1e-6;
    /// <summary>L2 penalty coefficient: wd*p is added to the gradient (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr, rho, eps and weight_decay, throwing torch's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(Rho >= 0 && Rho <= 1, $"Invalid rho value: {Py(Rho)}", "rho");
        Check(Eps >= 0, $"Invalid epsilon value: {Py(Eps)}", "eps");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
    }
}

/// <summary>
/// Adadelta, per element:
/// <code>
/// g = maximize ? -grad : grad ;  if wd != 0: g = g + wd*p
/// v = rho*v + (1-rho)*g*g
/// delta = sqrt(u + eps) / sqrt(v + eps) * g        # u: acc_delta of the previous step
/// u = rho*u + (1-rho)*delta*delta
/// p = p - lr*delta
/// </code>
/// State: square_avg, acc_delta.
/// </summary>
public sealed class Adadelta : Optimizer<AdadeltaOptions>
{
    /// <summary>Adadelta over parameters as one param group, with torch.optim.Adadelta's arguments and defaults.</summary>
    public Adadelta(IEnumerable<Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<AdadeltaOptions>(parameters)], new AdadeltaOptions(lr) { Rho = rho, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>Adadelta over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Adadelta(IEnumerable<GroupSpec<AdadeltaOptions>> groups, AdadeltaOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Averages = ["square_avg", "acc_delta"];

    private protected override void Update<T>(Tensor p, Tensor grad, AdadeltaOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Averages, out _);
        state.Step++;
        var map = new Map<T>
        {
            Rho = C<T>(o.Rho), OneMinusRho = C<T>(1 - o.Rho), Eps = C<T>(o.Eps), Wd = C<T>(o.WeightDecay), NegLr = C<T>(-o.Lr),
            Maximize = o.Maximize, L2 = o.WeightDecay != 0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Adadelta's internals: step_p5, step_p50, step_p95, percentiles over the tensor's elements of the
    /// per-element step lr*sqrt(u' + eps)/sqrt(v + eps) that multiplied g this update, u' the acc_delta before it; from
    /// a sample in a larger tensor. u' is recovered without cancellation from the state after the update: with
    /// a = u' + eps and r = g^2/(v + eps), u = rho*u' + (1-rho)*a*r, so a = (u + rho*eps)/(rho + (1-rho)*r) (g with the
    /// L2 term, read at p before the step). square_avg_norm, ||v||_2; acc_delta_norm, ||u||_2.</summary>
    private protected override void Internals(InternalsProbe probe, AdadeltaOptions o)
    {
        if (probe.Buffer("square_avg") is not { } v || probe.Buffer("acc_delta") is not { } u) return;
        double[] vs = InternalsProbe.Sample(v), us = InternalsProbe.Sample(u), g = InternalsProbe.Sample(probe.Grad);
        double[]? p = o.WeightDecay != 0 ? InternalsProbe.Sample(probe.Param) : null, d = p is null ? null : InternalsProbe.Sample(probe.NegUpdate);
        var step = new double[vs.Length];
        for (int i = 0; i < step.Length; i++)
        {
            double gi = (o.Maximize ? -g[i] : g[i]) + (p is null ? 0 : o.WeightDecay * (p[i] + d![i]));   // p_before = p + (-delta)
            double a = (us[i] + o.Rho * o.Eps) / (o.Rho + (1 - o.Rho) * gi * gi / (vs[i] + o.Eps));
            step[i] = o.Lr * Math.Sqrt(a) / Math.Sqrt(vs[i] + o.Eps);
        }
        probe.AddPercentiles("step", step);
        probe.Add("square_avg_norm", InternalsProbe.Norm(v));
        probe.Add("acc_delta_norm", InternalsProbe.Norm(u));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: rho, 1-rho, eps, wd and -lr.</summary>
        public T Rho, OneMinusRho, Eps, Wd, NegLr;
        /// <summary>Switches: negate the gradient, add the L2 term wd*p.</summary>
        public Flag Maximize, L2;

        /// <summary>One Adadelta step of one lane: p, square_avg v and acc_delta u updated in place from g; r, s2 and s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L v, ref L u, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p
            v = L.Fma(L.Splat(c.OneMinusRho) * g, g, v * L.Splat(c.Rho));              // v <- rho*v + (1-rho)*g*g
            var std = L.Sqrt(v + L.Splat(c.Eps));                                      // sqrt(v + eps): eps inside
            var delta = L.Sqrt(u + L.Splat(c.Eps)) / std * g;                          // sqrt(u + eps)/std * g
            u = L.Fma(L.Splat(c.OneMinusRho) * delta, delta, u * L.Splat(c.Rho));      // u <- rho*u + (1-rho)*delta^2
            p = L.Fma(L.Splat(c.NegLr), delta, p);                                     // p <- p - lr*delta
        }
    }
}
