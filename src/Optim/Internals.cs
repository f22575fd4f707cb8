// Internals: the opt-in recorder of what an optimizer does to each tensor every N updates (gradient, update and
// parameter norms, their ratio, the update's cosine with -grad, and the optimizer's own declared metrics).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;

namespace Tiny.Optim;

/// <summary>One recorded value: at <paramref name="Step"/> (the recorder's clock: env steps in a run, else the update's
/// number), metric <paramref name="Metric"/> of parameter <paramref name="Tensor"/> was <paramref name="Value"/>.</summary>
/// <param name="Step">When: the recorder's <see cref="InternalsRecorder.Clock"/>, or the number of the update (1, N+1, 2N+1...).</param>
/// <param name="Tensor">The parameter's name.</param>
/// <param name="Metric">What was measured (grad_norm, update_ratio, saturated...).</param>
/// <param name="Value">Its value.</param>
public readonly record struct InternalsRow(long Step, string Tensor, string Metric, double Value);

/// <summary>
/// Watches one optimizer's steps and, every <see cref="Every"/>-th update (the 1st, the N+1-th...), records per parameter
/// tensor, with Δ = p_after - p_before the step's update and g the gradient the step read:
/// <code>
/// grad_norm    ||g||_2                       update_norm  ||Δ||_2              param_norm  ||p||_2 (after the step)
/// update_ratio ||Δ||_2 / ||p||_2             update_cos   cos(Δ, -g) = &lt;Δ, -g&gt; / (||Δ|| ||g||)   (1: plain gradient descent)
/// </code>
/// then what the optimizer declares of itself in its own file (AlphaGrad's tanh saturation, Adam's effective step
/// percentiles, AdaBound's clipped shares, momentum norms, a sign method's agreement with the gradient). Everything
/// is computed where the parameters live: a copy of p before the step, then sums, counts and maxima as reductions (on
/// the CPU one SIMD pass each, in double; elsewhere device reductions read back together), percentiles by selection
/// from a fixed sample of at most <see cref="SampleSize"/> elements; never a host copy of a whole tensor off the CPU.
/// The recorded update leaves the training bit for bit unchanged; between records a step costs one counter increment.
/// Off unless made: <c>using var r = new InternalsRecorder(opt, every: 10);</c>
/// </summary>
public sealed class InternalsRecorder : IDisposable
{
    /// <summary>The most elements a percentile is computed from: a tensor up to this size exactly, a larger one from a
    /// fixed uniform sample of this many distinct elements (the same for every tensor of that size).</summary>
    public const int SampleSize = 2048;

    private readonly Optimizer _optimizer;
    private readonly Dictionary<Tensor, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Tensor> _before = new(ReferenceEqualityComparer.Instance);
    private readonly List<Tensor> _stepped = [];
    private readonly Action<InternalsRow> _sink;

    /// <summary>Starts watching optimizer (one recorder per optimizer). names: the parameters' names (an agent's
    /// NamedParameters()); a parameter not named there is called by its Name, else param{i} by its position. sink gets
    /// every row as it is recorded; without one the rows collect in <see cref="Rows"/>.</summary>
    public InternalsRecorder(Optimizer optimizer, int every = 10, IEnumerable<KeyValuePair<string, Tensor>>? names = null, Action<InternalsRow>? sink = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (every < 1) throw new ArgumentException($"InternalsRecorder: every must be at least 1, got {every}", nameof(every));
        if (optimizer.Recorder is not null) throw new InvalidOperationException($"InternalsRecorder: {optimizer.GetType().Name} is already watched by another recorder");
        _optimizer = optimizer;
        Every = every;
        foreach (var (name, t) in names ?? []) _names.TryAdd(t, name);
        int i = 0;
        foreach (var g in optimizer.ParamGroups)
            foreach (var p in g.Params) { _names.TryAdd(p, p.Name ?? $"param{i}"); i++; }
        _sink = sink ?? Rows.Add;
        optimizer.Recorder = this;
    }

    /// <summary>Updates between records.</summary>
    public int Every { get; }

    /// <summary>Steps seen so far (set it when a run resumes, so records fall on the same updates as without the stop).</summary>
    public long Updates { get; set; }

    /// <summary>The Step column's value when a record is made (a run's env steps); null: the update's number.</summary>
    public Func<long>? Clock { get; set; }

