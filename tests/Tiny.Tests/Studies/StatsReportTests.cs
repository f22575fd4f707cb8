// Tests of the scores CSV reader (a table of bad inputs and their one-line messages) and of the stats report's text
// and JSON forms.
using System.Text.Json;
using NUnit.Framework;
using Tiny.Rl.Studies;

namespace Tiny.Tests.Studies;

public sealed class StatsReportTests
{
    private const string H = "algorithm,task,run,score\n";

    private static ScoreTable Parse(string csv) => ScoresCsv.Parse(new StringReader(csv), "s.csv");

    public static IEnumerable<TestCaseData> BadCsv =>
    [
        new TestCaseData("", "s.csv line 1: empty file; expected the header 'algorithm,task,run,score'").SetArgDisplayNames("empty"),
        new TestCaseData("alg,task,run\na,t,1,2\n", "s.csv line 1: expected the header 'algorithm,task,run,score', got 'alg,task,run'").SetArgDisplayNames("bad header"),
        new TestCaseData("a,t,1,2\n", "s.csv line 1: expected the header 'algorithm,task,run,score', got 'a,t,1,2'").SetArgDisplayNames("no header"),
        new TestCaseData(H, "s.csv: no scores after the header").SetArgDisplayNames("header only"),
        new TestCaseData(H + "a,t,1\n", "s.csv line 2: expected 4 fields (algorithm,task,run,score), got 3: 'a,t,1'").SetArgDisplayNames("missing column"),
        new TestCaseData(H + "a,t,1,1,5\n", "s.csv line 2: expected 4 fields (algorithm,task,run,score), got 5: 'a,t,1,1,5'").SetArgDisplayNames("decimal comma"),
        new TestCaseData(H + "a,t,1,\n", "s.csv line 2: empty score").SetArgDisplayNames("empty score"),
        new TestCaseData(H + " ,t,1,2\n", "s.csv line 2: empty algorithm").SetArgDisplayNames("empty algorithm"),
        new TestCaseData(H + "a,t,,2\n", "s.csv line 2: empty run").SetArgDisplayNames("empty run"),
        new TestCaseData(H + "a,t,1,abc\n", "s.csv line 2: score 'abc' is not a number").SetArgDisplayNames("non-numeric"),
        new TestCaseData(H + "a,t,1,0x10\n", "s.csv line 2: score '0x10' is not a number").SetArgDisplayNames("hex"),
        new TestCaseData(H + "a,t,1,nan\n", "s.csv line 2: score 'nan' is not finite").SetArgDisplayNames("nan"),
        new TestCaseData(H + "a,t,1,NaN\n", "s.csv line 2: score 'NaN' is not finite").SetArgDisplayNames("NaN"),
        new TestCaseData(H + "a,t,1,inf\n", "s.csv line 2: score 'inf' is not finite").SetArgDisplayNames("inf"),
        new TestCaseData(H + "a,t,1,-Infinity\n", "s.csv line 2: score '-Infinity' is not finite").SetArgDisplayNames("-Infinity"),
        new TestCaseData(H + "a,t,1,1e999\n", "s.csv line 2: score '1e999' is not finite").SetArgDisplayNames("overflow"),
        new TestCaseData(H + "\"a\",t,1,2\n", "s.csv line 2: quoted fields are not supported (algorithm \"a\")").SetArgDisplayNames("quoted"),
        new TestCaseData(H + "a,t,1,2\n\na,t,x,y\n", "s.csv line 4: score 'y' is not a number").SetArgDisplayNames("line numbers count blank lines"),
        new TestCaseData(H + "a,t,1,2\na,t,2,3\na,t,1,4\n", "s.csv line 4: duplicate (algorithm, task, run) = (a, t, 1), first on line 2").SetArgDisplayNames("duplicate"),
        new TestCaseData(H + "a,t1,1,2\na,t2,1,3\na,t3,1,3\nb,t1,1,2\n",
            "s.csv: algorithm 'b' has no scores for tasks 't2', 't3'; every algorithm needs every task").SetArgDisplayNames("missing tasks"),
    ];

