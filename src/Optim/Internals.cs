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
/// is computed where the parameters live: a copy of p before the step, then sums, counts and maxima as backend
/// reductions (in double; on the CPU one SIMD pass each, on a device read back together), percentiles by selection
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
/// (<see cref="Optimizer.Internals"/>), and the reductions to compute them: backend primitives (sums in double, counts
/// of a condition written once as a fused map; on the CPU one SIMD pass each), so only scalars and samples come back.</summary>
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

    /// <summary>The generic metrics of every probe: sum g^2, sum Δ^2, sum p^2 and sum (-Δ)·g of each in double, one pass
    /// over g, -Δ and p per tensor (on one device: all read back together, one wait).</summary>
    public static void Moments(InternalsProbe[] probes)
    {
        var m = Backends.Each(probes, p => p.Param.Backend, (b, ps) => b.MomentsEach(ps.Select(p => (p.Grad.Storage, p.NegUpdate.Storage, p.Param.Storage)).ToList()));
        for (int i = 0; i < probes.Length; i++)
        {
            var (pr, (gg, dd, pp, dg)) = (probes[i], m[i]);
            (pr.GradNorm, pr.UpdateNorm, pr.ParamNorm) = (Math.Sqrt(gg), Math.Sqrt(dd), Math.Sqrt(pp));
            bool hasCos = pr.UpdateNorm > 0 && pr.GradNorm > 0 && double.IsFinite(pr.UpdateNorm) && double.IsFinite(pr.GradNorm);
            pr.UpdateCos = hasCos ? dg / (pr.UpdateNorm * pr.GradNorm) : double.NaN;
        }
    }

    /// <summary>||t||_2, accumulated in double.</summary>
    public static double Norm(Tensor t) => Math.Sqrt(t.Backend.SumSquares(t.Storage));

    /// <summary>The share of t's elements x with x &gt; threshold (|x| &gt; threshold with magnitude).</summary>
    public static double ShareAbove(Tensor t, double threshold, bool magnitude = false)
    {
        // For a float x, x > threshold exactly when x > the largest float not above threshold.
        float below = (float)threshold;
        if (below > threshold) below = MathF.BitDecrement(below);
        return Share(magnitude ? CountOf.AboveAbs : CountOf.Above, t, t, null, t.DType == DType.Float32 ? below : threshold);
    }

    /// <summary>The share of t's elements x with x &lt; threshold.</summary>
    public static double ShareBelow(Tensor t, double threshold)
    {
        float over = (float)threshold;                          // x < threshold exactly when x < the smallest float not below it
        if (over < threshold) over = MathF.BitIncrement(over);
        return Share(CountOf.Below, t, t, null, t.DType == DType.Float32 ? over : threshold);
    }

    /// <summary>The mean of t's elements (summed in double).</summary>
    public static double Mean(Tensor t) => t.Numel == 0 ? double.NaN : t.Backend.Sum(t.Storage) / t.Numel;

    /// <summary>||a - b||_2, the differences and their squares in double (no cancellation however close a and b).</summary>
    public static double Distance(Tensor a, Tensor b) => Math.Sqrt(a.Backend.SquaredDistance(a.Storage, b.Storage));

    /// <summary>The share of elements where a*b &gt; 0 (the product rounded to the tensors' dtype, as an update computes
    /// it): where a and b have the same sign, neither 0 nor NaN.</summary>
    public static double ShareSameSign(Tensor a, Tensor b) => Share(CountOf.SameSign, a, b, null);

    /// <summary>max |x| over t (NaN if t holds a NaN).</summary>
    public static double MaxAbs(Tensor t) => t.Numel == 0 ? double.NaN : t.Backend.MaxAbsEach([t.Storage])[0];

    /// <summary>The conditions a share counts.</summary>
    internal enum CountOf
    {
        /// <summary>x &gt; threshold</summary>
        Above,
        /// <summary>|x| &gt; threshold</summary>
        AboveAbs,
        /// <summary>x &lt; threshold</summary>
        Below,
        /// <summary>x*y &gt; 0 in the dtype</summary>
        SameSign,
        /// <summary>d - decay*(p + d) (x = d, s0 = p) has y's sign, neither 0 nor NaN</summary>
        SignAgrees,
    }

    /// <summary>The share of x's elements meeting a condition, counted by the backend in one pass (exact).</summary>
    private static double Share(CountOf what, Tensor x, Tensor y, Tensor? s0, double threshold = 0, double decay = 0)
    {
        if (x.Numel == 0) return double.NaN;
        var b = x.Backend;
        long n = x.DType == DType.Float32
            ? b.CountPositive<Condition<float>, float>(new() { What = what, Threshold = (float)threshold, Decay = (float)decay }, x.Storage, y.Storage, [s0?.Storage])
            : b.CountPositive<Condition<double>, double>(new() { What = what, Threshold = threshold, Decay = decay }, x.Storage, y.Storage, [s0?.Storage]);
        return n / (double)x.Numel;
    }

    /// <summary>Every condition a share counts, as one map (one device kernel per dtype): x becomes &gt; 0 exactly where the
    /// element counts. The threshold and decay are already rounded to T.</summary>
    internal struct Condition<T> : IFusedMap<Condition<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public CountOf What;
        public T Threshold, Decay;

        public static void Apply<L>(in Condition<T> c, L r, ref L x, L y, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            L one = L.FromDouble(1), zero = L.FromDouble(0), th = L.Splat(c.Threshold);
            if (c.What == CountOf.Above) x = L.IfGreater(x, th, one, zero);
            else if (c.What == CountOf.AboveAbs) x = L.IfGreater(L.Abs(x), th, one, zero);
            else if (c.What == CountOf.Below) x = L.IfGreater(th, x, one, zero);
            else if (c.What == CountOf.SameSign) x = x * y;
            else x = L.Sign(x - L.Splat(c.Decay) * (s0 + x)) * L.Sign(y);   // signs multiplied: no underflow to 0
        }
    }

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
    /// fixed uniform sample of that many distinct elements (gathered where t lives: only the sample comes back). The
    /// sample's elements depend only on the size: samples of tensors of one size are aligned, element i of each from the
    /// same position (an optimizer combines two buffers element by element so).</summary>
    public static double[] Sample(Tensor t)
    {
        int n = t.Numel;
        if (n <= InternalsRecorder.SampleSize) return t.ToDoubleArray();
        var (b, index) = (t.Backend, Samples.GetOrAdd(n, SampleIndex));
        return b.ToDoubleArray(b.Gather(t.Storage, new Shape(n), 0, index, new Shape(index.Length)));
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
    public double SignAgreement(double decay) => Share(CountOf.SignAgrees, NegUpdate, Grad, Param, decay: decay);
}