    /// <summary>Records made so far by this recorder.</summary>
    public long Records { get; private set; }

    /// <summary>Time spent making them (copies before the steps, metrics and the sink after; not the steps themselves):
    /// what recording adds to training.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks((long)(_ticks * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));

    private long _ticks;

    /// <summary>The rows recorded so far, when no sink was given.</summary>
    public List<InternalsRow> Rows { get; } = [];

    /// <summary>Stops watching: the optimizer's steps cost nothing more.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(_optimizer.Recorder, this)) _optimizer.Recorder = null;
        _before.Clear();
    }

    /// <summary>Before a step: counts it, and on a recorded one keeps a copy of every parameter that has a gradient.</summary>
    internal bool Before()
    {
        bool record = Updates % Every == 0;
        Updates++;
        if (!record) return false;
        long start = Stopwatch.GetTimestamp();
        Records++;
        _stepped.Clear();
        foreach (var g in _optimizer.ParamGroups)
            for (int i = 0; i < g.Params.Count; i++)
            {
                var p = g.Params[i];
                if (p.Grad is null || p.Numel == 0) continue;
                if (!_before.TryGetValue(p, out var b) || !ReferenceEquals(b.Backend, p.Backend) || b.DType != p.DType)
                    _before[p] = b = new Tensor(p.Backend.Allocate(p.DType, p.Numel), p.Shape).Keep();
                p.Backend.CopyInPlace(b.Storage, p.Storage);
                _stepped.Add(p);
            }
        _ticks += Stopwatch.GetTimestamp() - start;
        return true;
    }

    /// <summary>After a recorded step: the generic metrics and the optimizer's own, for every parameter copied before.</summary>
    internal void After()
    {
        long start = Stopwatch.GetTimestamp();
        using var _ = Tensor.NoGrad();
        long step = Clock?.Invoke() ?? Updates;
        int n = _stepped.Count;
        var probes = new InternalsProbe[n];
        for (int i = 0; i < n; i++)
        {
            var p = _stepped[i];
            var negUpdate = _before[p];
            p.Backend.AxpyInPlace(negUpdate.Storage, p.Storage, -1);   // p_before - p_after = -Δ, in place
            probes[i] = new InternalsProbe(p, p.Grad!, negUpdate, _optimizer.StateOf(p), GroupOf(p));
        }
        InternalsProbe.Moments(probes);
        foreach (var probe in probes)
        {
            _optimizer.Internals(probe);
            string name = _names[probe.Param];
            _sink(new(step, name, "grad_norm", probe.GradNorm));
            _sink(new(step, name, "update_norm", probe.UpdateNorm));
            _sink(new(step, name, "param_norm", probe.ParamNorm));
            _sink(new(step, name, "update_ratio", probe.UpdateNorm / probe.ParamNorm));
            _sink(new(step, name, "update_cos", probe.UpdateCos));
            foreach (var (metric, value) in probe.Metrics) _sink(new(step, name, metric, value));
        }
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    private ParamGroup GroupOf(Tensor p)
    {
        foreach (var g in _optimizer.ParamGroups)
            for (int i = 0; i < g.Params.Count; i++)
                if (ReferenceEquals(g.Params[i], p)) return g;
        throw new InvalidOperationException("InternalsRecorder: a parameter left its optimizer");
    }
}

/// <summary>What an optimizer sees of one parameter right after a recorded step, to add the metrics it declares
/// (<see cref="Optimizer.Internals"/>), and the reductions to compute them: on the CPU one SIMD pass over the tensor's
/// memory each (sums in double), on another device its tensor ops and reductions (only scalars and samples come back).</summary>
internal sealed class InternalsProbe(Tensor param, Tensor grad, Tensor negUpdate, ParamState? state, ParamGroup group)
{
    /// <summary>The parameter after the step.</summary>
    public Tensor Param { get; } = param;
    /// <summary>The gradient the step read.</summary>
    public Tensor Grad { get; } = grad;
    /// <summary>p_before - p_after (= -Δ).</summary>
    public Tensor NegUpdate { get; } = negUpdate;
    /// <summary>The optimizer's state of the parameter after the step (null if it keeps none).</summary>
    public ParamState? State { get; } = state;
    /// <summary>The parameter's group (its options).</summary>
    public ParamGroup Group { get; } = group;
    /// <summary>||g||_2.</summary>
    public double GradNorm { get; private set; }
    /// <summary>||Δ||_2.</summary>
    public double UpdateNorm { get; private set; }
    /// <summary>||p||_2 after the step.</summary>
    public double ParamNorm { get; private set; }
    /// <summary>cos(Δ, -g) (NaN when Δ or g is 0 or not finite).</summary>
    public double UpdateCos { get; private set; }
    /// <summary>The optimizer's own metrics, in the order added.</summary>
    public List<(string Metric, double Value)> Metrics { get; } = [];

