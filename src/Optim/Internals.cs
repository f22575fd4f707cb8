// Internals: the opt-in recorder of what an optimizer does to each tensor every N updates (gradient, update and
// parameter norms, their ratio, the update's cosine with -grad, and the optimizer's own declared metrics).
using System.Collections.Concurrent;

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
/// is computed on the parameters' device: a copy of p before the step, then norms read back together (one wait),
/// counts and maxima as device reductions, percentiles from a fixed sample of at most <see cref="SampleSize"/>
/// elements; never a host copy of a whole tensor. The recorded update leaves the training bit for bit unchanged;
/// between records a step costs one counter increment. Off unless made: <c>using var r = new InternalsRecorder(opt, every: 10);</c>
/// </summary>
public sealed class InternalsRecorder : IDisposable
{
    /// <summary>The most elements a percentile is computed from: a tensor up to this size exactly, a larger one from a
    /// fixed uniform sample of this many distinct elements (the same for every tensor of that size).</summary>
    public const int SampleSize = 4096;

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
        return true;
    }

    /// <summary>After a recorded step: the generic metrics and the optimizer's own, for every parameter copied before.</summary>
    internal void After()
    {
        using var _ = Tensor.NoGrad();
        long step = Clock?.Invoke() ?? Updates;
        int n = _stepped.Count;
        var negUpdates = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var p = _stepped[i];
            negUpdates[i] = _before[p];
            p.Backend.AxpyInPlace(negUpdates[i].Storage, p.Storage, -1);   // p_before - p_after = -Δ, in place
        }
        var grads = _stepped.Select(p => p.Grad!).ToList();
        var g2 = InternalsProbe.SumSquares(grads);
        var d2 = InternalsProbe.SumSquares(negUpdates);
        var p2 = InternalsProbe.SumSquares(_stepped);

        var probes = new InternalsProbe[n];
        for (int i = 0; i < n; i++)
        {
            var p = _stepped[i];
            probes[i] = new InternalsProbe(p, grads[i], negUpdates[i], _optimizer.StateOf(p), GroupOf(p), Math.Sqrt(g2[i]), Math.Sqrt(d2[i]), Math.Sqrt(p2[i]));
            _optimizer.Internals(probes[i]);   // before the cosine below overwrites -Δ
        }

        // cos(Δ, -g) = <-Δ, g>/(||Δ|| ||g||) = 1 - ||a - b||^2/2 with a = -Δ/||Δ||, b = g/||g|| unit vectors: a sum of
        // squares (accumulated in double) instead of a dot product, exact to ~1e-7 however small the update is.
        var diffs = new List<Tensor>(n);
        for (int i = 0; i < n; i++)
        {
            var (pr, d) = (probes[i], negUpdates[i]);
            if (pr.UpdateNorm == 0 || pr.GradNorm == 0 || !double.IsFinite(pr.UpdateNorm) || !double.IsFinite(pr.GradNorm)) continue;
            d.Backend.ScaleInPlace(d.Storage, 1 / pr.UpdateNorm);
            d.Backend.AxpyInPlace(d.Storage, pr.Grad.Storage, -1 / pr.GradNorm);
            diffs.Add(d);
        }
        var s2 = InternalsProbe.SumSquares(diffs);
        for (int i = 0, k = 0; i < n; i++)
        {
            var pr = probes[i];
            string name = _names[pr.Param];
            bool hasCos = !(pr.UpdateNorm == 0 || pr.GradNorm == 0 || !double.IsFinite(pr.UpdateNorm) || !double.IsFinite(pr.GradNorm));
            _sink(new(step, name, "grad_norm", pr.GradNorm));
            _sink(new(step, name, "update_norm", pr.UpdateNorm));
            _sink(new(step, name, "param_norm", pr.ParamNorm));
            _sink(new(step, name, "update_ratio", pr.UpdateNorm / pr.ParamNorm));
            _sink(new(step, name, "update_cos", hasCos ? 1 - s2[k++] / 2 : double.NaN));
            foreach (var (metric, value) in pr.Metrics) _sink(new(step, name, metric, value));
        }
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
/// (<see cref="Optimizer.Internals"/>), and the device-side helpers to compute them.</summary>
internal sealed class InternalsProbe(Tensor param, Tensor grad, Tensor negUpdate, ParamState? state, ParamGroup group,
                                     double gradNorm, double updateNorm, double paramNorm)
{
    /// <summary>The parameter after the step.</summary>
    public Tensor Param { get; } = param;
    /// <summary>The gradient the step read.</summary>
    public Tensor Grad { get; } = grad;
    /// <summary>p_before - p_after (= -Δ); valid while the optimizer adds its metrics.</summary>
    public Tensor NegUpdate { get; } = negUpdate;
    /// <summary>The optimizer's state of the parameter after the step (null if it keeps none).</summary>
    public ParamState? State { get; } = state;
    /// <summary>The parameter's group (its options).</summary>
    public ParamGroup Group { get; } = group;
    /// <summary>||g||_2.</summary>
    public double GradNorm { get; } = gradNorm;
    /// <summary>||Δ||_2.</summary>
    public double UpdateNorm { get; } = updateNorm;
    /// <summary>||p||_2 after the step.</summary>
    public double ParamNorm { get; } = paramNorm;
    /// <summary>The optimizer's own metrics, in the order added.</summary>
    public List<(string Metric, double Value)> Metrics { get; } = [];

    /// <summary>Records one of the optimizer's own metrics.</summary>
    public void Add(string metric, double value) => Metrics.Add((metric, value));

    /// <summary>A state buffer by name (null when the optimizer keeps none of that name).</summary>
    public Tensor? Buffer(string name) => State is { } s && s.Buffers.TryGetValue(name, out var t) ? t : null;

    /// <summary>||t||_2, accumulated in double on t's device.</summary>
    public static double Norm(Tensor t) => Math.Sqrt(t.Backend.SumSquares(t.Storage));

    /// <summary>The share of ones in a 0/1 mask (a comparison's result), summed on its device.</summary>
    public static double Share(Tensor mask) => mask.Numel == 0 ? double.NaN : mask.Sum().Item() / mask.Numel;

    /// <summary>Records name_p5, name_p50 and name_p95 of values (changed in place: sorted): percentiles with linear
    /// interpolation between order statistics (NumPy's default): q*(n-1) is the position in the sorted values.</summary>
    public void AddPercentiles(string name, double[] values)
    {
        Array.Sort(values);
        foreach (var q in (ReadOnlySpan<int>)[5, 50, 95]) Add($"{name}_p{q}", Percentile(values, q / 100.0));
    }

    /// <summary>The q-quantile of sorted values, NumPy's linear method.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static readonly ConcurrentDictionary<int, int[]> Samples = new();

    /// <summary>t's values (all of them up to <see cref="InternalsRecorder.SampleSize"/>; else a fixed uniform sample of
    /// that many distinct elements, gathered on the device), as double on the host.</summary>
    public static double[] Sample(Tensor t)
    {
        if (t.Numel <= InternalsRecorder.SampleSize) return t.ToDoubleArray();
        var index = Samples.GetOrAdd(t.Numel, SampleIndex);
        return t.Reshape(t.Numel).IndexSelect(0, index).ToDoubleArray();
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
        var d = decay == 0 ? NegUpdate : NegUpdate - (Param + NegUpdate) * decay;
        return Share(d.Mul(Grad).Gt(0));
    }

    /// <summary>Sums of squares of the tensors, with one wait for the device when they share one.</summary>
    public static double[] SumSquares(IReadOnlyList<Tensor> ts)
    {
        if (ts.Count == 0) return [];
        if (ts.All(t => ReferenceEquals(t.Backend, ts[0].Backend))) return ts[0].Backend.SumSquaresEach(ts.Select(t => t.Storage).ToList());
        return ts.Select(t => t.Backend.SumSquares(t.Storage)).ToArray();
    }
}
