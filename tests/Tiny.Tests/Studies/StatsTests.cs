// Tests of Tiny.Rl.Studies' statistics: point values against numpy/scipy (stats_golden.json, gen_stats.py) and
// stratified-bootstrap intervals against scipy.stats.bootstrap and a numpy stratified bootstrap.
using System.Text.Json;
using NUnit.Framework;
using Tiny.Rl.Studies;

namespace Tiny.Tests.Studies;

public sealed class StatsTests
{
    private const double Tol = 1e-12;

    /// <summary>Monte Carlo tolerance of an interval endpoint against a reference bootstrap with as many (20,000)
    /// resamples but other random numbers: 5% of the reference interval's width. An endpoint's Monte Carlo standard
    /// error is about 0.5% of the width at 20,000 resamples, so the two sides' difference stays well inside.</summary>
    private const double McWidthFraction = 0.05;

    private static readonly Lazy<JsonDocument> Golden = new(() => TestData.Load("stats_golden.json"));

    private static JsonElement Root => Golden.Value.RootElement;

    private static JsonElement Case(string name) => Root.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static double[][] Tasks(JsonElement e) => e.EnumerateArray().Select(Doubles).ToArray();

    public static IEnumerable<string> CaseNames =>
        ["ties", "unequal_runs", "single_task", "one_run_per_task", "even_tasks_large_scores", "many_tasks"];

    private static void AssertClose(double actual, double expected, string what) =>
        Assert.That(Math.Abs(actual - expected), Is.LessThanOrEqualTo(Tol * Math.Max(1, Math.Abs(expected))), $"{what}: {actual:R} vs {expected:R}");

