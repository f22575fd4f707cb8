// `tiny inspect RUN [RUN...] [--out FILE.png]`: a run's internals.csv drawn as panels under its return curve, one
// column per run, so two optimizers on the same agent and seed compare panel by panel.
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;
using SkiaSharp;

namespace Tiny.Cli;

/// <summary>`tiny inspect RUN...`: the runs' return curves and recorded internals as one PNG.</summary>
internal static class InspectCommand
{
    /// <summary>The generic panels, in order, with their titles (update_norm and param_norm stay in the CSV: the ratio
    /// says what they say together).</summary>
    private static readonly (string Metric, string Title)[] GenericPanels =
    [
        ("grad_norm", "gradient norm ||g||"),
        ("update_ratio", "update / parameter ||Δp|| / ||p||"),
        ("update_cos", "cos(update, -gradient)"),
    ];

    /// <summary>Metrics left out of the panels: the ones the generic panels combine, and the bias corrections (1 - b^t,
    /// the same known curve for every tensor).</summary>
    private static readonly HashSet<string> NotDrawn = ["update_norm", "param_norm", "bias_correction1", "bias_correction2"];

    /// <summary>Titles of the optimizers' own metrics (a family name_p5/_p50/_p95 is one panel under name).</summary>
    private static readonly Dictionary<string, string> Titles = new()
    {
        ["saturated"] = "share of components with |tanh| > 0.9 (AlphaGrad)",
        ["tanh_arg_max"] = "largest tanh argument α·||g||∞/||g|| (AlphaGrad)",
        ["momentum_norm"] = "momentum buffer norm",
        ["step"] = "effective step lr/(√v̂+ε): median, 5% and 95% thin",
        ["clipped_lower"] = "share clipped at the lower bound (AdaBound)",
        ["clipped_upper"] = "share clipped at the upper bound (AdaBound)",
        ["lower_bound"] = "lower bound (AdaBound)",
        ["upper_bound"] = "upper bound (AdaBound)",
        ["sign_agree"] = "share of steps agreeing in sign with -g",
    };

    /// <summary>The titles of the optimizers' own metrics (`tiny optim page` describes them by these too).</summary>
    internal static IReadOnlyDictionary<string, string> MetricTitles => Titles;

    /// <summary>Pixels: a panel's data area and left axis, its legend's column, heights (a panel grows with its legend).</summary>
    private const int PlotWidth = 610, LegendWidth = 210, ReturnHeight = 280, PanelHeight = 240, TitleHeight = 40;

    /// <summary>The `inspect` command.</summary>
    internal static Command Build()
    {
        var runs = new Argument<string[]>("RUN") { Description = "run folders written by tiny train --internals", Arity = ArgumentArity.ZeroOrMore };
        var output = CliParsing.Value("--out", "FILE.png", "where to write the panels (default: RUN/internals.png for one run, internals.png here for several)", t => t);
        var inspect = new Command("inspect", "draw the internals a run recorded (tiny train ... --internals)") { runs, output };
        void Help(TextWriter w)
        {
            w.WriteLine("usage: tiny inspect RUN [RUN...] [--out FILE.png]");
            w.WriteLine("  draws each run's return curve and, under it, per tensor over training: gradient norm, update/parameter");
            w.WriteLine("  ratio, cos(update, -gradient) and the optimizer's own internals (from RUN/internals.csv, written by");
            w.WriteLine("  tiny train ... --internals); several runs side by side, one column each, the same scales per row");
            w.WriteLine(CliParsing.Row(output));
        }
        inspect.Options.Add(CliParsing.Help((_, w) => Help(w)));
        inspect.SetAction(r =>
        {
            var dirs = r.GetValue(runs) ?? [];
            if (dirs.Length == 0) { Help(r.InvocationConfiguration.Error); return Program.Error; }
            string file = r.GetValue(output) ?? (dirs.Length == 1 ? Path.Combine(dirs[0], "internals.png") : "internals.png");
            var loaded = dirs.Select(Load).ToList();
            Draw(loaded, file);
            r.InvocationConfiguration.Output.WriteLine($"wrote {file} ({loaded.Count} run{(loaded.Count > 1 ? "s" : "")}, {Rows(loaded).Count + 1} rows of panels)");
            return Program.Ok;
        });
        return inspect;
    }

