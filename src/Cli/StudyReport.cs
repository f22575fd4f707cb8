// StudyReport: a finished study's report: DIR/report.md (settings, aggregate intervals, performance profiles, P(X >
// baseline), sample efficiency, the sweep, diverged runs, the paper's claims) with its PNG figures, and the scores as
// CSV (scores.csv for `tiny stats`, auc.csv, runs.csv).
using System.Globalization;
using System.Text;
using ScottPlot;
using SkiaSharp;
using Tiny.Rl.Studies;

namespace Tiny.Cli;

internal static class StudyReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the report and its files into dir; sessionSeconds and runsHere describe this invocation.</summary>
    public static void Write(string dir, StudyAnalysis a, string command, double sessionSeconds, int runsHere)
    {
        var spec = a.Spec;
        StudyRunner.WriteAtomic(Path.Combine(dir, "scores.csv"), a.ScoresCsv());
        StudyRunner.WriteAtomic(Path.Combine(dir, "auc.csv"), a.ScoresCsv(r => r.Auc));
        StudyRunner.WriteAtomic(Path.Combine(dir, "runs.csv"), RunsCsv(a));

        var md = new StringBuilder();
        string pct = (100 * a.Confidence).ToString("0.##", Inv);
        md.AppendLine($"# Study: {spec.Name}").AppendLine();
        md.AppendLine("Reproduce (the numbers; wall times vary):").AppendLine("```").AppendLine(command).AppendLine("```");
        if (spec.Description.Length > 0) md.AppendLine(spec.Description + ".");
        md.AppendLine();
        int diverged = a.Results.Count(r => r.Diverged);
        md.AppendLine(F($"{a.Results.Count} runs: {N(spec.Tasks.Count, "task")} x {N(spec.Optimizers.Count, "optimizer")} x {N(spec.Seeds.Count, "seed")} ({string.Join(", ", spec.Seeds)}); {diverged} diverged."));
        int fewest = a.Results.GroupBy(r => (r.Run.Task.Name, r.Run.Optimizer.Label)).Min(g => g.Count());
        if (fewest < StudyClaims.MinRunsPerTask)
            md.AppendLine(F($"**Only {fewest} run{(fewest == 1 ? "" : "s")} per task and optimizer: the intervals below are too coarse to mean much (this study checks the pipeline, not the optimizers).**"));
        md.AppendLine(F($"A run's score is its mean greedy return over {spec.EvalEpisodes} episodes reset with seeds {spec.EvalSeed}..{spec.EvalSeed + spec.EvalEpisodes - 1} ",
                        $"(training resets with the run's seed plus its env index: disjoint), normalised per env: random policy 0, the reference return 1 (table below). ",
                        $"A diverged run has no finite weights, hence no policy: it scores 0, the random policy's score, and counts in every statistic ",
                        $"(dropping it would flatter an unstable optimizer). Every interval is a ",
                        $"{pct}% stratified-bootstrap percentile interval (runs resampled within each task, {a.Reps:N0} resamples, seed {a.Seed}); ",
                        $"intervals are per comparison, not simultaneous."));
        md.AppendLine(F($"Files: `scores.csv` (`tiny stats {Path.Combine(dir, "scores.csv")}` recomputes the aggregate table), `auc.csv` (areas under the learning curves), ",
                        $"`runs.csv` (every run), `runs/` (each run's folder: config.json, metrics.csv, model, eval.json), `logs/`.")).AppendLine();

        Settings(md, a, sessionSeconds, runsHere);

        // ---- Aggregates.
        var all = a.Aggregates(null);
        md.AppendLine("## Aggregate scores").AppendLine();
        md.AppendLine($"Over {(spec.Tasks.Count == 1 ? "the task" : $"all {spec.Tasks.Count} tasks")} (IQM: 25%-trimmed mean of all runs; mean and median of the per-task means; optimality gap: mean shortfall below 1).").AppendLine();
        md.AppendLine("![aggregate intervals](aggregates.png)").AppendLine();
        AggregateTable(md, all);
        foreach (var agent in a.Agents)
        {
            md.AppendLine().AppendLine($"{agent} ({string.Join(", ", a.Tasks(agent).Select(t => t.Env))}):").AppendLine();
            AggregateTable(md, a.Aggregates(agent));
        }
        md.AppendLine();
        Panels(Path.Combine(dir, "aggregates.png"), 2,
        [
            IntervalPanel("IQM", all.Select(x => (x.Optimizer, x.Iqm)).ToList()),
            IntervalPanel("mean", all.Select(x => (x.Optimizer, x.Mean)).ToList()),
            IntervalPanel("median", all.Select(x => (x.Optimizer, x.Median)).ToList()),
            IntervalPanel("optimality gap (lower is better)", all.Select(x => (x.Optimizer, x.OptimalityGap)).ToList()),
        ]);

        // ---- Performance profiles.
        double lo = Math.Min(0, a.Results.Min(r => r.Score)), hi = Math.Max(1, a.Results.Max(r => r.Score));
        var taus = PerformanceProfile.Linspace(lo, hi, 81);
        var profiles = a.Profiles(taus);
        md.AppendLine("## Performance profiles").AppendLine();
        md.AppendLine($"The fraction of runs (all tasks) scoring above τ, with {pct}% pointwise bands. A profile above another is better at every level.").AppendLine();
        md.AppendLine("![performance profiles](profiles.png)").AppendLine();
        ProfilePlot(Path.Combine(dir, "profiles.png"), profiles);

        // ---- Probability of improvement over the baseline.
        string b = spec.Baseline;
        var subsets = new List<string?> { null };
        subsets.AddRange(a.Agents);
        var poi = subsets.Select(s => (Subset: s, P: a.ImprovementOverBaseline(s))).ToList();
        md.AppendLine($"## Probability of improvement over {b}").AppendLine();
        md.AppendLine($"P(X > {b}): the probability that a run of X on a task scores above a run of {b} on the same task (Mann-Whitney U / nm, averaged over tasks); above 0.5: X tends to be better.").AppendLine();
        md.AppendLine("![probability of improvement](improvement.png)").AppendLine();
        md.AppendLine($"| optimizer | {string.Join(" | ", subsets.Select(s => s is null ? "all tasks" : s))} |");
        md.AppendLine($"|---|{string.Concat(subsets.Select(_ => "---|"))}");
        foreach (var o in spec.Optimizers.Where(o => o.Label != b))
            md.AppendLine($"| {o.Label} | {string.Join(" | ", poi.Select(p => StudyClaims.P(p.P.First(x => x.Optimizer == o.Label).P)))} |");
        md.AppendLine();
        Panels(Path.Combine(dir, "improvement.png"), Math.Min(2, poi.Count),
            poi.Select(p => IntervalPanel($"P(X > {b}), {(p.Subset is null ? "all tasks" : p.Subset)}", p.P.Select(x => (x.Optimizer, x.P)).ToList(), reference: 0.5,
                                          colorOrder: spec.Optimizers.Select(o => o.Label).ToList())).ToList());

        // ---- Sample efficiency.
        md.AppendLine("## Sample efficiency").AppendLine();
        md.AppendLine(F($"The IQM over runs of the normalised training return in each twentieth of the step budget, per agent (its tasks pooled), with {pct}% pointwise bands ",
                        $"(resamples draw whole runs within each task). These are the training policy's returns, with its exploration, not greedy evaluations; ",
                        $"from a divergence on, a run counts as the random policy (0). Area under the curve (the mean of the windows), aggregated:")).AppendLine();
        md.AppendLine("![sample efficiency](sample_efficiency.png)").AppendLine();
        AggregateTable(md, a.Aggregates(null, r => r.Auc), iqmOnly: true);
        md.AppendLine();
        Panels(Path.Combine(dir, "sample_efficiency.png"), Math.Min(2, a.Agents.Count),
            a.Agents.Select(agent => CurvePanel(agent, spec.Optimizers.Select(o => (o.Label, a.Curve(o, agent))).ToList())).ToList());

        // ---- The sweep.
        if (a.SweptFamily is var (family, key))
        {
            var sweeps = a.Agents.Select(agent => (Agent: agent, Points: a.Sweep(family, agent),
                Base: StratifiedBootstrap.Interval(a.Values(a.Baseline, agent, r => r.Score), Stats.Iqm, a.Reps, a.Confidence, a.Seed))).ToList();
            md.AppendLine($"## The {key} sweep of {family}").AppendLine();
            md.AppendLine($"IQM of the scores against {key}, per agent (its tasks pooled), with {pct}% bands; dashed: {b}'s IQM for the same agent.").AppendLine();
            md.AppendLine($"![{key} sweep]({key}_sweep.png)").AppendLine();
            md.AppendLine($"| {key} | {string.Join(" | ", sweeps.Select(s => s.Agent))} |");
            md.AppendLine($"|---|{string.Concat(sweeps.Select(_ => "---|"))}");
            foreach (var (value, i) in sweeps[0].Points.Select((p, i) => (p.Value, i)))
                md.AppendLine($"| {value.ToString("R", Inv)} | {string.Join(" | ", sweeps.Select(s => Cell(s.Points[i].Iqm, 2)))} |");
            md.AppendLine($"| {b} | {string.Join(" | ", sweeps.Select(s => Cell(s.Base, 2)))} |").AppendLine();
            SweepPlot(Path.Combine(dir, $"{key}_sweep.png"), family, key, b, sweeps);
        }

        // ---- Diverged runs.
        md.AppendLine("## Diverged runs").AppendLine();
        md.AppendLine("Runs stopped by a non-finite loss, parameter or return (exit 3 of tiny train), per task and optimizer, out of the seeds.").AppendLine();
        md.AppendLine($"| task | {string.Join(" | ", spec.Optimizers.Select(o => o.Label))} |");
        md.AppendLine($"|---|{string.Concat(spec.Optimizers.Select(_ => "---|"))}");
        foreach (var t in spec.Tasks)
            md.AppendLine($"| {t.Name} | {string.Join(" | ", spec.Optimizers.Select(o => { int d = a.Cell(t, o).Count(r => r.Diverged); return d == 0 ? "0" : $"**{d}**/{a.Cell(t, o).Count}"; }))} |");
        md.AppendLine();

        // ---- The paper's claims.
        Claims(md, a, pct);
        StudyRunner.WriteAtomic(Path.Combine(dir, "report.md"), md.ToString());
    }

    private static void Settings(StringBuilder md, StudyAnalysis a, double sessionSeconds, int runsHere)
    {
        var spec = a.Spec;
        md.AppendLine("## Settings").AppendLine();
        md.AppendLine("| task | steps | agent options (over the agent's defaults for the env) | checkpoint every | median training wall per run |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var t in spec.Tasks)
        {
            var walls = spec.Optimizers.SelectMany(o => a.Cell(t, o)).Select(r => r.WallSeconds).Order().ToList();
            md.AppendLine(F($"| {t.Name} | {t.TotalSteps:N0} | {(t.Options.Count == 0 ? "defaults" : $"`{t.Options.ToJsonString()}`")} | {t.CheckpointEvery:N0} | {walls[walls.Count / 2]:F1} s |"));
        }
        md.AppendLine().AppendLine("| optimizer | spec | agent options it changes |").AppendLine("|---|---|---|");
        foreach (var o in spec.Optimizers)
            md.AppendLine($"| {o.Label} | {(o.Spec is null ? "the agent's default (Adam: CleanRL's settings; lr: the agent's)" : $"`{o.Spec}`" + (o.Spec.Lr is null ? " (lr: the agent's)" : ""))} | " +
                          $"{(o.AgentOptions.Count == 0 ? "" : string.Join("; ", o.AgentOptions.Select(kv => $"{kv.Key}: `{kv.Value.ToJsonString()}`")))} |");
        md.AppendLine().AppendLine("Normalisation (random: the uniform random policy's mean return over 1,000 episodes, seed 0, `EnvScores.MeasureRandom`):").AppendLine();
        md.AppendLine("| env | random (0) | reference (1) | reference source |").AppendLine("|---|---|---|---|");
        foreach (var env in spec.Tasks.Select(t => t.Env).Distinct()) md.AppendLine(EnvScores.MarkdownRow(EnvScores.For(env)));
        double trainSum = a.Results.Sum(r => r.WallSeconds);
        md.AppendLine().AppendLine(F($"Wall time: this invocation {StudyRunner.Duration(sessionSeconds)} ({runsHere} runs trained or evaluated in it); ",
                                     $"the runs' training time adds up to {StudyRunner.Duration(trainSum)} on one core each (on {Environment.ProcessorCount} cores here).")).AppendLine();
    }

    private static void Claims(StringBuilder md, StudyAnalysis a, string pct)
    {
        string b = a.Spec.Baseline;
        md.AppendLine("## The paper's claims").AppendLine();
        md.AppendLine($"Each claim of the AlphaGrad paper (Sane 2025) tested on this study's runs: the verdict follows from the {pct}% intervals by the rule stated, " +
                      "computed, not written by hand. The intervals are per comparison: over many α, one may exclude its true value by chance. " +
                      "The runs are short budgets on small envs (Settings): a verdict holds for these settings, not for the paper's.").AppendLine();
        foreach (var c in StudyClaims.Evaluate(a))
        {
            md.AppendLine($"### \"{c.Statement}\": {c.Verdict}").AppendLine();
            md.AppendLine(c.Summary).AppendLine();
            md.AppendLine($"Rule: {c.Rule}.").AppendLine();
            if (c.Comparisons.Count == 0) continue;
            md.AppendLine($"| α | P(X > {b}) | IQM difference | diverged (X / {b}) | drop-from-peak difference |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var x in c.Comparisons)
                md.AppendLine($"| {x.Value.ToString("R", Inv)} | {StudyClaims.P(x.Improvement)} | {StudyClaims.E(x.IqmDifference)} | {x.Diverged}/{x.Runs} / {x.BaselineDiverged}/{x.Runs} | {StudyClaims.E(x.DropDifference)} |");
            md.AppendLine();
        }
    }

    private static string RunsCsv(StudyAnalysis a)
    {
        var sb = new StringBuilder("run,agent,env,optimizer,seed,status,eval_return,score,auc,drop,diverged_at,train_wall_s\n");
        foreach (var r in a.Results)
            sb.Append(F($"{r.Run.Id},{r.Run.Task.Agent},{r.Run.Task.Env},{r.Run.Optimizer.Label},{r.Run.Seed},{(r.Diverged ? "diverged" : "finished")},") +
                      F($"{(r.EvalReturn is double e ? e.ToString("R", Inv) : "")},{r.Score.ToString("R", Inv)},{r.Auc.ToString("R", Inv)},{r.Drop.ToString("R", Inv)},") +
                      F($"{r.DivergedAt?.ToString(Inv) ?? ""},{r.WallSeconds.ToString("F1", Inv)}\n"));
        return sb.ToString();
    }

    private static void AggregateTable(StringBuilder md, IReadOnlyList<Aggregate> rows, bool iqmOnly = false)
    {
        if (iqmOnly)
        {
            md.AppendLine("| optimizer | IQM | mean |").AppendLine("|---|---|---|");
            foreach (var r in rows) md.AppendLine($"| {r.Optimizer} | {Cell(r.Iqm, 3)} | {Cell(r.Mean, 3)} |");
            return;
        }
        md.AppendLine("| optimizer | IQM | mean | median | optimality gap |").AppendLine("|---|---|---|---|---|");
        foreach (var r in rows) md.AppendLine($"| {r.Optimizer} | {Cell(r.Iqm, 3)} | {Cell(r.Mean, 3)} | {Cell(r.Median, 3)} | {Cell(r.OptimalityGap, 3)} |");
    }

    private static string Cell(Estimate e, int decimals)
    {
        string f(double v) => v.ToString("F" + decimals, Inv);
        return $"{f(e.Value)} [{f(e.Lo)}, {f(e.Hi)}]";
    }

    private static string N(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    private static string F(params FormattableString[] parts) => string.Concat(parts.Select(p => p.ToString(Inv)));

    // ---- Figures (ScottPlot 5).

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    private static Color ColorOf(int i) => Palette.GetColor(i % 10);

    /// <summary>One interval per optimizer as a horizontal bar from lo to hi with a dot at the value, top to bottom in
    /// spec order (rliable's plot_interval_estimates); reference draws a dashed vertical line (0.5 for P(X &gt; Y)).</summary>
    private static Plot IntervalPanel(string title, IReadOnlyList<(string Label, Estimate E)> rows, double? reference = null, IReadOnlyList<string>? colorOrder = null)
    {
        var plt = new Plot();
        int n = rows.Count;
        for (int i = 0; i < n; i++)
        {
            double y = n - 1 - i;
            var (label, e) = rows[i];
            int c = colorOrder is null ? i : Math.Max(0, colorOrder.ToList().IndexOf(label));   // an optimizer keeps its colour across figures
            var bar = plt.Add.Line(e.Lo, y, e.Hi, y);
            bar.LineWidth = 8;
            bar.Color = ColorOf(c).WithAlpha(0.45);
            bar.MarkerSize = 0;
            plt.Add.Marker(e.Value, y, MarkerShape.FilledCircle, 9, ColorOf(c));
        }
        if (reference is double r)
        {
            var v = plt.Add.VerticalLine(r);
            v.LinePattern = LinePattern.Dashed;
            v.Color = Colors.Gray;
        }
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), rows.Select(x => x.Label).ToArray());
        plt.Axes.SetLimitsY(-0.7, n - 0.3);
        plt.Title(title);
        return plt;
    }

    private static void ProfilePlot(string path, IReadOnlyList<(string Optimizer, PerformanceProfile Profile)> profiles)
    {
        var plt = new Plot();
        for (int i = 0; i < profiles.Count; i++)
        {
            var (label, p) = profiles[i];
            var band = plt.Add.FillY(p.Taus, p.Lo, p.Hi);
            band.FillColor = ColorOf(i).WithAlpha(0.15);
            band.LineWidth = 0;
            var line = plt.Add.Scatter(p.Taus, p.Values, ColorOf(i));
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = label;
        }
        plt.Title("performance profiles (all tasks)");
        plt.XLabel("normalised score τ");
        plt.YLabel("fraction of runs with score > τ");
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(path, 900, 560);
    }

    private static Plot CurvePanel(string agent, IReadOnlyList<(string Label, Estimate[] Curve)> curves)
    {
        var plt = new Plot();
        for (int i = 0; i < curves.Count; i++)
        {
            var (label, c) = curves[i];
            double[] x = Enumerable.Range(0, c.Length).Select(k => (k + 1.0) / c.Length).ToArray();
            var band = plt.Add.FillY(x, c.Select(e => e.Lo).ToArray(), c.Select(e => e.Hi).ToArray());
            band.FillColor = ColorOf(i).WithAlpha(0.12);
            band.LineWidth = 0;
            var line = plt.Add.Scatter(x, c.Select(e => e.Value).ToArray(), ColorOf(i));
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = label;
        }
        plt.Title($"{agent}: IQM of normalised training return");
        plt.XLabel("fraction of the step budget");
        plt.YLabel("IQM normalised return");
        plt.ShowLegend(Alignment.UpperLeft);
        return plt;
    }

    private static void SweepPlot(string path, string family, string key, string baseline,
                                  IReadOnlyList<(string Agent, IReadOnlyList<(double Value, Estimate Iqm)> Points, Estimate Base)> sweeps)
    {
        var plt = new Plot();
        var values = sweeps[0].Points.Select(p => p.Value).ToArray();
        bool log = values.All(v => v > 0) && values.Max() / values.Min() >= 10;
        double X(double v) => log ? Math.Log2(v) : v;
        for (int i = 0; i < sweeps.Count; i++)
        {
            var (agent, points, b) = sweeps[i];
            double[] x = points.Select(p => X(p.Value)).ToArray();
            var band = plt.Add.FillY(x, points.Select(p => p.Iqm.Lo).ToArray(), points.Select(p => p.Iqm.Hi).ToArray());
            band.FillColor = ColorOf(i).WithAlpha(0.15);
            band.LineWidth = 0;
            var line = plt.Add.Scatter(x, points.Select(p => p.Iqm.Value).ToArray(), ColorOf(i));
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = $"{agent}: {family}";
            var h = plt.Add.HorizontalLine(b.Value, 1.5f, ColorOf(i), LinePattern.Dashed);
            h.LegendText = $"{agent}: {baseline}";
        }
        if (log)
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(values.Select(X).ToArray(), values.Select(v => v.ToString("R", Inv)).ToArray());
        plt.Title($"{family}: IQM of normalised score against {key}");
        plt.XLabel(log ? $"{key} (log scale)" : key);
        plt.YLabel("IQM normalised score");
        plt.ShowLegend(Alignment.UpperLeft);
        plt.SavePng(path, 900, 560);
    }

    /// <summary>Plots side by side, columns per row, as one PNG.</summary>
    private static void Panels(string path, int columns, IReadOnlyList<Plot> plots, int width = 620, int height = 420)
    {
        int rows = (plots.Count + columns - 1) / columns;
        using var surface = SKSurface.Create(new SKImageInfo(columns * width, rows * height));
        surface.Canvas.Clear(SKColors.White);
        for (int i = 0; i < plots.Count; i++)
        {
            using var bitmap = SKBitmap.Decode(plots[i].GetImageBytes(width, height, ImageFormat.Png));
            surface.Canvas.DrawBitmap(bitmap, i % columns * width, i / columns * height);
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        string tmp = path + $".tmp-{Environment.ProcessId}";
        using (var f = File.Create(tmp)) data.SaveTo(f);
        File.Move(tmp, path, overwrite: true);
    }
}
