// Stats: rliable's point estimates of a study (IQM, mean, median, optimality gap, probability of improvement,
// score distributions) on scores grouped by task, and numpy's linear percentile.
namespace Tiny.Rl.Studies;

/// <summary>
/// The aggregate metrics of Agarwal et al. 2021 ("Deep RL at the Edge of the Statistical Precipice", rliable's
/// metrics.py). Scores are grouped by task: <c>scores[t][r]</c> is run r of task t. Tasks may have different run
/// counts; on a full [runs x tasks] matrix (see <see cref="FromMatrix"/>) every metric equals rliable's. Pooled
/// metrics (IQM, optimality gap, score distribution) pool every run of every task, so with unequal run counts a task
/// weighs by its run count, as each run is one sample; per-task metrics (mean, median) average each task first.
/// </summary>
public static class Stats
{
    /// <summary>Groups a [runs x tasks] matrix (rliable's layout) by task: result[t][r] = matrix[r, t].</summary>
    public static double[][] FromMatrix(double[,] runsByTasks)
    {
        int runs = runsByTasks.GetLength(0), tasks = runsByTasks.GetLength(1);
        var s = new double[tasks][];
        for (int t = 0; t < tasks; t++)
        {
            s[t] = new double[runs];
            for (int r = 0; r < runs; r++) s[t][r] = runsByTasks[r, t];
        }
        return s;
    }

    /// <summary>Interquartile mean: the 25%-trimmed mean of every run of every task pooled (rliable's aggregate_iqm).</summary>
    public static double Iqm(double[][] scores) => TrimMean(Pool(scores), 0.25);

    /// <summary>Mean over tasks of each task's mean over runs (rliable's aggregate_mean).</summary>
    public static double Mean(double[][] scores) => Average(TaskMeans(scores));

    /// <summary>Median over tasks of each task's mean over runs (rliable's aggregate_median; an even task count
    /// averages the two middle means, as numpy.median does).</summary>
    public static double Median(double[][] scores)
    {
        var m = TaskMeans(scores);
        Array.Sort(m);
        int h = m.Length / 2;
        return m.Length % 2 == 1 ? m[h] : (m[h - 1] + m[h]) / 2;
    }

    /// <summary>
    /// Optimality gap, γ − mean(min(x, γ)) over every run of every task pooled (rliable's aggregate_optimality_gap):
    /// how far the runs fall short of γ, with scores above γ counting as γ. γ = 1 fits human- or max-normalised scores.
    /// </summary>
    public static double OptimalityGap(double[][] scores, double gamma = 1.0)
    {
        Check(scores, nameof(scores));
        var sum = new NeumaierSum();
        long n = 0;
        foreach (var task in scores)
            foreach (double x in task) { sum.Add(Math.Min(x, gamma)); n++; }
        return gamma - sum.Value / n;
    }

    /// <summary>
    /// P(X &gt; Y) averaged over tasks (rliable's probability_of_improvement): on task t with n runs of X and m of Y,
    /// U/(n·m) where U = #{(i, j): x_i &gt; y_j} + ½·#{(i, j): x_i = y_j} is the Mann-Whitney U statistic of X.
    /// A task whose X and Y scores are identical gives ½ (rliable's special case is the formula's own value).
    /// </summary>
    public static double ProbabilityOfImprovement(double[][] x, double[][] y)
    {
        Check(x, nameof(x));
        Check(y, nameof(y));
        if (x.Length != y.Length)
            throw new ArgumentException($"Stats.ProbabilityOfImprovement: X has {x.Length} tasks, Y has {y.Length}");
        var p = new double[x.Length];
        for (int t = 0; t < x.Length; t++) p[t] = MannWhitneyU(x[t], y[t]) / ((double)x[t].Length * y[t].Length);
        return Average(p);
    }

    /// <summary>
    /// The Mann-Whitney U statistic of <paramref name="x"/> against <paramref name="y"/>: pairs with x &gt; y plus half
    /// the ties (scipy.stats.mannwhitneyu(x, y).statistic). Sorting both and walking them costs O((n+m) log(n+m))
    /// instead of O(n·m); U is a sum of integers and halves, so it is exact in double.
    /// </summary>
    public static double MannWhitneyU(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var xs = x.ToArray();
        var ys = y.ToArray();
        Array.Sort(xs);
        Array.Sort(ys);
        double u = 0;
        int below = 0, atOrBelow = 0;   // #{y < x_i}, #{y <= x_i}: both only grow as x_i grows
        foreach (double xi in xs)
        {
            while (below < ys.Length && ys[below] < xi) below++;
            if (atOrBelow < below) atOrBelow = below;
            while (atOrBelow < ys.Length && ys[atOrBelow] <= xi) atOrBelow++;
            u += below + 0.5 * (atOrBelow - below);
        }
        return u;
    }

