// LearningCurve: a run's training returns from its metrics.csv, as a normalised curve over equal windows of its step
// budget, and the area under it (sample efficiency).
using System.Globalization;

namespace Tiny.Rl.Studies;

/// <summary>
/// A run's learning curve: the step budget T cut into K equal windows; window k (steps in (kT/K, (k+1)T/K]) holds the
/// mean normalised return of the training episodes that ended in it. A window without an episode end repeats the
/// previous window (the first: 0, the random policy's score, which an untrained policy is near). Every window that
/// starts at or after a divergence step (a non-finite parameter, loss or return) is 0: the run has no policy left. The area under
/// the curve is the mean over the windows, in units of normalised score (1: solved from the first step). These are
/// the returns of the training policy (with its exploration: DQN's ε-greedy, TD3's action noise, PPO's sampling), not
/// greedy evaluations.
/// </summary>
public static class LearningCurve
{
    /// <summary>Windows of a curve unless a study says otherwise.</summary>
    public const int DefaultWindows = 20;

    /// <summary>The (global step, episodic return) rows of a metrics.csv written by tiny train, in file order (rows
    /// without a return are updates and are skipped; a NaN or infinite return is kept).</summary>
    public static List<(long Step, double Return)> ReadEpisodes(string metricsCsv)
    {
        using var reader = new StreamReader(metricsCsv);
        string header = reader.ReadLine() ?? throw new InvalidDataException($"{metricsCsv}: empty");
        var columns = header.Split(',');
        int step = Array.IndexOf(columns, "global_step"), ret = Array.IndexOf(columns, "episodic_return");
        if (step < 0 || ret < 0) throw new InvalidDataException($"{metricsCsv}: no global_step and episodic_return columns");
        var rows = new List<(long, double)>();
        string? line;
        int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var f = line.Split(',');
            if (f.Length != columns.Length) throw new InvalidDataException($"{metricsCsv} line {lineNo}: {f.Length} fields, the header has {columns.Length}");
            if (f[ret].Length == 0) continue;
            if (!long.TryParse(f[step], NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ||
                !double.TryParse(f[ret], NumberStyles.Float, CultureInfo.InvariantCulture, out double r))
                throw new InvalidDataException($"{metricsCsv} line {lineNo}: bad step or return");
            rows.Add((s, r));
        }
        return rows;
    }

    /// <summary>
    /// The curve over <paramref name="windows"/> windows of <paramref name="totalSteps"/> (see the class), returns
    /// normalised by <paramref name="normalization"/>; <paramref name="divergedAt"/> is the step a run diverged at
    /// (a non-finite return also marks one).
    /// </summary>
    public static double[] Windows(IReadOnlyList<(long Step, double Return)> episodes, long totalSteps, EnvNormalization normalization,
                                   long? divergedAt = null, int windows = DefaultWindows)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "LearningCurve: the step budget must be positive");
        if (windows < 1) throw new ArgumentOutOfRangeException(nameof(windows), windows, "LearningCurve: at least one window");
        long end = divergedAt ?? long.MaxValue;
        foreach (var (s, r) in episodes)
            if (!double.IsFinite(r)) { end = Math.Min(end, s); break; }
        var sum = new double[windows];
        var count = new int[windows];
        foreach (var (s, r) in episodes)
        {
            if (s >= end || !double.IsFinite(r)) continue;
            sum[Window(s, totalSteps, windows)] += normalization.Normalize(r);
            count[Window(s, totalSteps, windows)]++;
        }
        var curve = new double[windows];
        double last = 0;
        for (int k = 0; k < windows; k++)
        {
            // A window that starts at or after the divergence step scores as the random policy.
            if ((double)k * totalSteps / windows >= end) { curve[k] = 0; continue; }
            if (count[k] > 0) last = sum[k] / count[k];
            curve[k] = last;
        }
        return curve;
    }

    /// <summary>The area under a curve: the mean of its windows.</summary>
    public static double Area(double[] curve) => curve.Length == 0 ? 0 : curve.Average();

    /// <summary>The window of step s: k with kT/K &lt; s ≤ (k+1)T/K, clamped to [0, K−1].</summary>
    private static int Window(long s, long totalSteps, int windows) =>
        (int)Math.Clamp((s - 1) * windows / totalSteps, 0, windows - 1);
}