    [Test]
    public void GoldenFileHasEveryCase() =>
        Assert.That(Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()), Is.EquivalentTo(CaseNames));

    [TestCaseSource(nameof(CaseNames))]
    public void PointValuesMatchNumpyAndScipy(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        foreach (string side in new[] { "x", "y" })
        {
            var s = Tasks(c.GetProperty(side));
            var want = e.GetProperty(side);
            AssertClose(Stats.Iqm(s), want.GetProperty("iqm").GetDouble(), $"{name} {side} iqm");
            AssertClose(Stats.Mean(s), want.GetProperty("mean").GetDouble(), $"{name} {side} mean");
            AssertClose(Stats.Median(s), want.GetProperty("median").GetDouble(), $"{name} {side} median");
            AssertClose(Stats.OptimalityGap(s), want.GetProperty("optimality_gap").GetDouble(), $"{name} {side} optimality gap");
        }
        var x = Tasks(c.GetProperty("x"));
        var y = Tasks(c.GetProperty("y"));
        AssertClose(Stats.ProbabilityOfImprovement(x, y), e.GetProperty("poi_xy").GetDouble(), $"{name} P(X>Y)");
        AssertClose(Stats.ProbabilityOfImprovement(y, x), e.GetProperty("poi_yx").GetDouble(), $"{name} P(Y>X)");
        var profile = Stats.ScoreDistribution(x, Doubles(e.GetProperty("taus")));
        var wantProfile = Doubles(e.GetProperty("profile_x"));
        for (int i = 0; i < profile.Length; i++) AssertClose(profile[i], wantProfile[i], $"{name} profile[{i}]");
    }

    [Test]
    public void IdenticalOrAllTiedTaskGivesOneHalf()
    {
        // ties case: task 1 is all 0.5 for both, task 2 is the same array for both.
        var c = Case("ties");
        var x = Tasks(c.GetProperty("x"));
        var y = Tasks(c.GetProperty("y"));
        Assert.That(Stats.ProbabilityOfImprovement([x[1]], [y[1]]), Is.EqualTo(0.5));
        Assert.That(Stats.ProbabilityOfImprovement([x[2]], [y[2]]), Is.EqualTo(0.5));
    }

    [Test]
    public void FromMatrixReadsRliablesRunsByTasksLayout()
    {
        var c = Case("many_tasks");
        var rows = Tasks(c.GetProperty("x_matrix"));
        var m = new double[rows.Length, rows[0].Length];
        for (int r = 0; r < rows.Length; r++)
            for (int t = 0; t < rows[0].Length; t++) m[r, t] = rows[r][t];
        var s = Stats.FromMatrix(m);
        Assert.That(s, Is.EqualTo(Tasks(c.GetProperty("x"))));
        AssertClose(Stats.Iqm(s), c.GetProperty("expected").GetProperty("x").GetProperty("iqm").GetDouble(), "iqm");
    }

    [Test]
    public void PercentileMatchesNumpyLinear()
    {
        var p = Root.GetProperty("percentile");
        var v = Doubles(p.GetProperty("values"));
        Array.Sort(v);
        var q = Doubles(p.GetProperty("p"));
        var want = Doubles(p.GetProperty("expected"));
        for (int i = 0; i < q.Length; i++) AssertClose(Stats.Percentile(v, q[i]), want[i], $"p = {q[i]}");
        var single = p.GetProperty("single");
        Assert.That(Stats.Percentile(Doubles(single[0]), 0.025), Is.EqualTo(single[1][0].GetDouble()));
    }

    [Test]
    public void LinspaceMatchesNumpy()
    {
        var l = Root.GetProperty("linspace");
        var x = PerformanceProfile.Linspace(l.GetProperty("start").GetDouble(), l.GetProperty("stop").GetDouble(), l.GetProperty("count").GetInt32());
        var want = Doubles(l.GetProperty("expected"));
        Assert.That(x.Length, Is.EqualTo(want.Length));
        for (int i = 0; i < x.Length; i++) AssertClose(x[i], want[i], $"linspace[{i}]");
    }

    [Test]
    public void MannWhitneyUCountsTiesAsHalf()
    {
        // x = {1, 2, 3}, y = {2, 2}: pairs x > y: 3 > 2 twice = 2; ties: 2 = 2 twice = 1; U = 3.
        Assert.That(Stats.MannWhitneyU([3, 1, 2], [2, 2]), Is.EqualTo(3.0));
        Assert.That(Stats.MannWhitneyU([2, 2], [3, 1, 2]), Is.EqualTo(3.0));   // U_x + U_y = n·m = 6
    }

    [Test]
    public void BadArgumentsThrow()
    {
        double[][] s = [[1, 2]];
        Assert.Throws<ArgumentException>(() => Stats.Iqm([]));
        Assert.Throws<ArgumentException>(() => Stats.Mean([[1], []]));
        Assert.Throws<ArgumentException>(() => Stats.ProbabilityOfImprovement(s, [[1], [2]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedBootstrap.Interval(s, Stats.Mean, reps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedBootstrap.Interval(s, Stats.Mean, confidence: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedBootstrap.Interval(s, Stats.Mean, confidence: double.NaN));
    }

    // ---- the stratified bootstrap ----

    private static (double[][] X, double[][] Y) ManyTasks()
    {
        var c = Case("many_tasks");
        return (Tasks(c.GetProperty("x")), Tasks(c.GetProperty("y")));
    }

    private static Func<double[][], double[]> Aggregates => s => [Stats.Iqm(s), Stats.Mean(s), Stats.Median(s), Stats.OptimalityGap(s)];

    [Test]
    public void SameSeedSameIntervalsOtherSeedOtherIntervals()
    {
        var (x, y) = ManyTasks();
        var a = StratifiedBootstrap.Intervals(x, Aggregates, seed: 3);
        var b = StratifiedBootstrap.Intervals(x, Aggregates, seed: 3);
        var c = StratifiedBootstrap.Intervals(x, Aggregates, seed: 4);
        Assert.That(a, Is.EqualTo(b));
        for (int k = 0; k < a.Length; k++)
        {
            Assert.That(c[k].Value, Is.EqualTo(a[k].Value));
            Assert.That((c[k].Lo, c[k].Hi), Is.Not.EqualTo((a[k].Lo, a[k].Hi)), $"statistic {k}");
        }
        var p = StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement, seed: 3);
        Assert.That(StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement, seed: 3), Is.EqualTo(p));
        Assert.That(StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement, seed: 4), Is.Not.EqualTo(p));
    }

    [Test]
    public void IntervalsContainThePointEstimate()
    {
        var (x, y) = ManyTasks();
        foreach (var e in StratifiedBootstrap.Intervals(x, Aggregates).Append(StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement)))
        {
            Assert.That(e.Lo, Is.LessThan(e.Value), e.ToString());
            Assert.That(e.Hi, Is.GreaterThan(e.Value), e.ToString());
        }
    }

    [Test]
    public void ResamplesStayWithinEachTask()
    {
        // Task t's scores are 100·t + r: a resample's task t must hold only task t's values, with its run count.
        double[][] s = [[0, 1, 2], [100, 101], [200, 201, 202, 203]];
        bool ok = true;
        StratifiedBootstrap.Replicates(s, r =>
        {
            for (int t = 0; t < s.Length; t++)
                ok &= r[t].Length == s[t].Length && r[t].All(v => s[t].Contains(v));
            return [0];
        }, 500, new Rng(0));
        Assert.That(ok, Is.True);
    }

    [Test]
    public void OneRunPerTaskHasNoSpread()
    {
        var x = Tasks(Case("one_run_per_task").GetProperty("x"));
        foreach (var e in StratifiedBootstrap.Intervals(x, Aggregates))
            Assert.That((e.Lo, e.Hi), Is.EqualTo((e.Value, e.Value)));
    }

    public static IEnumerable<TestCaseData> ScipyCases =>
        Golden.Value.RootElement.GetProperty("scipy_bootstrap").GetProperty("cases").EnumerateArray().Select((c, i) =>
            new TestCaseData(i).SetArgDisplayNames($"{c.GetProperty("statistic").GetString()}_{c.GetProperty("confidence").GetDouble()}"));

    [TestCaseSource(nameof(ScipyCases))]
    public void SingleTaskIntervalMatchesScipyBootstrap(int index)
    {
        // One task: the stratified bootstrap is the plain one, scipy.stats.bootstrap(method='percentile').
        var sb = Root.GetProperty("scipy_bootstrap");
        var c = sb.GetProperty("cases")[index];
        double[][] x = [Doubles(sb.GetProperty("x"))], y = [Doubles(sb.GetProperty("y"))];
        int reps = sb.GetProperty("reps").GetInt32();
        double conf = c.GetProperty("confidence").GetDouble(), tau = c.GetProperty("tau").GetDouble();
        var ci = Doubles(c.GetProperty("ci"));
        double slack = McWidthFraction * (ci[1] - ci[0]);
        string stat = c.GetProperty("statistic").GetString()!;
        var e = stat switch
        {
            "iqm" => StratifiedBootstrap.Interval(x, Stats.Iqm, reps, conf, seed: 1),
            "mean" => StratifiedBootstrap.Interval(x, Stats.Mean, reps, conf, seed: 1),
            "optimality_gap" => StratifiedBootstrap.Interval(x, s => Stats.OptimalityGap(s), reps, conf, seed: 1),
            "poi" => StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement, reps, conf, seed: 1),
            "profile" => StratifiedBootstrap.Interval(x, s => Stats.ScoreDistribution(s, [tau])[0], reps, conf, seed: 1),
            _ => throw new InvalidOperationException(stat),
        };
        // The score distribution takes values k/n: a percentile can land one lattice step apart with equal odds.
        if (stat == "profile") slack += 1.0 / x[0].Length;
        AssertClose(e.Value, c.GetProperty("value").GetDouble(), $"{stat} value");
        Assert.That(e.Lo, Is.EqualTo(ci[0]).Within(slack), $"{stat} lo (scipy {ci[0]}..{ci[1]})");
        Assert.That(e.Hi, Is.EqualTo(ci[1]).Within(slack), $"{stat} hi (scipy {ci[0]}..{ci[1]})");
    }

    [Test]
    public void ManyTaskIntervalsMatchANumpyStratifiedBootstrap()
    {
        var (x, y) = ManyTasks();
        var r = Root.GetProperty("stratified");
        int reps = r.GetProperty("reps").GetInt32();
        double conf = r.GetProperty("confidence").GetDouble();
        foreach (var (name, e) in new[]
        {
            ("iqm", StratifiedBootstrap.Interval(x, Stats.Iqm, reps, conf, seed: 1)),
            ("mean", StratifiedBootstrap.Interval(x, Stats.Mean, reps, conf, seed: 1)),
            ("poi", StratifiedBootstrap.Interval(x, y, Stats.ProbabilityOfImprovement, reps, conf, seed: 1)),
        })
        {
            var ci = Doubles(r.GetProperty(name));
            double slack = McWidthFraction * (ci[1] - ci[0]);
            Assert.That(e.Lo, Is.EqualTo(ci[0]).Within(slack), $"{name} lo");
            Assert.That(e.Hi, Is.EqualTo(ci[1]).Within(slack), $"{name} hi");
        }
    }

    [Test]
    public void PerformanceProfileBandsAreMonotoneAndHoldTheProfile()
    {
        var c = Case("many_tasks");
        var x = Tasks(c.GetProperty("x"));
        var taus = PerformanceProfile.Linspace(0, 3, 31);
        var p = PerformanceProfile.Create(x, taus, seed: 5);
        Assert.That(p.Values, Is.EqualTo(Stats.ScoreDistribution(x, taus)));
        for (int i = 0; i < taus.Length; i++)
        {
            Assert.That(p.Lo[i], Is.LessThanOrEqualTo(p.Values[i]).And.GreaterThanOrEqualTo(0), $"tau {taus[i]}");
            Assert.That(p.Hi[i], Is.GreaterThanOrEqualTo(p.Values[i]).And.LessThanOrEqualTo(1), $"tau {taus[i]}");
            if (i > 0)
            {
                // Every resample's profile falls with τ, so each percentile of them does too.
                Assert.That(p.Lo[i], Is.LessThanOrEqualTo(p.Lo[i - 1]));
                Assert.That(p.Hi[i], Is.LessThanOrEqualTo(p.Hi[i - 1]));
            }
        }
        Assert.That(PerformanceProfile.Create(x, taus, seed: 5), Is.EqualTo(p).Using<PerformanceProfile>((a, b) =>
            a.Lo.SequenceEqual(b.Lo) && a.Hi.SequenceEqual(b.Hi)));
    }
}
