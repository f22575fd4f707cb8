// Schedule-Free AdamW and SGD: Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, "The Road Less Scheduled",
// NeurIPS 2024 (arXiv 2405.15682). Follows the authors' facebookresearch/schedule_free, commit 70785b5
// (schedulefree/adamw_schedulefree.py AdamWScheduleFree, schedulefree/sgd_schedulefree.py SGDScheduleFree), their
// single-tensor (foreach=False) path op by op, and their train()/eval() switch. Bit-level order: torch 1.13's ops as in
// tests/Tiny.Tests/data/OPTIM_SEMANTICS.md; lerp_(end, w) with a scalar weight is fma(w, end - p, p) for w < 0.5 (negative w included),
// else fma(-(end - p), 1 - w, end) (checked on torch 1.13: gen_golden_lit3.py's header).
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>What the schedule-free bookkeeping reads from a schedule-free options record.</summary>
public interface IScheduleFreeOptions
{
    /// <summary>The group's base learning rate, before the warmup factor.</summary>
    double Lr { get; }
    /// <summary>Steps of linear lr warmup: step k uses lr*(k+1)/warmup_steps while k &lt; warmup_steps.</summary>
    int WarmupSteps { get; }
    /// <summary>Power of (k+1) in the averaging weight (k+1)^r * lr_max^weight_lr_power (0: uniform in k).</summary>
    double R { get; }
    /// <summary>Power of the largest lr so far in the averaging weight.</summary>
    double WeightLrPower { get; }
    /// <summary>The interpolation momentum between y and z (AdamW: beta1; SGD: momentum).</summary>
    double Interpolation { get; }
}

/// <summary>Options of Schedule-Free AdamW (the reference's names and defaults; betas as beta1/beta2). The reference
/// checks none of them.</summary>
public sealed record ScheduleFreeAdamWOptions(double Lr = 0.0025) : OptimizerOptions(Lr), IScheduleFreeOptions
{
    /// <summary>Interpolation momentum between y and z (the weight of the average x in y = (1-b1)*z + b1*x).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Decay rate of the second-moment EMA v.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Added to the bias-corrected sqrt(v) in the denominator.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Weight decay coefficient wd: wd*y is added to the step direction, at the gradient point y (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Steps of linear lr warmup: step k uses lr*(k+1)/warmup_steps while k &lt; warmup_steps.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Power of (k+1) in the averaging weight (k+1)^r * lr_max^weight_lr_power (0: uniform in k).</summary>
    public double R { get; init; }
    /// <summary>Power of the largest lr so far in the averaging weight.</summary>
    public double WeightLrPower { get; init; } = 2.0;
    /// <summary>Momentum im of an EMA of the gradient used instead of g (0: none, the reference's default).</summary>
    public double InnerMomentum { get; init; }

    double IScheduleFreeOptions.Interpolation => Beta1;

    /// <summary>Checks nothing: the reference checks none of these options.</summary>
    public override void Validate() { }
}

/// <summary>Options of Schedule-Free SGD (the reference's names, defaults and checks).</summary>
public sealed record ScheduleFreeSgdOptions(double Lr = 1.0) : OptimizerOptions(Lr), IScheduleFreeOptions
{
    /// <summary>Interpolation momentum between y and z, in (0, 1) exclusive.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Weight decay coefficient wd: wd*y is added to the step direction, at the gradient point y (0: none).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Steps of linear lr warmup: step k uses lr*(k+1)/warmup_steps while k &lt; warmup_steps.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Power of (k+1) in the averaging weight (k+1)^r * lr_max^weight_lr_power (0: uniform in k).</summary>
    public double R { get; init; }
    /// <summary>Power of the largest lr so far in the averaging weight.</summary>
    public double WeightLrPower { get; init; } = 2.0;

    double IScheduleFreeOptions.Interpolation => Momentum;

    /// <summary>Checks lr, weight_decay and 0 &lt; momentum &lt; 1, throwing the reference's message for the first invalid one.</summary>
    public override void Validate()
    {
        Check(Lr >= 0, $"Invalid learning rate: {Py(Lr)}", "lr");
        Check(WeightDecay >= 0, $"Invalid weight_decay value: {Py(WeightDecay)}", "weight_decay");
        Check(Momentum > 0 && Momentum < 1, $"Momentum must be between 0 and 1 exclusive: {Py(Momentum)}", "momentum");
    }
}