    /// <summary>Records one of the optimizer's own metrics.</summary>
    public void Add(string metric, double value) => Metrics.Add((metric, value));

    /// <summary>A state buffer by name (null when the optimizer keeps none of that name).</summary>
    public Tensor? Buffer(string name) => State is { } s && s.Buffers.TryGetValue(name, out var t) ? t : null;

    private static bool OnCpu(Tensor t) => t.Device.Kind == DeviceKind.Cpu;

    /// <summary>The generic metrics of every probe. CPU: one pass per tensor over g, -Δ and p for sum g^2, sum Δ^2, sum p^2
    /// and sum (-Δ)·g, in double. Elsewhere: the sums of squares of all tensors read back together (one wait), then the
    /// cosine as 1 - ||a - b||^2/2 with a = -Δ/||Δ||, b = g/||g|| (a second sum of squares over -Δ rewritten in place:
    /// no dot product primitive; exact to ~1e-7 however small the update).</summary>
    public static void Moments(InternalsProbe[] probes)
    {
        if (probes.All(p => OnCpu(p.Param)))
        {
            foreach (var pr in probes)
            {
                var (gg, dd, pp, dg) = pr.Param.DType == DType.Float32
                    ? CpuMoments<float>(pr.Grad.DataF, pr.NegUpdate.DataF, pr.Param.DataF)
                    : CpuMoments<double>(pr.Grad.DataD, pr.NegUpdate.DataD, pr.Param.DataD);
                pr.SetNorms(gg, dd, pp);
                pr.UpdateCos = pr.HasCos ? dg / (pr.UpdateNorm * pr.GradNorm) : double.NaN;
            }
            return;
        }
        var g2 = SumSquares(probes.Select(p => p.Grad).ToList());
        var d2 = SumSquares(probes.Select(p => p.NegUpdate).ToList());
        var p2 = SumSquares(probes.Select(p => p.Param).ToList());
        for (int i = 0; i < probes.Length; i++) probes[i].SetNorms(g2[i], d2[i], p2[i]);
        // The optimizers read -Δ before it is rewritten: a copy of it for those that have one.
        var diffs = new List<Tensor>();
        foreach (var pr in probes)
        {
            if (!pr.HasCos) { pr.UpdateCos = double.NaN; continue; }
            var d = new Tensor(pr.NegUpdate.Backend.Unary(UnaryOp.Copy, pr.NegUpdate.Storage), pr.NegUpdate.Shape);
            d.Backend.ScaleInPlace(d.Storage, 1 / pr.UpdateNorm);
            d.Backend.AxpyInPlace(d.Storage, pr.Grad.Storage, -1 / pr.GradNorm);
            diffs.Add(d);
        }
        var s2 = SumSquares(diffs);
        int k = 0;
        foreach (var pr in probes) if (pr.HasCos) pr.UpdateCos = 1 - s2[k++] / 2;
    }

    private bool HasCos => UpdateNorm > 0 && GradNorm > 0 && double.IsFinite(UpdateNorm) && double.IsFinite(GradNorm);

    private void SetNorms(double gg, double dd, double pp) => (GradNorm, UpdateNorm, ParamNorm) = (Math.Sqrt(gg), Math.Sqrt(dd), Math.Sqrt(pp));

