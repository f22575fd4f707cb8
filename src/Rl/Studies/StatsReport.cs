// StatsReport: `tiny stats SCORES.csv`: every algorithm's IQM, mean, median and optimality gap and every ordered pair's
// P(X > Y), each with a stratified-bootstrap interval, as a text table or a JSON object.
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tiny.Rl.Studies;

/// <summary>The statistics of a study: per algorithm its aggregate metrics, per ordered pair P(X &gt; Y).</summary>
/// <param name="Table">The scores.</param>
/// <param name="Aggregates">Per algorithm, in <see cref="ScoreTable.Algorithms"/> order: IQM, mean, median, optimality gap (γ = 1).</param>
/// <param name="Improvement">Per ordered pair (X, Y), X ≠ Y, X-major in algorithm order: P(X &gt; Y).</param>
public sealed record StatsSummary(
    ScoreTable Table,
    IReadOnlyList<(string Algorithm, Estimate Iqm, Estimate Mean, Estimate Median, Estimate OptimalityGap)> Aggregates,
    IReadOnlyList<(string X, string Y, Estimate Value)> Improvement);

/// <summary>Computes and formats a <see cref="StatsSummary"/>.</summary>
public static class StatsReport
{
    /// <summary>
    /// Reads <paramref name="csvPath"/> (see <see cref="ScoresCsv"/>), computes the statistics and writes them to
    /// <paramref name="stdout"/>: a text table, or with <paramref name="json"/> one JSON object. Throws
    /// <see cref="InvalidDataException"/> for a bad file (one line naming the line), <see cref="IOException"/> when it
    /// cannot be read, <see cref="ArgumentException"/> for reps &lt; 1 or a confidence outside (0, 1).
    /// </summary>
    public static void Run(string csvPath, int reps, int seed, double confidence, bool json, TextWriter stdout)
    {
        CheckOptions(reps, confidence);
        var summary = Compute(ScoresCsv.Read(csvPath), reps, seed, confidence);
        stdout.Write(json ? Json(summary) : Text(summary, Path.GetFileName(csvPath), reps, seed, confidence));
    }

    /// <summary>
    /// The statistics of <paramref name="table"/>. Each algorithm's four metrics share one set of resamples, and each
    /// bootstrap (one per algorithm, one per unordered pair) starts from <c>new Rng(seed)</c>, so an interval depends
    /// only on the seed and the scores it is computed from, not on the other algorithms in the file. P(Y &gt; X) is
    /// 1 − P(X &gt; Y) for every resample, so its interval is the mirror image [1 − hi, 1 − lo] of P(X &gt; Y)'s.
    /// </summary>
    public static StatsSummary Compute(ScoreTable table, int reps = StratifiedBootstrap.DefaultReps, int seed = 0,
        double confidence = StratifiedBootstrap.DefaultConfidence)
    {
        CheckOptions(reps, confidence);
        var algs = table.Algorithms;
        var aggregates = algs.Select(a =>
        {
            var e = StratifiedBootstrap.Intervals(table[a],
                s => [Stats.Iqm(s), Stats.Mean(s), Stats.Median(s), Stats.OptimalityGap(s)], reps, confidence, seed);
            return (a, e[0], e[1], e[2], e[3]);
        }).ToList();

        var pair = new Dictionary<(int, int), Estimate>();
        for (int i = 0; i < algs.Count; i++)
            for (int j = i + 1; j < algs.Count; j++)
            {
                var e = StratifiedBootstrap.Interval(table[algs[i]], table[algs[j]], Stats.ProbabilityOfImprovement, reps, confidence, seed);
                pair[(i, j)] = e;
                pair[(j, i)] = new Estimate(Stats.ProbabilityOfImprovement(table[algs[j]], table[algs[i]]), 1 - e.Hi, 1 - e.Lo);
            }
        var improvement = new List<(string, string, Estimate)>();
        for (int i = 0; i < algs.Count; i++)
            for (int j = 0; j < algs.Count; j++)
                if (i != j) improvement.Add((algs[i], algs[j], pair[(i, j)]));
        return new StatsSummary(table, aggregates, improvement);
    }