/// <summary>
/// The schedule-free bookkeeping both variants share. The parameter p holds y, the point the gradient is taken at;
/// state["z"] is the base (SGD/AdamW) iterate; the evaluation point x, the weighted average of the z's, is not stored:
/// y = (1 - beta)*z + beta*x, so <see cref="Eval"/> moves p to x = lerp(y, z, 1 - 1/beta) and <see cref="Train"/> back
/// with lerp(x, z, 1 - beta), in place (round-off included, as the reference). Per group and step k (from 0; the
/// reference keeps k, lr_max, weight_sum, scheduled_lr and train_mode in its param_group: here
/// <see cref="ParamGroup.Scalars"/>, saved in the state dict):
/// <code>
/// sched = k &lt; warmup_steps ? (k+1)/warmup_steps : 1 ;  lr = group lr * sched
/// lr_max = max(lr, lr_max)                          # lr_max starts at -1
/// weight = (k+1)^r * lr_max^weight_lr_power ;  weight_sum += weight
/// ckp1 = weight / weight_sum                        # 0 when weight_sum is 0
/// </code>
/// A fresh optimizer is in train mode (the reference starts in eval mode and needs train() before its first step:
/// the same numbers, as there is no z to move yet). Step in eval mode throws, as the reference does.
/// </summary>
public abstract class ScheduleFree<TOptions> : Optimizer<TOptions> where TOptions : OptimizerOptions, IScheduleFreeOptions
{
    private protected ScheduleFree(IEnumerable<GroupSpec<TOptions>> groups, TOptions defaults) : base(groups, defaults) { }

    /// <summary>This step's lr, ckp1 and k of each group (set by BeginGroup).</summary>
    private readonly Dictionary<ParamGroup, (double Lr, double Ckp1, long K)> _now = [];

    /// <summary>Whether the group's parameters hold y (train mode) rather than x.</summary>
    public static bool Training(ParamGroup group) => group.Scalars.GetValueOrDefault("train_mode", 1) != 0;

    private protected sealed override void BeginGroup(ParamGroup group)
    {
        if (!Training(group))
            throw new InvalidOperationException($"{GetType().Name} was not in train mode when Step was called: call Train() after Eval() "
                                                + "(the reference: \"Optimizer was not in train mode when step is called\")");
        var o = (TOptions)group.Options;
        long k = (long)group.Scalars.GetValueOrDefault("k");
        double sched = k < o.WarmupSteps ? (double)(k + 1) / o.WarmupSteps : 1.0;
        double lr = o.Lr * sched;
        double lrMax = Math.Max(lr, group.Scalars.GetValueOrDefault("lr_max", -1.0));
        double weight = Math.Pow(k + 1, o.R) * Math.Pow(lrMax, o.WeightLrPower);
        double weightSum = group.Scalars.GetValueOrDefault("weight_sum") + weight;
        double ckp1 = weightSum == 0 ? 0 : weight / weightSum;   // Python's ZeroDivisionError -> 0
        group.Scalars["scheduled_lr"] = lr;
        group.Scalars["lr_max"] = lrMax;
        group.Scalars["weight_sum"] = weightSum;
        group.Scalars["k"] = k + 1;
        _now[group] = (lr, ckp1, k);
    }

    /// <summary>This step's (lr, ckp1, k) of the group.</summary>
    private protected (double Lr, double Ckp1, long K) Now(ParamGroup group) => _now[group];

    /// <summary>The schedule-free internals: ckp1, this step's weight of z in the average x (x = (1 - ckp1)*x + ckp1*z:
    /// 1/(k+1) with r = 0 and no warmup, the uniform average); lr, this step's lr after warmup; x_z_distance, ||x - z||_2,
    /// how far the evaluation point (the average) lies from the base iterate, from p = y = (1 - beta)*z + beta*x as
    /// ||y - z||/beta (x is not stored; beta the interpolation momentum, NaN when 0).</summary>
    private protected override void Internals(InternalsProbe probe, TOptions o)
    {
        if (probe.Buffer("z") is not { } z) return;
        var (lr, ckp1, _) = Now(probe.Group);
        probe.Add("ckp1", ckp1);
        probe.Add("lr", lr);
        probe.Add("x_z_distance", o.Interpolation == 0 ? double.NaN : InternalsProbe.Distance(probe.Param, z) / o.Interpolation);
    }

    /// <summary>Moves every parameter that has a z from y to x: p = lerp(p, z, 1 - 1/beta).</summary>
    public sealed override void Eval() => Switch(toTrain: false);