    /// <summary>One run as drawn: its title, episodes (step, return) and internals (metric -> tensor -> points).</summary>
    private sealed record Run(string Title, List<(double Step, double Return)> Episodes, Dictionary<string, Dictionary<string, List<(double Step, double Value)>>> Metrics, List<string> Tensors);

    private static Run Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new CliError($"{dir}: no such run folder");
        string internals = Path.Combine(dir, InternalsLog.FileName);
        if (!File.Exists(internals))
            throw new CliError($"{dir}: no {InternalsLog.FileName} (train with --internals, e.g. tiny train dqn --env CartPole-v1 --internals)");
        var inv = CultureInfo.InvariantCulture;

        var metrics = new Dictionary<string, Dictionary<string, List<(double, double)>>>();
        var tensors = new List<string>();
        using (var reader = new StreamReader(internals))
        {
            if (reader.ReadLine() != "step,tensor,metric,value") throw new CliError($"{internals}: not an internals file (its header is not step,tensor,metric,value)");
            int line = 1;
            for (string? l; (l = reader.ReadLine()) is not null;)
            {
                line++;
                var f = l.Split(',');
                if (f.Length != 4 || !double.TryParse(f[0], NumberStyles.Float, inv, out double step) || !double.TryParse(f[3], NumberStyles.Float, inv, out double value))
                    throw new CliError($"{internals}:{line}: not step,tensor,metric,value: {l}");
                if (!metrics.TryGetValue(f[2], out var byTensor)) metrics[f[2]] = byTensor = [];
                if (!byTensor.TryGetValue(f[1], out var points)) { byTensor[f[1]] = points = []; if (!tensors.Contains(f[1])) tensors.Add(f[1]); }
                points.Add((step, value));
            }
        }

        var episodes = new List<(double, double)>();
        string metricsCsv = Path.Combine(dir, "metrics.csv");
        if (File.Exists(metricsCsv))
        {
            var lines = File.ReadAllLines(metricsCsv);
            var header = lines.Length > 0 ? lines[0].Split(',') : [];
            int s = Array.IndexOf(header, "global_step"), ret = Array.IndexOf(header, "episodic_return");
            if (s >= 0 && ret >= 0)
                foreach (var l in lines.Skip(1))
                {
                    var f = l.Split(',');
                    if (f.Length > Math.Max(s, ret) && double.TryParse(f[ret], NumberStyles.Float, inv, out double r) && double.TryParse(f[s], NumberStyles.Float, inv, out double x))
                        episodes.Add((x, r));
                }
        }

