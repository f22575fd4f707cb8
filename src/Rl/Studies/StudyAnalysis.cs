// StudyAnalysis: a finished study's runs scored and aggregated: per-optimizer intervals over all tasks and per agent,
// P(X > baseline), sample-efficiency curves, the sweep, divergence counts, and the scores CSV.
using System.Globalization;
using System.Text;

namespace Tiny.Rl.Studies;

/// <summary>One finished run, scored.</summary>
/// <param name="Run">What ran.</param>
/// <param name="EvalReturn">Mean greedy return over the study's evaluation episodes; null for a diverged run.</param>
/// <param name="DivergedAt">The env step the run diverged at, or null.</param>
/// <param name="Curve">The normalised learning curve (<see cref="LearningCurve.Windows"/>).</param>
/// <param name="WallSeconds">Training wall time (metrics.csv's last wall_time).</param>
public sealed record RunResult(StudyRun Run, double? EvalReturn, long? DivergedAt, double[] Curve, double WallSeconds)
{
    /// <summary>Whether the run diverged (a non-finite loss, parameter or return).</summary>
    public bool Diverged => DivergedAt is not null;

    /// <summary>
    /// The run's score: its mean greedy return normalised (<see cref="EnvScores"/>). A diverged run has no finite
    /// weights, hence no policy: it scores 0, the random policy's score. Dropping it would flatter an unstable
    /// optimizer; scoring the last evaluation before the blow-up would reward a run that did not survive training.
    /// </summary>
    public double Score => EvalReturn is double r && !Diverged ? EnvScores.For(Run.Task.Env).Normalize(r) : 0;

    /// <summary>Area under the learning curve (normalised score averaged over the budget).</summary>
    public double Auc => LearningCurve.Area(Curve);

    /// <summary>How far the curve fell from its best window to its last (0 when it ends at its best): a collapse,
    /// such as a diverged run's or a policy that unlearns.</summary>
    public double Drop => Curve.Length == 0 ? 0 : Curve.Max() - Curve[^1];
}

/// <summary>An optimizer's aggregate metrics over a set of tasks, each with its interval.</summary>
/// <param name="Optimizer">The optimizer label.</param>
/// <param name="Iqm">Interquartile mean of the scores.</param>
/// <param name="Mean">Mean over tasks of the task means.</param>
/// <param name="Median">Median over tasks of the task means.</param>
/// <param name="OptimalityGap">Mean shortfall below 1.</param>
public sealed record Aggregate(string Optimizer, Estimate Iqm, Estimate Mean, Estimate Median, Estimate OptimalityGap);

/// <summary>The statistics of a study's results; every interval is a stratified-bootstrap percentile interval
/// (runs resampled within each task) with <see cref="Reps"/> resamples from <c>new Rng(Seed)</c>.</summary>
public sealed class StudyAnalysis
{
    private readonly Dictionary<(string Task, string Optimizer), List<RunResult>> _cells = new();

    /// <summary>Analyses results of spec (every run of the spec must be there).</summary>
    public StudyAnalysis(StudySpec spec, IReadOnlyList<RunResult> results, int reps = StratifiedBootstrap.DefaultReps, int seed = 0,
                         double confidence = StratifiedBootstrap.DefaultConfidence)
    {
        (Spec, Results, Reps, Seed, Confidence) = (spec, results, reps, seed, confidence);
        foreach (var r in results)
        {
            var key = (r.Run.Task.Name, r.Run.Optimizer.Label);
            if (!_cells.TryGetValue(key, out var list)) _cells[key] = list = [];
            list.Add(r);
        }
        foreach (var t in spec.Tasks)
            foreach (var o in spec.Optimizers)
                if (!_cells.ContainsKey((t.Name, o.Label))) throw new ArgumentException($"StudyAnalysis: no results for {t.Name} with {o.Label}");
    }

    /// <summary>The study.</summary>
    public StudySpec Spec { get; }

    /// <summary>Every run's result.</summary>
    public IReadOnlyList<RunResult> Results { get; }

    /// <summary>Bootstrap resamples per interval.</summary>
    public int Reps { get; }

    /// <summary>Seed of every bootstrap.</summary>
    public int Seed { get; }

    /// <summary>Confidence level of every interval.</summary>
    public double Confidence { get; }

    /// <summary>The agents of the study, in task order.</summary>
    public IReadOnlyList<string> Agents => Spec.Tasks.Select(t => t.Agent).Distinct().ToList();

    /// <summary>The runs of one (task, optimizer) cell, in seed order.</summary>
    public IReadOnlyList<RunResult> Cell(StudyTask task, OptimizerVariant optimizer) =>
        _cells[(task.Name, optimizer.Label)].OrderBy(r => r.Run.Seed).ToList();

    /// <summary>The tasks of agent (null: every task), in ordinal order of their names.</summary>
    public IReadOnlyList<StudyTask> Tasks(string? agent) =>
        Spec.Tasks.Where(t => agent is null || t.Agent == agent).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    /// <summary>An optimizer's values over the tasks of agent (null: all), grouped by task: [t][r].</summary>
    public double[][] Values(OptimizerVariant optimizer, string? agent, Func<RunResult, double> value) =>
        Tasks(agent).Select(t => Cell(t, optimizer).Select(value).ToArray()).ToArray();

    /// <summary>The optimizer of a label.</summary>
    public OptimizerVariant Optimizer(string label) => Spec.Optimizers.First(o => o.Label == label);