    /// <summary>sum g^2, sum d^2, sum p^2 and sum d·g in double, SIMD lanes widened to double, then a scalar tail.</summary>
    private static (double GG, double DD, double PP, double DG) CpuMoments<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> d, ReadOnlySpan<T> p)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        Vector<double> gg = default, dd = default, pp = default, dg = default;
        int i = 0;
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> gf = Cast<T, float>(g), df = Cast<T, float>(d), pf = Cast<T, float>(p);
            for (int w = Vector<float>.Count; i <= gf.Length - w; i += w)
            {
                Vector.Widen(new Vector<float>(gf[i..]), out var g0, out var g1);
                Vector.Widen(new Vector<float>(df[i..]), out var d0, out var d1);
                Vector.Widen(new Vector<float>(pf[i..]), out var p0, out var p1);
                gg += g0 * g0 + g1 * g1; dd += d0 * d0 + d1 * d1; pp += p0 * p0 + p1 * p1; dg += d0 * g0 + d1 * g1;
            }
        }
        else
        {
            ReadOnlySpan<double> gd = Cast<T, double>(g), ddd = Cast<T, double>(d), pd = Cast<T, double>(p);
            for (int w = Vector<double>.Count; i <= gd.Length - w; i += w)
            {
                var (g0, d0, p0) = (new Vector<double>(gd[i..]), new Vector<double>(ddd[i..]), new Vector<double>(pd[i..]));
                gg += g0 * g0; dd += d0 * d0; pp += p0 * p0; dg += d0 * g0;
            }
        }
        double sgg = Vector.Sum(gg), sdd = Vector.Sum(dd), spp = Vector.Sum(pp), sdg = Vector.Sum(dg);
        for (; i < g.Length; i++)
        {
            double gi = double.CreateTruncating(g[i]), di = double.CreateTruncating(d[i]), pi = double.CreateTruncating(p[i]);
            sgg += gi * gi; sdd += di * di; spp += pi * pi; sdg += di * gi;
        }
        return (sgg, sdd, spp, sdg);
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    /// <summary>||t||_2, accumulated in double.</summary>
    public static double Norm(Tensor t)
    {
        if (!OnCpu(t)) return Math.Sqrt(t.Backend.SumSquares(t.Storage));
        var (ss, _, _, _) = t.DType == DType.Float32 ? CpuMoments<float>(t.DataF, t.DataF, t.DataF) : CpuMoments<double>(t.DataD, t.DataD, t.DataD);
        return Math.Sqrt(ss);
    }

    /// <summary>The share of t's elements x with x &gt; threshold (|x| &gt; threshold with magnitude).</summary>
    public static double ShareAbove(Tensor t, double threshold, bool magnitude = false)
    {
        if (t.Numel == 0) return double.NaN;
        if (!OnCpu(t)) return Share((magnitude ? t.Abs() : t).Gt(threshold));
        // For a float x, x > threshold exactly when x > the largest float not above threshold.
        float below = (float)threshold;
        if (below > threshold) below = MathF.BitDecrement(below);
        return (t.DType == DType.Float32 ? CpuCount<float>(t.DataF, below, magnitude, above: true) : CpuCount<double>(t.DataD, threshold, magnitude, above: true)) / (double)t.Numel;
    }

    /// <summary>The share of t's elements x with x &lt; threshold.</summary>
    public static double ShareBelow(Tensor t, double threshold)
    {
        if (t.Numel == 0) return double.NaN;
        if (!OnCpu(t)) return Share(t.Lt(threshold));
        float over = (float)threshold;                          // x < threshold exactly when x < the smallest float not below it
        if (over < threshold) over = MathF.BitIncrement(over);
        return (t.DType == DType.Float32 ? CpuCount<float>(t.DataF, over, false, above: false) : CpuCount<double>(t.DataD, threshold, false, above: false)) / (double)t.Numel;
    }

    /// <summary>The elements x (|x| with magnitude) above (or below) threshold, counted in SIMD lanes.</summary>
    private static long CpuCount<T>(ReadOnlySpan<T> x, T threshold, bool magnitude, bool above) where T : unmanaged, INumber<T>
    {
        var (acc, th, one) = (Vector<T>.Zero, new Vector<T>(threshold), Vector<T>.One);
        int i = 0;
        long count = 0;
        for (int w = Vector<T>.Count; i <= x.Length - w; i += w)
        {
            var v = new Vector<T>(x[i..]);
            if (magnitude) v = Vector.Abs(v);
            acc += Vector.ConditionalSelect(above ? Vector.GreaterThan(v, th) : Vector.LessThan(v, th), one, Vector<T>.Zero);
            if (((i / w) & 0xFFFF) == 0xFFFF) { count += long.CreateTruncating(Vector.Sum(acc)); acc = Vector<T>.Zero; }   // float lanes stay exact
        }
        count += long.CreateTruncating(Vector.Sum(acc));
        for (; i < x.Length; i++)
        {
            var v = magnitude ? T.Abs(x[i]) : x[i];
            if (above ? v > threshold : v < threshold) count++;
        }
        return count;
    }

    /// <summary>The mean of t's elements (summed in double on the CPU, by the device's reduction elsewhere).</summary>
    public static double Mean(Tensor t)
    {
        if (t.Numel == 0) return double.NaN;
        if (!OnCpu(t)) return t.Sum().Item() / t.Numel;
        return (t.DType == DType.Float32 ? CpuSumDiff<float>(t.DataF, default, squares: false) : CpuSumDiff<double>(t.DataD, default, squares: false)) / t.Numel;
    }

    /// <summary>||a - b||_2, the differences and their squares in double on the CPU (no cancellation however close a and b).</summary>
    public static double Distance(Tensor a, Tensor b)
    {
        if (!OnCpu(a)) return Norm(a - b);
        return Math.Sqrt(a.DType == DType.Float32 ? CpuSumDiff<float>(a.DataF, b.DataF, squares: true) : CpuSumDiff<double>(a.DataD, b.DataD, squares: true));
    }

    /// <summary>sum (a - b)^2 with squares (b empty: sum a^2), else sum a; SIMD lanes widened to double.</summary>
    private static double CpuSumDiff<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, bool squares) where T : unmanaged, INumberBase<T>
    {
        Vector<double> acc = default;
        bool diff = !b.IsEmpty;
        int i = 0;
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> af = Cast<T, float>(a), bf = Cast<T, float>(b);
            for (int w = Vector<float>.Count; i <= af.Length - w; i += w)
            {
                Vector.Widen(new Vector<float>(af[i..]), out var a0, out var a1);
                if (diff)
                {
                    Vector.Widen(new Vector<float>(bf[i..]), out var b0, out var b1);
                    (a0, a1) = (a0 - b0, a1 - b1);
                }
                acc += squares ? a0 * a0 + a1 * a1 : a0 + a1;
            }
        }
        else
        {
            ReadOnlySpan<double> ad = Cast<T, double>(a), bd = Cast<T, double>(b);
            for (int w = Vector<double>.Count; i <= ad.Length - w; i += w)
            {
                var x = new Vector<double>(ad[i..]);
                if (diff) x -= new Vector<double>(bd[i..]);
                acc += squares ? x * x : x;
            }
        }
        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            double x = double.CreateTruncating(a[i]) - (diff ? double.CreateTruncating(b[i]) : 0);
            sum += squares ? x * x : x;
        }
        return sum;
    }

    /// <summary>The share of elements where a*b &gt; 0 (the product rounded to the tensors' dtype, as an update computes
    /// it): where a and b have the same sign, neither 0 nor NaN.</summary>
    public static double ShareSameSign(Tensor a, Tensor b)
    {
        if (a.Numel == 0) return double.NaN;
        if (!OnCpu(a)) return Share(a.Mul(b).Gt(0));
        return (a.DType == DType.Float32 ? CpuSameSign<float>(a.DataF, b.DataF) : CpuSameSign<double>(a.DataD, b.DataD)) / (double)a.Numel;
    }

    private static long CpuSameSign<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, INumber<T>
    {
        var (acc, one) = (Vector<T>.Zero, Vector<T>.One);
        int i = 0;
        long count = 0;
        for (int w = Vector<T>.Count; i <= a.Length - w; i += w)
        {
            acc += Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(a[i..]) * new Vector<T>(b[i..]), Vector<T>.Zero), one, Vector<T>.Zero);
            if (((i / w) & 0xFFFF) == 0xFFFF) { count += long.CreateTruncating(Vector.Sum(acc)); acc = Vector<T>.Zero; }   // float lanes stay exact
        }
        count += long.CreateTruncating(Vector.Sum(acc));
        for (; i < a.Length; i++) if (a[i] * b[i] > T.Zero) count++;
        return count;
    }

    /// <summary>max |x| over t (NaN if t holds a NaN).</summary>
    public static double MaxAbs(Tensor t) =>
        t.Numel == 0 ? double.NaN
        : !OnCpu(t) ? t.Abs().Max().Item()
        : t.DType == DType.Float32 ? CpuMaxAbs<float>(t.DataF) : CpuMaxAbs<double>(t.DataD);

    private static double CpuMaxAbs<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        var acc = Vector<T>.Zero;
        int i = 0;
        bool nan = false;
        for (int w = Vector<T>.Count; i <= x.Length - w; i += w)
        {
            var v = Vector.Abs(new Vector<T>(x[i..]));
            nan |= !Vector.EqualsAll(v, v);
            acc = Vector.Max(acc, v);
        }
        T m = T.Zero;
        for (int k = 0; k < Vector<T>.Count; k++) m = T.Max(m, acc[k]);
        for (; i < x.Length; i++) { nan |= T.IsNaN(x[i]); m = T.Max(m, T.Abs(x[i])); }
        return nan ? double.NaN : double.CreateTruncating(m);
    }

    /// <summary>The share of ones in a 0/1 mask (a comparison's result), summed on its device.</summary>
    private static double Share(Tensor mask) => mask.Sum().Item() / mask.Numel;

    /// <summary>Records name_p5, name_p50 and name_p95 of map(x) over values x (reordered in place), map decreasing (or
    /// null: the values themselves): percentiles with linear interpolation between order statistics (NumPy's default:
    /// q*(n-1) is the position among the sorted values). The order statistics are found by selection (expected linear
    /// time), not a sort, and map runs on the six of them only: the k-th smallest map(x) is map of the k-th largest x.
    /// All NaN if a value is NaN.</summary>
    public void AddPercentiles(string name, double[] values, Func<double, double>? map = null)
    {
        int n = values.Length;
        bool nan = n == 0;
        foreach (var v in values) nan |= double.IsNaN(v);
        var r = new double[3];
        int right = n - 1;
        int[] qs = map is null ? [95, 50, 5] : [5, 50, 95];     // from the largest rank down
        for (int j = 0; j < 3 && !nan; j++)
        {
            double pos = qs[j] / 100.0 * (n - 1);
            int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, n - 1);
            // map decreasing: the lo-th and hi-th smallest of map(x) are map of x's (n-1-lo)-th and (n-1-hi)-th smallest.
            int a = map is null ? lo : n - 1 - hi, b = map is null ? hi : n - 1 - lo;   // a <= b, b = a + (0 or 1)
            Select(values, 0, right, a);                        // values[a]: the a-th smallest; no larger one before it
            if (b > a && b <= right)
            {
                int m = b;                                       // the (a+1)-th smallest: the least after a, moved to a+1
                for (int k = b + 1; k <= right; k++) if (values[k] < values[m]) m = k;
                (values[b], values[m]) = (values[m], values[b]);
            }
            else b = a;
            double va = values[a], vb = values[b];
            double low = map is null ? va : map(vb), high = map is null ? vb : map(va);
            r[j] = low + (pos - lo) * (high - low);
            right = b;                                           // values[0..b] hold the b+1 smallest: the next, lower ranks' region
        }
        int[] at = map is null ? [2, 1, 0] : [0, 1, 2];
        Add($"{name}_p5", nan ? double.NaN : r[at[0]]);
        Add($"{name}_p50", nan ? double.NaN : r[at[1]]);
        Add($"{name}_p95", nan ? double.NaN : r[at[2]]);
    }

    /// <summary>Hoare's selection: reorders a[left..right] so that a[k] is its (k-left)-th smallest, with no larger element
    /// before k and no smaller one after.</summary>
    private static void Select(double[] a, int left, int right, int k)
    {
        while (right > left)
        {
            int mid = left + (right - left) / 2;
            double x = a[left], y = a[mid], z = a[right];
            double pivot = Math.Max(Math.Min(x, y), Math.Min(Math.Max(x, y), z));   // median of three
            int i = left, j = right;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) right = j;                               // a[left..j] <= pivot <= a[i..right]; between: = pivot
            else if (k >= i) left = i;
            else return;
        }
    }

    /// <summary>step_p5, step_p50 and step_p95: percentiles over v's elements of the per-element step lr/(sqrt(v/bc) + eps)
    /// an adaptive method takes (v its second-moment accumulator, bc the bias correction v is divided by, 1 for none),
    /// from a sample of <see cref="InternalsRecorder.SampleSize"/> elements in a larger tensor.</summary>
    public void AddStep(Tensor v, double lr, double eps, double bc = 1) =>
        AddPercentiles("step", Sample(v), x => lr / (Math.Sqrt(x / bc) + eps));

    /// <summary>bias_correction1, bias_correction2, ...: 1 - beta^t of each beta in order (the EMAs' bias corrections at step t).</summary>
    public void AddBiasCorrections(long t, params double[] betas)
    {
        for (int i = 0; i < betas.Length; i++) Add($"bias_correction{i + 1}", 1 - Math.Pow(betas[i], t));
    }

    private static readonly ConcurrentDictionary<int, int[]> Samples = new();

    /// <summary>t's values as double on the host: all of them up to <see cref="InternalsRecorder.SampleSize"/>, else a
    /// fixed uniform sample of that many distinct elements (read in place on the CPU, gathered on another device). The
    /// sample's elements depend only on the size: samples of tensors of one size are aligned, element i of each from the
    /// same position (an optimizer combines two buffers element by element so).</summary>
    public static double[] Sample(Tensor t)
    {
        int n = t.Numel;
        if (!OnCpu(t))
            return n <= InternalsRecorder.SampleSize ? t.ToDoubleArray() : t.Reshape(n).IndexSelect(0, Samples.GetOrAdd(n, SampleIndex)).ToDoubleArray();
        var index = n <= InternalsRecorder.SampleSize ? null : Samples.GetOrAdd(n, SampleIndex);
        var r = new double[index?.Length ?? n];
        if (t.DType == DType.Float32)
        {
            var f = t.DataF;
            for (int i = 0; i < r.Length; i++) r[i] = f[index is null ? i : index[i]];
        }
        else
        {
            var d = t.DataD;
            for (int i = 0; i < r.Length; i++) r[i] = d[index is null ? i : index[i]];
        }
        return r;
    }

    /// <summary>SampleSize distinct indices below n, uniform, sorted; seeded by n (Floyd's algorithm).</summary>
    private static int[] SampleIndex(int n)
    {
        var rng = new Rng(n);
        var chosen = new HashSet<int>();
        for (int j = n - InternalsRecorder.SampleSize; j < n; j++)
        {
            int k = rng.NextInt(j + 1);
            if (!chosen.Add(k)) chosen.Add(j);
        }
        var index = chosen.ToArray();
        Array.Sort(index);
        return index;
    }

    /// <summary>The share of elements a sign method moved against the gradient's sign: where lr*d, the step with its
    /// decoupled decay taken out (p_after = p_before*(1 - decay) - lr*d, so lr*d = -Δ - decay*p_before), has the sign
    /// of g. Elements where d or g is 0 do not agree.</summary>
    public double SignAgreement(double decay)
    {
        if (!OnCpu(Param))
        {
            var dir = decay == 0 ? NegUpdate : NegUpdate - (Param + NegUpdate) * decay;
            return Share(dir.Mul(Grad).Gt(0));
        }
        long count = 0;
        int n = Param.Numel;
        if (Param.DType == DType.Float32)
        {
            Span<float> d = NegUpdate.DataF, p = Param.DataF, g = Grad.DataF;
            for (int i = 0; i < n; i++) if ((double)(d[i] - (float)decay * (p[i] + d[i])) * g[i] > 0) count++;
        }
        else
        {
            Span<double> d = NegUpdate.DataD, p = Param.DataD, g = Grad.DataD;
            for (int i = 0; i < n; i++) if ((d[i] - decay * (p[i] + d[i])) * g[i] > 0) count++;
        }
        return n == 0 ? double.NaN : count / (double)n;
    }

    /// <summary>Sums of squares of the tensors, with one wait for the device when they share one.</summary>
    private static double[] SumSquares(IReadOnlyList<Tensor> ts)
    {
        if (ts.Count == 0) return [];
        if (ts.All(t => ReferenceEquals(t.Backend, ts[0].Backend))) return ts[0].Backend.SumSquaresEach(ts.Select(t => t.Storage).ToList());
        return ts.Select(t => t.Backend.SumSquares(t.Storage)).ToArray();
    }
}