    /// <summary>Moves every parameter that has a z from x back to y: p = lerp(p, z, 1 - beta).</summary>
    public sealed override void Train() => Switch(toTrain: true);

    private void Switch(bool toTrain)
    {
        foreach (var group in ParamGroups)
        {
            if (Training(group) == toTrain) continue;
            double beta = ((TOptions)group.Options).Interpolation;
            if (!toTrain && beta == 0) throw new DivideByZeroException("float division by zero (1 - 1/beta1 with beta1 = 0)");
            double w = toTrain ? 1 - beta : 1 - 1 / beta;
            foreach (var p in group.Params)
            {
                if (StateOf(p) is not { } state || !state.Buffers.ContainsKey("z")) continue;
                if (state.IsElsewhere(p)) state.FollowDevice(p);
                ScheduleFreeSwitch.Run(p, state.Buffers["z"], w);
            }
            group.Scalars["train_mode"] = toTrain ? 1 : 0;
        }
    }
}

/// <summary>The schedule-free train/eval switch: p = lerp(p, z, w) in place, one fused pass on p's device.</summary>
public static class ScheduleFreeSwitch
{
    /// <summary>p = lerp(p, z, w) (torch's p.lerp_(z, w)).</summary>
    public static void Run(Tensor p, Tensor z, double w)
    {
        if (p.DType == DType.Float32) p.Backend.FusedMap<Map<float>, float>(new Map<float> { W = LerpWeight<float>.Of(w) }, p.Storage, z.Storage, []);
        else p.Backend.FusedMap<Map<double>, double>(new Map<double> { W = LerpWeight<double>.Of(w) }, p.Storage, z.Storage, []);
        p.MarkModified();
    }

    /// <summary>Per element: p = lerp(p, z, w) (z is the read-only input).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The interpolation weight w of p = lerp(p, z, w).</summary>
        public LerpWeight<T> W;

        /// <summary>One lane of the switch: p = lerp(p, z, w); r and the state slots unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<L>(in Map<T> c, L r, ref L p, L z, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T> =>
            p = c.W.Lerp(p, z);
    }
}

/// <summary>torch 1.13's <c>a.lerp_(b, w)</c> with a Python float weight (CPU kernel, AVX2 build, checked bit for bit):
/// w = c(w); w &lt; 0.5 ? fma(w, b - a, a) : fma(-(b - a), 1 - w, b), with 1 - w computed in T. The test is on w, not
/// |w| (a negative weight, Eval's 1 - 1/beta, takes the first form).</summary>
public struct LerpWeight<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The weight w rounded to T and 1 - w computed in T.</summary>
    public T W, OneMinusW;
    /// <summary>Whether w &gt;= 0.5 (torch's lerp then computes from the end point b).</summary>
    public Flag High;

    /// <summary>The weight w rounded to T, with 1 - w and the branch torch's lerp takes for it.</summary>
    public static LerpWeight<T> Of(double w)
    {
        var cw = T.CreateTruncating(w);
        return new() { W = cw, OneMinusW = T.One - cw, High = !(cw < T.CreateTruncating(0.5)) };
    }

    /// <summary>a + w*(b - a) lane-wise, rounded exactly as torch 1.13's CPU lerp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly L Lerp<L>(L a, L b) where L : struct, ILane<L, T> =>
        High ? L.Fma(-(b - a), L.Splat(OneMinusW), b) : L.Fma(L.Splat(W), b - a, a);
}

/// <summary>
/// Schedule-Free AdamW (AdamWScheduleFree, single-tensor path), per element at group step k (sched, lr, ckp1 from
/// <see cref="ScheduleFree{TOptions}"/>):
/// <code>
/// if z is new: z = p                                  # torch.clone(p) at the parameter's first step
/// v = b2*v + (1-b2)*g*g ;  denom = sqrt(v / (1 - b2^(k+1))) + eps
/// if inner_momentum != 0: m = im*m + (1-im)*g ;  d = m/(1 - im^(k+1)) / denom
/// else:                   d = g / denom               # the reference writes this into p.grad; here g is left as it is
/// if weight_decay != 0: d = d + weight_decay*y        # decay at y
/// y = lerp(y, z, ckp1) ;  y = y + lr*(b1*(1 - ckp1) - 1)*d
/// z = z - lr*d
/// </code>
/// State: z, exp_avg_sq (and exp_avg with inner_momentum).
/// </summary>
public sealed class ScheduleFreeAdamW : ScheduleFree<ScheduleFreeAdamWOptions>
{
    /// <summary>Schedule-Free AdamW over parameters as one param group, with the reference's arguments and defaults.</summary>
    public ScheduleFreeAdamW(IEnumerable<Tensor> parameters, double lr = 0.0025, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                             double weightDecay = 0, int warmupSteps = 0, double r = 0, double weightLrPower = 2.0, double innerMomentum = 0)
        : this([new GroupSpec<ScheduleFreeAdamWOptions>(parameters)], new ScheduleFreeAdamWOptions(lr)
        {
            Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, WarmupSteps = warmupSteps, R = r,
            WeightLrPower = weightLrPower, InnerMomentum = innerMomentum,
        }) { }

