// StratifiedBootstrap: rliable's stratified bootstrap (runs resampled with replacement within each task) and its
// percentile confidence intervals, for one algorithm's statistics and for two-algorithm ones such as P(X > Y).
namespace Tiny.Rl.Studies;

/// <summary>A point estimate and its confidence interval [Lo, Hi].</summary>
/// <param name="Value">The statistic on the scores as given.</param>
/// <param name="Lo">Lower end of the interval.</param>
/// <param name="Hi">Upper end of the interval.</param>
public readonly record struct Estimate(double Value, double Lo, double Hi);

/// <summary>
/// Stratified bootstrap percentile intervals (rliable's StratifiedBootstrap / StratifiedIndependentBootstrap with
/// method='percentile', task_bootstrap=False). One resample draws, for each task t with n_t runs, n_t run indices
/// uniformly with replacement from that task's runs, so every resample keeps the task set and each task's run count;
/// the interval at confidence c is the (1−c)/2 and (1+c)/2 linear percentiles of the statistic over the resamples.
/// Draw order, for reproducibility: resample by resample, task by task, run by run, each index Rng.NextInt(n_t);
/// two-sample statistics draw all of X's tasks, then all of Y's, in each resample.
/// </summary>
public static class StratifiedBootstrap
{
    /// <summary>Default number of resamples (rliable's performance-profile default; its interval default is 50,000).</summary>
    public const int DefaultReps = 2000;

    /// <summary>Default confidence level.</summary>
    public const double DefaultConfidence = 0.95;

    /// <summary>
    /// The statistic's value on <paramref name="reps"/> stratified resamples: result[k][b] is output k on resample b.
    /// The arrays handed to <paramref name="statistic"/> are reused from one resample to the next: read, do not keep.
    /// </summary>
    public static double[][] Replicates(double[][] scores, Func<double[][], double[]> statistic, int reps, Rng rng)
    {
        CheckReps(reps);
        var buffer = Buffer(scores);
        double[][]? result = null;
        for (int b = 0; b < reps; b++)
        {
            Resample(scores, buffer, rng);
            Store(ref result, statistic(buffer), b, reps);
        }
        return result!;
    }

    /// <summary>Two-sample <see cref="Replicates(double[][], Func{double[][], double[]}, int, Rng)"/>: X and Y are
    /// resampled independently, each within each task.</summary>
    public static double[][] Replicates(double[][] x, double[][] y, Func<double[][], double[][], double[]> statistic, int reps, Rng rng)
    {
        CheckReps(reps);
        var bx = Buffer(x);
        var by = Buffer(y);
        double[][]? result = null;
        for (int b = 0; b < reps; b++)
        {
            Resample(x, bx, rng);
            Resample(y, by, rng);
            Store(ref result, statistic(bx, by), b, reps);
        }
        return result!;
    }

    /// <summary>The percentile interval of one statistic's replicates at the given confidence (sorts them in place).</summary>
    public static (double Lo, double Hi) PercentileInterval(double[] replicates, double confidence)
    {
        CheckConfidence(confidence);
        if (replicates.Length == 0) throw new ArgumentException("StratifiedBootstrap: no replicates", nameof(replicates));
        Array.Sort(replicates);
        double alpha = (1 - confidence) / 2;   // as arch computes it: the tails are alpha and 1 − alpha
        return (Stats.Percentile(replicates, alpha), Stats.Percentile(replicates, 1 - alpha));
    }

    /// <summary>Point values and percentile intervals of a vector of statistics of one algorithm's scores, all from the
    /// same resamples (as rliable does when one function returns every aggregate metric).</summary>
    public static Estimate[] Intervals(double[][] scores, Func<double[][], double[]> statistic,
        int reps = DefaultReps, double confidence = DefaultConfidence, int seed = 0)
    {
        CheckConfidence(confidence);
        var value = statistic(scores);
        return Combine(value, Replicates(scores, statistic, reps, new Rng(seed)), confidence);
    }

    /// <summary>The point value and percentile interval of one statistic of one algorithm's scores.</summary>
    public static Estimate Interval(double[][] scores, Func<double[][], double> statistic,
        int reps = DefaultReps, double confidence = DefaultConfidence, int seed = 0) =>
        Intervals(scores, s => [statistic(s)], reps, confidence, seed)[0];

    /// <summary>The point value and percentile interval of a two-sample statistic such as
    /// <see cref="Stats.ProbabilityOfImprovement"/>.</summary>
    public static Estimate Interval(double[][] x, double[][] y, Func<double[][], double[][], double> statistic,
        int reps = DefaultReps, double confidence = DefaultConfidence, int seed = 0)
    {
        CheckConfidence(confidence);
        double value = statistic(x, y);
        return Combine([value], Replicates(x, y, (a, b) => [statistic(a, b)], reps, new Rng(seed)), confidence)[0];
    }

    private static Estimate[] Combine(double[] value, double[][] replicates, double confidence)
    {
        if (value.Length != replicates.Length)
            throw new InvalidOperationException("StratifiedBootstrap: the statistic's output length changed between calls");
        var e = new Estimate[value.Length];
        for (int k = 0; k < value.Length; k++)
        {
            var (lo, hi) = PercentileInterval(replicates[k], confidence);
            e[k] = new Estimate(value[k], lo, hi);
        }
        return e;
    }

    private static double[][] Buffer(double[][] scores)
    {
        if (scores.Length == 0) throw new ArgumentException("StratifiedBootstrap: no tasks", nameof(scores));
        var b = new double[scores.Length][];
        for (int t = 0; t < scores.Length; t++)
        {
            if (scores[t].Length == 0) throw new ArgumentException($"StratifiedBootstrap: task {t} has no runs", nameof(scores));
            b[t] = new double[scores[t].Length];
        }
        return b;
    }

    private static void Resample(double[][] scores, double[][] into, Rng rng)
    {
        for (int t = 0; t < scores.Length; t++)
        {
            var src = scores[t];
            var dst = into[t];
            for (int r = 0; r < dst.Length; r++) dst[r] = src[rng.NextInt(src.Length)];
        }
    }

    private static void Store(ref double[][]? result, double[] values, int b, int reps)
    {
        if (result is null)
        {
            result = new double[values.Length][];
            for (int k = 0; k < values.Length; k++) result[k] = new double[reps];
        }
        if (values.Length != result.Length)
            throw new InvalidOperationException("StratifiedBootstrap: the statistic's output length changed between calls");
        for (int k = 0; k < values.Length; k++) result[k][b] = values[k];
    }

    private static void CheckReps(int reps)
    {
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(reps), reps, "StratifiedBootstrap: reps must be at least 1");
    }

    private static void CheckConfidence(double confidence)
    {
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "StratifiedBootstrap: the confidence level must be in (0, 1)");
    }
}
