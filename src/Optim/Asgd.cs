// ASGD: torch.optim.ASGD (PyTorch 1.13, single-tensor path). Polyak & Juditsky, "Acceleration of Stochastic
// Approximation by Averaging", SIAM J. Control Optim. 1992; the step-size schedule of Bottou, "Stochastic Gradient
// Descent Tricks", 2012. Bit-level order: tests/Tiny.Tests/data/OPTIM_SEMANTICS.md.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>Options of ASGD (torch's names and defaults).</summary>
public sealed record AsgdOptions(double Lr = 1e-2) : OptimizerOptions(Lr)
{
    /// <summary>Decay term lambd: the iterate shrinks by (1 - lambd*eta) each step, and eta decays with it.</summary>
    public double Lambd { get; init; } = 1e-4;
    /// <summary>Power of the eta schedule eta = lr / (1 + lambd*lr*t)^alpha.</summary>
    public double Alpha { get; init; } = 0.75;
    /// <summary>Step at which averaging starts (mu = 1/max(1, t - t0)).</summary>
    public double T0 { get; init; } = 1e6;
    /// <summary>L2 penalty coefficient: wd*p is added to the gradient (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Ascend the objective instead of descending it: the gradient is negated.</summary>
    public bool Maximize { get; init; }

    /// <summary>Checks lr and weight_decay, throwing torch's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
    }
}

/// <summary>
/// ASGD, per element, step t (eta starts at lr, mu at 1; both float32 scalars per tensor, as torch 1.13 keeps them):
/// <code>
/// g = maximize ? -grad : grad ;  if wd != 0: g = g + wd*p
/// p = p * (1 - lambd*eta)
/// p = p - eta*g
/// ax = mu != 1 ? ax + (p - ax)*mu : p            # the running average of the iterates, from step t0 + 2 on
/// eta = lr / (1 + lambd*lr*t)^alpha ;  mu = 1 / max(1, t - t0)
/// </code>
/// The parameter is the SGD iterate; the averaged parameter is state["ax"]. State: ax, and the scalars eta and mu.
/// </summary>
public sealed class Asgd : Optimizer<AsgdOptions>
{
    /// <summary>ASGD over parameters as one param group, with torch.optim.ASGD's arguments and defaults.</summary>
    public Asgd(IEnumerable<Tensor> parameters, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6,
                double weightDecay = 0, bool maximize = false)
        : this([new GroupSpec<AsgdOptions>(parameters)], new AsgdOptions(lr)
        { Lambd = lambd, Alpha = alpha, T0 = t0, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>ASGD over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public Asgd(IEnumerable<GroupSpec<AsgdOptions>> groups, AsgdOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Average = ["ax"];

    private protected override void Update<T>(Tensor p, Tensor grad, AsgdOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Average, out _);
        long t = ++state.Step;
        double eta = state.Scalars.GetValueOrDefault("eta", (float)o.Lr), mu = state.Scalars.GetValueOrDefault("mu", 1.0);
        var map = new Map<T>
        {
            Wd = C<T>(o.WeightDecay), Decay = C<T>(1 - o.Lambd * eta), NegEta = C<T>(-eta), Mu = C<T>(mu),
            Maximize = o.Maximize, L2 = o.WeightDecay != 0, Averaging = mu != 1,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
        state.Scalars["eta"] = (float)(o.Lr / Math.Pow(1 + o.Lambd * o.Lr * t, o.Alpha));   // float32, as torch holds it
        state.Scalars["mu"] = (float)(1 / Math.Max(1, t - o.T0));
    }

    /// <summary>ASGD's internals: eta and mu, the step size and averaging weight the next update uses (torch's
    /// state['eta'] and state['mu']: eta = lr/(1 + lambd*lr*t)^alpha, mu = 1/max(1, t - t0)); ax_distance, ||ax - p||_2,
    /// how far the averaged parameter (the one to evaluate) lies from the SGD iterate (0 before averaging starts).</summary>
    private protected override void Internals(InternalsProbe probe, AsgdOptions o)
    {
        if (probe.State is not { } s || probe.Buffer("ax") is not { } ax) return;
        probe.Add("eta", s.Scalars.GetValueOrDefault("eta", (float)o.Lr));
        probe.Add("mu", s.Scalars.GetValueOrDefault("mu", 1.0));
        probe.Add("ax_distance", InternalsProbe.Distance(ax, probe.Param));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: wd, 1 - lambd*eta, -eta and the averaging weight mu.</summary>
        public T Wd, Decay, NegEta, Mu;
        /// <summary>Switches: negate the gradient, add the L2 term, average (mu != 1) instead of copying p into ax.</summary>
        public Flag Maximize, L2, Averaging;

        /// <summary>One ASGD step of one lane: the iterate p and its average ax updated in place from g; r, s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L p, L g, ref L ax, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Maximize) g = -g;
            if (c.L2) g = L.Fma(L.Splat(c.Wd), p, g);                                  // g <- g + wd*p (p before the decay)
            p *= L.Splat(c.Decay);                                                      // p <- p*(1 - lambd*eta)
            p = L.Fma(L.Splat(c.NegEta), g, p);                                         // p <- p - eta*g
            ax = c.Averaging ? ax + (p - ax) * L.Splat(c.Mu) : p;                       // ax <- ax + (p - ax)*mu, or a copy of p
        }
    }
}