    [TestCaseSource(nameof(BadCsv))]
    public void BadCsvGivesOneLineNamingTheLine(string csv, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(csv))!;
        Assert.That(e.Message, Is.EqualTo(message));
    }

    private const string Good = H +
        "ppo,CartPole,10,0.9\n" +
        "dqn,CartPole,1,0.7\n" +
        "ppo,Acrobot,2,0.4\n" +
        "ppo,CartPole,2,0.8\n" +
        "ppo, CartPole , 1 , 1.0e0 \n" +
        "dqn,Acrobot,1,0.6\n" +
        "dqn,Acrobot,2,0.3\n" +
        "\n" +
        "ppo,Acrobot,1,-0.25\n";

    [Test]
    public void ParsesAndOrders()
    {
        var t = Parse(Good);
        Assert.That(t.Algorithms, Is.EqualTo(new[] { "ppo", "dqn" }));   // order of first appearance
        Assert.That(t.Tasks, Is.EqualTo(new[] { "Acrobot", "CartPole" }));   // ordinal
        Assert.That(t["ppo"], Is.EqualTo(new double[][] { [-0.25, 0.4], [1.0, 0.8, 0.9] }));   // runs 1, 2, 10
        Assert.That(t["dqn"], Is.EqualTo(new double[][] { [0.6, 0.3], [0.7] }));
    }

    [Test]
    public void HeaderMatchesWithoutCaseOrSpaces() =>
        Assert.That(Parse("Algorithm, Task, Run, Score\r\na,t,1,2\r\n")["a"], Is.EqualTo(new double[][] { [2] }));

    [Test]
    public void ResultDependsOnlyOnTheSetOfRows()
    {
        var lines = Good.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        string shuffled = H + string.Join("\n", lines.Reverse()) + "\n";
        // dqn first now: compare per algorithm
        var a = StatsReport.Compute(Parse(Good), 500, 1);
        var b = StatsReport.Compute(Parse(shuffled), 500, 1);
        Assert.That(b.Aggregates.OrderBy(r => r.Algorithm), Is.EqualTo(a.Aggregates.OrderBy(r => r.Algorithm)));
        Assert.That(b.Improvement.OrderBy(r => r.X), Is.EqualTo(a.Improvement.OrderBy(r => r.X)));
    }

    private static string WriteTemp(string csv)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tiny-stats-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, csv);
        return path;
    }

    [Test]
    public void JsonHasExactlyTheDocumentedShapeAndTheStatsValues()
    {
        string path = WriteTemp(Good + "sac,Acrobot,1,0.5\nsac,CartPole,1,0.95\nsac,CartPole,2,0.85\n");
        try
        {
            var w = new StringWriter();
            StatsReport.Run(path, 300, 7, 0.9, json: true, w);
            Assert.That(w.ToString().TrimEnd(), Does.Not.Contain('\n'), "one line");
            Assert.That(w.ToString(), Does.Contain("\"ppo>dqn\":{\"value\":"), "the key as written, '>' unescaped");
            using var doc = JsonDocument.Parse(w.ToString());
            var root = doc.RootElement;
            Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "algorithms", "probability_of_improvement" }));
            var table = ScoresCsv.Read(path);
            var algs = root.GetProperty("algorithms");
            Assert.That(algs.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "ppo", "dqn", "sac" }));
            foreach (var alg in algs.EnumerateObject())
            {
                Assert.That(alg.Value.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "iqm", "mean", "median", "optimality_gap" }));
                var s = table[alg.Name];
                double[] want = [Stats.Iqm(s), Stats.Mean(s), Stats.Median(s), Stats.OptimalityGap(s)];
                int k = 0;
                foreach (var m in alg.Value.EnumerateObject())
                {
                    Assert.That(m.Value.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "value", "ci" }));
                    Assert.That(m.Value.GetProperty("value").GetDouble(), Is.EqualTo(want[k++]), $"{alg.Name} {m.Name}");
                    var ci = m.Value.GetProperty("ci").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                    Assert.That(ci, Has.Length.EqualTo(2));
                    Assert.That(ci[0], Is.LessThanOrEqualTo(ci[1]));
                }
                var e = StratifiedBootstrap.Intervals(s, x => [Stats.Iqm(x)], 300, 0.9, 7)[0];
                var iqm = alg.Value.GetProperty("iqm").GetProperty("ci").EnumerateArray().Select(v => v.GetDouble());
                Assert.That(iqm, Is.EqualTo(new[] { e.Lo, e.Hi }), "each algorithm's bootstrap starts from new Rng(seed)");
            }
            var poi = root.GetProperty("probability_of_improvement");
            Assert.That(poi.EnumerateObject().Select(p => p.Name),
                Is.EqualTo(new[] { "ppo>dqn", "ppo>sac", "dqn>ppo", "dqn>sac", "sac>ppo", "sac>dqn" }));
            var pd = poi.GetProperty("ppo>dqn");
            var dp = poi.GetProperty("dqn>ppo");
            Assert.That(pd.GetProperty("value").GetDouble(), Is.EqualTo(Stats.ProbabilityOfImprovement(table["ppo"], table["dqn"])));
            Assert.That(dp.GetProperty("value").GetDouble(), Is.EqualTo(Stats.ProbabilityOfImprovement(table["dqn"], table["ppo"])));
            var ciPd = pd.GetProperty("ci").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var ciDp = dp.GetProperty("ci").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.That(ciDp[0], Is.EqualTo(1 - ciPd[1]).Within(1e-15));   // the mirror image
            Assert.That(ciDp[1], Is.EqualTo(1 - ciPd[0]).Within(1e-15));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void TextHasAHeaderARowPerAlgorithmAndEveryOrderedPair()
    {
        string path = WriteTemp(Good);
        try
        {
            var w = new StringWriter();
            StatsReport.Run(path, 200, 0, 0.95, json: false, w);
            var lines = w.ToString().Split(Environment.NewLine);
            Assert.That(lines[0], Is.EqualTo($"{Path.GetFileName(path)}: 2 algorithms, 2 tasks, 1-3 runs per task; " +
                "95% stratified-bootstrap percentile intervals (200 resamples, seed 0)"));
            Assert.That(lines[2], Does.StartWith("algorithm").And.Contain("IQM").And.Contain("optimality gap"));
            var s = ScoresCsv.Read(path)["ppo"];
            var e = StratifiedBootstrap.Intervals(s, x => [Stats.Iqm(x)], 200, 0.95, 0)[0];
            var d = StratifiedBootstrap.Intervals(ScoresCsv.Read(path)["dqn"], x => [Stats.Iqm(x)], 200, 0.95, 0)[0];
            double big = new[] { e.Value, e.Lo, e.Hi, d.Value, d.Lo, d.Hi }.Max(Math.Abs);
            Assert.That(big, Is.InRange(0.1, 0.99995));
            const string f = "F4";   // the IQM column's largest number is in [0.1, 1): 4 significant digits
            Assert.That(lines[3], Does.StartWith("ppo ").And.Contain($"{e.Value.ToString(f)} [{e.Lo.ToString(f)}, {e.Hi.ToString(f)}]"));
            Assert.That(lines[4], Does.StartWith("dqn "));
            Assert.That(lines[6], Does.StartWith("X > Y").And.EndWith("P(X > Y)"));
            Assert.That(lines[7], Does.StartWith("ppo > dqn"));
            Assert.That(lines[8], Does.StartWith("dqn > ppo"));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void BadOptionsAndMissingFileThrowOneLine()
    {
        string path = WriteTemp(Good);
        try
        {
            var e1 = Assert.Throws<ArgumentException>(() => StatsReport.Run(path, 0, 0, 0.95, false, TextWriter.Null))!;
            Assert.That(e1.Message, Is.EqualTo("stats: reps must be at least 1, got 0"));
            var e2 = Assert.Throws<ArgumentException>(() => StatsReport.Run(path, 10, 0, 95, false, TextWriter.Null))!;
            Assert.That(e2.Message, Is.EqualTo("stats: the confidence level must be in (0, 1), got 95"));
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => StatsReport.Run(path, 10, 0, 0.95, false, TextWriter.Null));
    }
}