        string title = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
        try
        {
            if (JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))) is JsonObject cfg)
            {
                string? optimizer = cfg["optimizer"] is JsonObject o ? Rl.OptimizerSpec.FromJson(o).ToString() : cfg["optimizer"]?.ToString();
                title = $"{title}: {cfg["algorithm"]} on {cfg["envId"] ?? cfg["options"]?["envId"]}, {optimizer}";
            }
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException) { }
        return new Run(title, episodes, metrics, tensors);
    }

    /// <summary>The rows of internals panels over all runs: the generic ones, then each optimizer's own metrics in the
    /// order recorded (a percentile family name_p5/_p50/_p95 as one row under name).</summary>
    private static List<string> Rows(List<Run> runs)
    {
        var rows = GenericPanels.Select(g => g.Metric).Where(m => runs.Any(r => r.Metrics.ContainsKey(m))).ToList();
        foreach (var run in runs)
            foreach (var m in run.Metrics.Keys)
            {
                string row = Family(m) ?? m;
                if (!NotDrawn.Contains(m) && !rows.Contains(row) && !GenericPanels.Any(g => g.Metric == m)) rows.Add(row);
            }
        return rows;
    }

    /// <summary>name for name_p5, name_p50 or name_p95; null otherwise.</summary>
    private static string? Family(string metric)
    {
        foreach (var q in new[] { "_p50", "_p5", "_p95" })
            if (metric.EndsWith(q, StringComparison.Ordinal)) return metric[..^q.Length];
        return null;
    }

    /// <summary>Draws every run as a column (return curve on top, then a panel per row), the same x range for all and
    /// the same y range across each row, and writes the PNG (to a temporary name, then renamed).</summary>
    private static void Draw(List<Run> runs, string file)
    {
        var rows = Rows(runs);
        var tensors = runs.SelectMany(r => r.Tensors).Distinct().ToList();   // one colour per tensor name in every panel
        double xMax = runs.SelectMany(r => r.Episodes.Select(e => e.Step).Concat(r.Metrics.Values.SelectMany(t => t.Values.SelectMany(p => p.Select(q => q.Step))))).DefaultIfEmpty(1).Max();
        IPalette palette = tensors.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();   // a colour per tensor

        int legend = LegendWidth, panelWidth = PlotWidth + legend, panelHeight = Math.Max(PanelHeight, 90 + 22 * tensors.Count);
        var grid = new Plot[rows.Count + 1, runs.Count];
        for (int c = 0; c < runs.Count; c++)
        {
            var run = runs[c];
            var plt = grid[0, c] = NewPanel("episodic return (points) and mean of the last 20 episodes", legend);
            if (run.Episodes.Count > 0)
            {
                double[] xs = run.Episodes.Select(e => e.Step).ToArray(), ys = run.Episodes.Select(e => e.Return).ToArray();
                var raw = plt.Add.ScatterPoints(xs, ys);
                raw.MarkerSize = 2;
                raw.Color = Colors.Gray.WithAlpha(0.5);
                var mean = plt.Add.ScatterLine(xs, Rolling(ys, 20));
                mean.LineWidth = 2;
                mean.Color = Colors.Black;
            }
            else plt.Add.Annotation("no episodes in metrics.csv");

            for (int k = 0; k < rows.Count; k++)
            {
                string row = rows[k];
                string title = GenericPanels.FirstOrDefault(g => g.Metric == row).Title ?? Titles.GetValueOrDefault(row, row);
                var panel = grid[k + 1, c] = NewPanel(title, legend);
                bool family = !run.Metrics.ContainsKey(row) && run.Metrics.ContainsKey(row + "_p50");
                if (!run.Metrics.ContainsKey(row) && !family)
                {
                    panel.Add.Annotation($"{title}: not recorded by this run's optimizer", Alignment.MiddleCenter);   // a frameless panel shows no title
                    panel.Axes.Frameless();
                    panel.HideGrid();
                    continue;
                }
                bool log = LogScale(runs, row);
                foreach (var (q, lineWidth) in family ? new[] { ("_p50", 2f), ("_p5", 0.8f), ("_p95", 0.8f) } : [("", 2f)])
                    foreach (var (tensor, points) in run.Metrics[row + q])
                    {
                        var (xs, ys) = Series(points, log);
                        if (xs.Length == 0) continue;
                        var line = panel.Add.ScatterLine(xs, ys);
                        line.Color = palette.GetColor(tensors.IndexOf(tensor));
                        line.LineWidth = lineWidth;
                        if (q is "" or "_p50") line.LegendText = tensor;
                    }
                if (log) LogTicks(panel);
                panel.ShowLegend(Edge.Right);
            }
        }

        // The same x range everywhere, the same y range across a row (the data's, over all runs).
        for (int k = 0; k <= rows.Count; k++)
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int c = 0; c < runs.Count; c++)
            {
                grid[k, c].Axes.AutoScale();
                var l = grid[k, c].Axes.GetLimits();
                if (grid[k, c].GetPlottables().Any(p => p is ScottPlot.Plottables.Scatter)) { lo = Math.Min(lo, l.Bottom); hi = Math.Max(hi, l.Top); }
            }
            for (int c = 0; c < runs.Count; c++)
            {
                if (!grid[k, c].GetPlottables().Any(p => p is ScottPlot.Plottables.Scatter) && k > 0) continue;   // a blank panel
                grid[k, c].Axes.SetLimitsX(0, xMax);
                if (double.IsFinite(lo) && double.IsFinite(hi)) grid[k, c].Axes.SetLimitsY(lo, hi > lo ? hi : lo + 1);
            }
        }

        int width = panelWidth * runs.Count, height = TitleHeight + ReturnHeight + panelHeight * rows.Count;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 15);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int c = 0; c < runs.Count; c++)
        {
            canvas.DrawText(runs[c].Title + "   (x: env steps)", c * panelWidth + 12, 26, SKTextAlign.Left, font, paint);
            int y = TitleHeight;
            for (int k = 0; k <= rows.Count; k++)
            {
                int h = k == 0 ? ReturnHeight : panelHeight;
                var rect = new PixelRect(c * panelWidth, (c + 1) * panelWidth, y + h, y);
                canvas.Save();
                canvas.ClipRect(new SKRect(rect.Left, rect.Top, rect.Right, rect.Bottom));   // a plot clears what it may draw on
                grid[k, c].Render(canvas, rect);
                canvas.Restore();
                y += h;
            }
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(file)}.{Environment.ProcessId}.tmp");
        using (var f = File.Create(tmp)) png.SaveTo(f);
        File.Move(tmp, file, overwrite: true);
    }

    /// <summary>A panel with its title (x is env steps in every panel: the column's title says so), and room on the right for the tensors' legend (fixed margins, so
    /// the panels of a column line up).</summary>
    private static Plot NewPanel(string title, int legend)
    {
        var plt = new Plot();
        plt.Title(title, size: 13);
        plt.Layout.Fixed(new PixelPadding(70, legend, 28, 30));
        return plt;
    }

    /// <summary>Log scale when every value of the row is positive and they span more than a factor of 20.</summary>
    private static bool LogScale(List<Run> runs, string row)
    {
        var values = runs.SelectMany(r => r.Metrics.Where(kv => kv.Key == row || Family(kv.Key) == row))
                         .SelectMany(kv => kv.Value.Values.SelectMany(p => p.Select(q => q.Value))).Where(double.IsFinite).ToList();
        return values.Count > 0 && values.Min() > 0 && values.Max() / values.Min() > 20;
    }

    /// <summary>The points of one tensor as drawn: finite values only (log10 of them on a log panel), as a running mean
    /// over 2% of the records (at least 1), so a trend over training reads through the noise of single updates.</summary>
    private static (double[] X, double[] Y) Series(List<(double Step, double Value)> points, bool log)
    {
        var kept = points.Where(p => double.IsFinite(p.Value) && (!log || p.Value > 0)).ToList();
        double[] xs = kept.Select(p => p.Step).ToArray(), ys = kept.Select(p => log ? Math.Log10(p.Value) : p.Value).ToArray();
        return (xs, Rolling(ys, Math.Max(1, ys.Length / 50)));
    }

    /// <summary>The mean of each value and the window-1 before it.</summary>
    private static double[] Rolling(double[] ys, int window)
    {
        var r = new double[ys.Length];
        double acc = 0;
        for (int i = 0; i < ys.Length; i++)
        {
            acc += ys[i];
            if (i >= window) acc -= ys[i - window];
            r[i] = acc / Math.Min(i + 1, window);
        }
        return r;
    }

    /// <summary>Ticks of a panel drawn in log10: labelled 10^k, with minor ticks between decades.</summary>
    internal static void LogTicks(Plot plt)
    {
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("0.##E+0", CultureInfo.InvariantCulture),
        };
    }
}