    /// <summary>
    /// Score distribution (rliable's performance profile with use_score_distribution): for each τ, the fraction of
    /// every run of every task pooled whose score is &gt; τ.
    /// </summary>
    public static double[] ScoreDistribution(double[][] scores, ReadOnlySpan<double> taus)
    {
        var all = Pool(scores);
        Array.Sort(all);
        var f = new double[taus.Length];
        for (int i = 0; i < taus.Length; i++)
        {
            // #{x > τ} = n − #{x <= τ}; the first index past τ by binary search on the sorted pool.
            int lo = 0, hi = all.Length;
            while (lo < hi) { int mid = (lo + hi) >>> 1; if (all[mid] <= taus[i]) lo = mid + 1; else hi = mid; }
            f[i] = (double)(all.Length - lo) / all.Length;
        }
        return f;
    }

    /// <summary>
    /// scipy.stats.trim_mean(x, p): sorts, cuts k = ⌊p·n⌋ values from each end and averages the n − 2k left.
    /// <paramref name="x"/> is sorted in place.
    /// </summary>
    public static double TrimMean(double[] x, double proportionToCut)
    {
        if (x.Length == 0) throw new ArgumentException("Stats.TrimMean: no values");
        if (!(proportionToCut >= 0 && proportionToCut < 0.5))
            throw new ArgumentOutOfRangeException(nameof(proportionToCut), proportionToCut, "Stats.TrimMean: the proportion must be in [0, 0.5)");
        Array.Sort(x);
        int k = (int)(proportionToCut * x.Length);
        return Average(x.AsSpan(k, x.Length - 2 * k));
    }

    /// <summary>
    /// numpy.percentile(sorted, 100·p) with its default 'linear' method: position h = (n − 1)·p between the order
    /// statistics ⌊h⌋ and ⌊h⌋ + 1, interpolated the way numpy's _lerp does (from the upper end when the weight is
    /// ≥ ½, so the result is exact at both ends). <paramref name="sorted"/> must be ascending.
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.Length == 0) throw new ArgumentException("Stats.Percentile: no values");
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Stats.Percentile: p must be in [0, 1]");
        double h = (sorted.Length - 1) * p;
        int i = (int)Math.Floor(h);
        if (i >= sorted.Length - 1) return sorted[^1];
        double w = h - i, a = sorted[i], b = sorted[i + 1], d = b - a;
        return w >= 0.5 ? b - d * (1 - w) : a + d * w;
    }

    /// <summary>Every run of every task in one array (task by task).</summary>
    internal static double[] Pool(double[][] scores)
    {
        Check(scores, nameof(scores));
        int n = 0;
        foreach (var task in scores) n += task.Length;
        var all = new double[n];
        int at = 0;
        foreach (var task in scores) { task.CopyTo(all, at); at += task.Length; }
        return all;
    }

    private static double[] TaskMeans(double[][] scores)
    {
        Check(scores, nameof(scores));
        var m = new double[scores.Length];
        for (int t = 0; t < scores.Length; t++) m[t] = Average(scores[t]);
        return m;
    }

    /// <summary>A compensated mean: the result does not drift with the order or count of the values.</summary>
    private static double Average(ReadOnlySpan<double> x)
    {
        var sum = new NeumaierSum();
        foreach (double v in x) sum.Add(v);
        return sum.Value / x.Length;
    }

    private static void Check(double[][] scores, string name)
    {
        if (scores.Length == 0) throw new ArgumentException($"Stats: {name} has no tasks", name);
        for (int t = 0; t < scores.Length; t++)
            if (scores[t].Length == 0) throw new ArgumentException($"Stats: task {t} of {name} has no runs", name);
    }

    /// <summary>Neumaier's compensated sum: keeps the low-order bits each addition drops, so a mean of many scores is
    /// within an ulp or two of the exact one whatever the summation order (numpy's pairwise sum is as close).</summary>
    private struct NeumaierSum
    {
        private double _sum, _c;

        public void Add(double x)
        {
            double t = _sum + x;
            _c += Math.Abs(_sum) >= Math.Abs(x) ? (_sum - t) + x : (x - t) + _sum;
            _sum = t;
        }

        public readonly double Value => _sum + _c;
    }
}