    /// <summary>The baseline optimizer.</summary>
    public OptimizerVariant Baseline => Optimizer(Spec.Baseline);

    /// <summary>IQM, mean, median and optimality gap of every optimizer's scores over the tasks of agent (null: all).</summary>
    public IReadOnlyList<Aggregate> Aggregates(string? agent, Func<RunResult, double>? value = null) =>
        Spec.Optimizers.Select(o =>
        {
            var e = StratifiedBootstrap.Intervals(Values(o, agent, value ?? (r => r.Score)),
                s => [Stats.Iqm(s), Stats.Mean(s), Stats.Median(s), Stats.OptimalityGap(s)], Reps, Confidence, Seed);
            return new Aggregate(o.Label, e[0], e[1], e[2], e[3]);
        }).ToList();

    /// <summary>A two-sample statistic of optimizer x against y over the tasks of agent, with its interval.</summary>
    public Estimate Compare(OptimizerVariant x, OptimizerVariant y, string? agent, Func<RunResult, double> value,
                            Func<double[][], double[][], double> statistic) =>
        StratifiedBootstrap.Interval(Values(x, agent, value), Values(y, agent, value), statistic, Reps, Confidence, Seed);

    /// <summary>P(X &gt; baseline) of every other optimizer's scores over the tasks of agent (null: all).</summary>
    public IReadOnlyList<(string Optimizer, Estimate P)> ImprovementOverBaseline(string? agent) =>
        Spec.Optimizers.Where(o => o.Label != Spec.Baseline)
            .Select(o => (o.Label, Compare(o, Baseline, agent, r => r.Score, Stats.ProbabilityOfImprovement))).ToList();

    /// <summary>The performance profile of every optimizer's scores over all tasks at taus.</summary>
    public IReadOnlyList<(string Optimizer, PerformanceProfile Profile)> Profiles(double[] taus) =>
        Spec.Optimizers.Select(o => (o.Label, PerformanceProfile.Create(Values(o, null, r => r.Score), taus, Reps, Confidence, Seed))).ToList();

    /// <summary>
    /// Sample efficiency: at each window of the budget, the IQM over runs (the tasks of agent pooled, null: all) of the
    /// normalised training return, with a pointwise interval; the resamples draw whole runs (their curves), within
    /// each task.
    /// </summary>
    public Estimate[] Curve(OptimizerVariant optimizer, string? agent)
    {
        var cells = Tasks(agent).Select(t => Cell(t, optimizer)).ToArray();
        // Resample run indices (as doubles) and map them back to curves, so one resample moves whole runs.
        var index = cells.Select(c => Enumerable.Range(0, c.Count).Select(i => (double)i).ToArray()).ToArray();
        int windows = cells.SelectMany(c => c).Select(r => r.Curve.Length).Distinct().Single();
        double[] Statistic(double[][] ix)
        {
            var result = new double[windows];
            var pooled = new double[ix.Sum(x => x.Length)][];
            for (int w = 0; w < windows; w++)
            {
                int n = 0;
                for (int t = 0; t < ix.Length; t++)
                    foreach (double i in ix[t]) (pooled[n++] ??= new double[1])[0] = cells[t][(int)i].Curve[w];
                result[w] = Stats.Iqm(pooled);
            }
            return result;
        }
        return StratifiedBootstrap.Intervals(index, Statistic, Reps, Confidence, Seed);
    }

    /// <summary>
    /// The sweep of a family with one swept key: per swept value (ascending), the IQM of the scores over the tasks of
    /// agent (null: all) with its interval. Empty when the family sweeps no key or more than one.
    /// </summary>
    public IReadOnlyList<(double Value, Estimate Iqm)> Sweep(string family, string? agent)
    {
        var members = Spec.Optimizers.Where(o => o.Family == family && o.Swept.Count == 1).ToList();
        if (members.Count == 0 || members.Select(o => o.Swept.Keys.Single()).Distinct().Count() != 1) return [];
        return members.OrderBy(o => o.Swept.Values.Single())
            .Select(o => (o.Swept.Values.Single(), StratifiedBootstrap.Interval(Values(o, agent, r => r.Score), Stats.Iqm, Reps, Confidence, Seed)))
            .ToList();
    }

    /// <summary>The family that sweeps one key, and that key, or null (the first such family in spec order).</summary>
    public (string Family, string Key)? SweptFamily =>
        Spec.Optimizers.Where(o => o.Swept.Count == 1).Select(o => (o.Family, o.Swept.Keys.Single())).Cast<(string, string)?>().FirstOrDefault();

    /// <summary>The scores as the CSV `tiny stats` reads (algorithm = optimizer label, task = agent/env, run = seed);
    /// value picks the score (default the normalised greedy return; the AUC for the sample-efficiency table).</summary>
    public string ScoresCsv(Func<RunResult, double>? value = null)
    {
        var sb = new StringBuilder(Studies.ScoresCsv.Header).Append('\n');
        foreach (var o in Spec.Optimizers)
            foreach (var t in Spec.Tasks)
                foreach (var r in Cell(t, o))
                    sb.Append(o.Label).Append(',').Append(t.Name).Append(',').Append(r.Run.Seed.ToString(CultureInfo.InvariantCulture)).Append(',')
                      .Append((value ?? (x => x.Score))(r).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }
}
