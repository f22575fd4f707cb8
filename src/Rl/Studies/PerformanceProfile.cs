// PerformanceProfile: rliable's score-distribution performance profile over a τ grid, with stratified-bootstrap bands.
namespace Tiny.Rl.Studies;

/// <summary>
/// A performance profile (rliable's create_performance_profile with use_score_distribution=True): at each threshold
/// τ, the fraction of runs (all tasks pooled) scoring above τ, with a pointwise stratified-bootstrap percentile band.
/// </summary>
/// <param name="Taus">The thresholds.</param>
/// <param name="Values">Fraction of runs with score &gt; τ, per τ.</param>
/// <param name="Lo">Lower end of the band, per τ.</param>
/// <param name="Hi">Upper end of the band, per τ.</param>
public sealed record PerformanceProfile(double[] Taus, double[] Values, double[] Lo, double[] Hi)
{
    /// <summary>The profile of one algorithm's scores (scores[t][r]: run r of task t) at <paramref name="taus"/>, the
    /// band from <paramref name="reps"/> stratified resamples seeded with <paramref name="seed"/>.</summary>
    public static PerformanceProfile Create(double[][] scores, double[] taus,
        int reps = StratifiedBootstrap.DefaultReps, double confidence = StratifiedBootstrap.DefaultConfidence, int seed = 0)
    {
        if (taus.Length == 0) throw new ArgumentException("PerformanceProfile: no thresholds", nameof(taus));
        var t = (double[])taus.Clone();
        var e = StratifiedBootstrap.Intervals(scores, s => Stats.ScoreDistribution(s, t), reps, confidence, seed);
        return new PerformanceProfile(t, e.Select(x => x.Value).ToArray(), e.Select(x => x.Lo).ToArray(), e.Select(x => x.Hi).ToArray());
    }

    /// <summary>numpy.linspace(start, stop, count): count evenly spaced thresholds, both ends included.</summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "PerformanceProfile.Linspace: count must be at least 1");
        var x = new double[count];
        if (count == 1) { x[0] = start; return x; }
        double step = (stop - start) / (count - 1);
        for (int i = 0; i < count; i++) x[i] = start + i * step;
        x[^1] = stop;
        return x;
    }
}