    /// <summary>Schedule-Free AdamW over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public ScheduleFreeAdamW(IEnumerable<GroupSpec<ScheduleFreeAdamWOptions>> groups, ScheduleFreeAdamWOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Plain = ["z", "exp_avg_sq"], WithMomentum = ["z", "exp_avg_sq", "exp_avg"];

    private protected override void Update<T>(Tensor p, Tensor grad, ScheduleFreeAdamWOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, o.InnerMomentum != 0 ? WithMomentum : Plain, out bool fresh);
        state.Step++;
        var (lr, ckp1, k) = Now(group);
        var map = new Map<T>
        {
            B2 = C<T>(o.Beta2), OneMinusB2 = C<T>(1 - o.Beta2), Bc2 = C<T>(1 - Math.Pow(o.Beta2, k + 1)), Eps = C<T>(o.Eps),
            Im = C<T>(o.InnerMomentum), OneMinusIm = C<T>(1 - o.InnerMomentum),
            Bc1 = C<T>(o.InnerMomentum != 0 ? 1 - Math.Pow(o.InnerMomentum, k + 1) : 1), Wd = C<T>(o.WeightDecay),
            Y = LerpWeight<T>.Of(ckp1), StepY = C<T>(lr * (o.Beta1 * (1 - ckp1) - 1)), NegLr = C<T>(-lr),
            Fresh = fresh, Momentum = o.InnerMomentum != 0, Decay = o.WeightDecay != 0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>Schedule-Free AdamW's internals: the schedule-free ones (ckp1, lr, x_z_distance), then step_p5, step_p50,
    /// step_p95, percentiles over the tensor's elements of the per-element step lr/(sqrt(v/(1 - b2^(k+1))) + eps) by
    /// which the gradient (or the inner momentum) moves z (from a sample in a larger tensor); bias_correction2,
    /// 1 - b2^(k+1).</summary>
    private protected override void Internals(InternalsProbe probe, ScheduleFreeAdamWOptions o)
    {
        base.Internals(probe, o);
        if (probe.Buffer("exp_avg_sq") is not { } v) return;
        var (lr, _, k) = Now(probe.Group);
        probe.AddStep(v, lr, o.Eps, 1 - Math.Pow(o.Beta2, k + 1));
        probe.Add("bias_correction2", 1 - Math.Pow(o.Beta2, k + 1));
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: b2, 1-b2, 1 - b2^(k+1), eps, im, 1-im, 1 - im^(k+1), wd,
        /// lr*(b1*(1 - ckp1) - 1) and -lr.</summary>
        public T B2, OneMinusB2, Bc2, Eps, Im, OneMinusIm, Bc1, Wd, StepY, NegLr;
        /// <summary>The weight ckp1 of y = lerp(y, z, ckp1).</summary>
        public LerpWeight<T> Y;
        /// <summary>Switches: z was just created (copy y into it), use the inner momentum, add weight decay.</summary>
        public Flag Fresh, Momentum, Decay;

        /// <summary>One Schedule-Free AdamW step of one lane: y (the parameter), z, v (and m with inner momentum) updated in place from g.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L y, L g, ref L z, ref L v, ref L m, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Fresh) z = y;                                                         // z = clone(p)
            v = L.Fma(L.Splat(c.OneMinusB2) * g, g, L.Splat(c.B2) * v);                // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
            var denom = L.Sqrt(v / L.Splat(c.Bc2)) + L.Splat(c.Eps);                   // exp_avg_sq.div(bc2).sqrt_().add_(eps)
            L d;
            if (c.Momentum)
            {
                m = L.Fma(L.Splat(c.OneMinusIm), g, m * L.Splat(c.Im));                // exp_avg.mul_(im).add_(g, alpha=1-im)
                d = m / L.Splat(c.Bc1) / denom;                                         // exp_avg.div(bc1).div_(denom)
            }
            else d = g / denom;                                                         // grad.div_(denom)
            if (c.Decay) d = L.Fma(L.Splat(c.Wd), y, d);                               // d.add_(y, alpha=decay)
            y = c.Y.Lerp(y, z);                                                         // y.lerp_(z, ckp1)
            y = L.Fma(L.Splat(c.StepY), d, y);                                          // y.add_(d, alpha=lr*(b1*(1-ckp1)-1))
            z = L.Fma(L.Splat(c.NegLr), d, z);                                          // z.sub_(d, alpha=lr)
        }
    }
}