    /// <summary>
    /// The JSON form: <c>{"algorithms": {"NAME": {"iqm": {"value": v, "ci": [lo, hi]}, "mean": ..., "median": ...,
    /// "optimality_gap": ...}}, "probability_of_improvement": {"X&gt;Y": {"value": v, "ci": [lo, hi]}}}</c>, on one
    /// line (as tiny eval --json prints its result), numbers in shortest round-trip form, names unescaped but for
    /// what JSON requires (so the key reads "X>Y", not "X\u003EY"; the output is never embedded in HTML).
    /// </summary>
    public static string Json(StatsSummary summary)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("algorithms");
            foreach (var (alg, iqm, mean, median, gap) in summary.Aggregates)
            {
                w.WriteStartObject(alg);
                Write(w, "iqm", iqm);
                Write(w, "mean", mean);
                Write(w, "median", median);
                Write(w, "optimality_gap", gap);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("probability_of_improvement");
            foreach (var (x, y, e) in summary.Improvement) Write(w, $"{x}>{y}", e);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + Environment.NewLine;
    }

    /// <summary>The text form: a header line, one row per algorithm (IQM, mean, median, optimality gap, each
    /// <c>value [lo, hi]</c>), then P(X &gt; Y) for every ordered pair.</summary>
    public static string Text(StatsSummary summary, string name, int reps, int seed, double confidence)
    {
        var t = summary.Table;
        var runs = t.Algorithms.SelectMany(a => t[a].Select(r => r.Length)).ToList();
        string runText = runs.Min() == runs.Max() ? $"{runs.Min()}" : $"{runs.Min()}-{runs.Max()}";
        var sb = new StringBuilder();
        sb.Append(Inv($"{name}: {t.Algorithms.Count} algorithm{S(t.Algorithms.Count)}, {t.Tasks.Count} task{S(t.Tasks.Count)}, "));
        sb.AppendLine(Inv($"{runText} run{S(runs.Max())} per task; {100 * confidence:0.##}% stratified-bootstrap percentile intervals ({reps:N0} resamples, seed {seed})"));
        sb.AppendLine();

        var agg = summary.Aggregates;
        int[] d = [Decimals(agg.Select(r => r.Iqm)), Decimals(agg.Select(r => r.Mean)), Decimals(agg.Select(r => r.Median)),
            Decimals(agg.Select(r => r.OptimalityGap))];
        var rows = new List<string[]> { new[] { "algorithm", "IQM", "mean", "median", "optimality gap" } };
        foreach (var (alg, iqm, mean, median, gap) in agg)
            rows.Add([alg, Cell(iqm, d[0]), Cell(mean, d[1]), Cell(median, d[2]), Cell(gap, d[3])]);
        AppendTable(sb, rows);

        if (summary.Improvement.Count > 0)
        {
            sb.AppendLine();
            var p = new List<string[]> { new[] { "X > Y", "P(X > Y)" } };
            int dp = Decimals(summary.Improvement.Select(r => r.Value));
            foreach (var (x, y, e) in summary.Improvement) p.Add([$"{x} > {y}", Cell(e, dp)]);
            AppendTable(sb, p);
        }
        return sb.ToString();
    }

    private static void Write(Utf8JsonWriter w, string key, Estimate e)
    {
        w.WriteStartObject(key);
        w.WriteNumber("value", e.Value);
        w.WriteStartArray("ci");
        w.WriteNumberValue(e.Lo);
        w.WriteNumberValue(e.Hi);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The decimals that give the largest number of a column 4 significant digits (0 to 6), so raw returns
    /// and normalised scores both read well and a column's numbers line up.</summary>
    private static int Decimals(IEnumerable<Estimate> column)
    {
        double big = column.Max(e => Math.Max(Math.Abs(e.Value), Math.Max(Math.Abs(e.Lo), Math.Abs(e.Hi))));
        return big == 0 ? 3 : Math.Clamp(3 - (int)Math.Floor(Math.Log10(big)), 0, 6);
    }

    /// <summary>`value [lo, hi]`.</summary>
    private static string Cell(Estimate e, int decimals)
    {
        string f(double v) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
        return $"{f(e.Value)} [{f(e.Lo)}, {f(e.Hi)}]";
    }

    /// <summary>Columns separated by two spaces; the first left-aligned, the others right-aligned.</summary>
    private static void AppendTable(StringBuilder sb, List<string[]> rows)
    {
        var width = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var r in rows)
        {
            var cells = r.Select((s, c) => c == 0 ? s.PadRight(width[c]) : s.PadLeft(width[c]));
            sb.AppendLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string S(int n) => n == 1 ? "" : "s";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void CheckOptions(int reps, double confidence)
    {
        // ArgumentException without a parameter name: its Message is the one line a command prints.
        if (reps < 1) throw new ArgumentException($"stats: reps must be at least 1, got {reps}");
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentException($"stats: the confidence level must be in (0, 1), got {confidence.ToString(CultureInfo.InvariantCulture)}");
    }
}