/// <summary>
/// Schedule-Free SGD (SGDScheduleFree, single-tensor path), per element at group step k:
/// <code>
/// if z is new: z = p
/// if weight_decay != 0: g = g + weight_decay*y         # the reference writes this into p.grad; here g is left as it is
/// y = lerp(y, z, ckp1) ;  y = y + lr*(momentum*(1 - ckp1) - 1)*g
/// z = z - lr*g
/// </code>
/// State: z.
/// </summary>
public sealed class ScheduleFreeSgd : ScheduleFree<ScheduleFreeSgdOptions>
{
    /// <summary>Schedule-Free SGD over parameters as one param group, with the reference's arguments and defaults.</summary>
    public ScheduleFreeSgd(IEnumerable<Tensor> parameters, double lr = 1.0, double momentum = 0.9, double weightDecay = 0,
                           int warmupSteps = 0, double r = 0, double weightLrPower = 2.0)
        : this([new GroupSpec<ScheduleFreeSgdOptions>(parameters)], new ScheduleFreeSgdOptions(lr)
        { Momentum = momentum, WeightDecay = weightDecay, WarmupSteps = warmupSteps, R = r, WeightLrPower = weightLrPower }) { }

    /// <summary>Schedule-Free SGD over param groups, each with defaults as changed by its GroupSpec's Override.</summary>
    public ScheduleFreeSgd(IEnumerable<GroupSpec<ScheduleFreeSgdOptions>> groups, ScheduleFreeSgdOptions defaults) : base(groups, defaults) { }

    private static readonly string[] Z = ["z"];

    private protected override void Update<T>(Tensor p, Tensor grad, ScheduleFreeSgdOptions o, ParamGroup group, ParamState state)
    {
        var buffers = State(p, state, Z, out bool fresh);
        state.Step++;
        var (lr, ckp1, _) = Now(group);
        var map = new Map<T>
        {
            Wd = C<T>(o.WeightDecay), Y = LerpWeight<T>.Of(ckp1), StepY = C<T>(lr * (o.Momentum * (1 - ckp1) - 1)), NegLr = C<T>(-lr),
            Fresh = fresh, Decay = o.WeightDecay != 0,
        };
        Fuse<Map<T>, T>(map, p, grad, buffers);
    }

    /// <summary>The per-element update (CPU SIMD lanes and GPU threads run this code).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The step's constants rounded to T: wd, lr*(momentum*(1 - ckp1) - 1) and -lr.</summary>
        public T Wd, StepY, NegLr;
        /// <summary>The weight ckp1 of y = lerp(y, z, ckp1).</summary>
        public LerpWeight<T> Y;
        /// <summary>Switches: z was just created (copy y into it), add weight decay.</summary>
        public Flag Fresh, Decay;

        /// <summary>One Schedule-Free SGD step of one lane: y (the parameter) and z updated in place from g.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]   // one body with the driver loop: the lanes stay in registers
        public static void Apply<L>(in Map<T> c, L r, ref L y, L g, ref L z, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            if (c.Fresh) z = y;                                                         // z = clone(p)
            if (c.Decay) g = L.Fma(L.Splat(c.Wd), y, g);                               // grad.add_(y, alpha=wd)
            y = c.Y.Lerp(y, z);                                                         // y.lerp_(z, ckp1)
            y = L.Fma(L.Splat(c.StepY), g, y);                                          // y.add_(g, alpha=lr*(momentum*(1-ckp1)-1))
            z = L.Fma(L.Splat(c.NegLr), g, z);                                          // z.sub_(g, alpha=lr)
        }
    }
}
