// `tiny optim page`: one self-contained HTML page (inline script, no network) with every optimizer's path over the
// function's contour, a step slider showing each optimizer's recorded internals and state at that step, and a grid of
// settings; every number comes from the C# optimizers and InternalsRecorder, embedded as JSON.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tiny.Optim;

namespace Tiny.Cli;

/// <summary>Computes the page's runs (every optimizer in every setting of the sweep grid, with its internals and state
/// step by step) and writes them into the page template.</summary>
internal static class OptimPage
{
    /// <summary>The start when --start is not given: the golden data's start for each function.</summary>
    internal static readonly IReadOnlyDictionary<string, double[]> Starts = new Dictionary<string, double[]>
    {
        ["rosenbrock"] = [-1.2, 1], ["beale"] = [1, 1.5], ["himmelblau"] = [0.5, -1], ["quadratic"] = [3, -2],
    };

    /// <summary>Steps when --steps is not given.</summary>
    internal const int DefaultSteps = 200;

    /// <summary>The most settings (the product of the sweeps' sizes), and of settings x optimizers x steps: the page
    /// carries about 20 numbers per optimizer step, so this bounds it to a few MB.</summary>
    internal const int MaxSettings = 36, MaxWork = 100_000;

    /// <summary>Heatmap cells per side.</summary>
    private const int HeatCells = 150;

    /// <summary>One swept option: its key, the optimizer it is limited to (null: every optimizer that takes the key)
    /// and its values as text: a number, or a factor of each optimizer's own value ("2x").</summary>
    internal sealed record Sweep(string? Optimizer, string Key, string[] Values)
    {
        /// <summary>"lr=0.5x,1x,2x" or "alphagrad:alpha=1,2,8".</summary>
        public override string ToString() => $"{(Optimizer is null ? "" : Optimizer + ":")}{Key}={string.Join(",", Values)}";
    }

    /// <summary>Parses --sweep [NAME:]KEY=V1,V2,... (one line, exit 2, for a malformed one).</summary>
    internal static Sweep ParseSweep(string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0) throw new CliError($"--sweep: expected [NAME:]KEY=V1,V2,..., got '{text}'");
        string head = text[..eq];
        int colon = head.IndexOf(':');
        string? name = colon < 0 ? null : head[..colon].Trim().ToLowerInvariant();
        if (name is not null && !Optimizers.Names.Contains(name))
            throw new CliError($"--sweep {text}: unknown optimizer '{name}'; known: {string.Join(", ", Optimizers.Names)}");
        string key = Optimizers.NormalizeKey(colon < 0 ? head : head[(colon + 1)..]);
        var values = text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries);
        if (key.Length == 0 || values.Any(v => v.Length == 0)) throw new CliError($"--sweep: expected [NAME:]KEY=V1,V2,..., got '{text}'");
        if (values.Length > 8) throw new CliError($"--sweep {text}: at most 8 values");
        return new(name, key, values);
    }

    /// <summary>The default grid: lr at half, once and twice each optimizer's own; and AlphaGrad's alpha likewise when
    /// an AlphaGrad is on the page.</summary>
    internal static List<Sweep> DefaultSweeps(IEnumerable<string> names)
    {
        var sweeps = new List<Sweep> { new(null, "lr", ["0.5x", "1x", "2x"]) };
        if (names.Contains("alphagrad")) sweeps.Add(new("alphagrad", "alpha", ["0.5x", "1x", "2x"]));
        return sweeps;
    }

    /// <summary>An optimizer's options in one setting: the sweeps that apply to it set their key (a factor "2x"
    /// multiplies its own value, given or default).</summary>
    internal static Dictionary<string, string> Apply(string name, IReadOnlyDictionary<string, string> options, IReadOnlyList<Sweep> sweeps, int[] choice)
    {
        var o = new Dictionary<string, string>(options);
        for (int s = 0; s < sweeps.Count; s++)
        {
            var sw = sweeps[s];
            if (sw.Optimizer is { } only && only != name || Optimizers.Info(name).Find(sw.Key) is not { } info) continue;
            string v = sw.Values[choice[s]];
            if (v.EndsWith('x') && double.TryParse(v[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double factor))
            {
                if (info.Type != typeof(double)) throw new CliError($"--sweep {sw}: {name}'s {sw.Key} is not a real number, so '{v}' cannot scale it");
                double own = Convert.ToDouble(Optimizers.Get(Optimizers.Options(name, options), sw.Key), CultureInfo.InvariantCulture);
                v = Optimizers.Format(own * factor);
            }
            o[sw.Key] = v;
        }
        return o;
    }

    /// <summary>"name:key=value,..." with the options in the registry's spelling.</summary>
    internal static string Spec(string name, IReadOnlyDictionary<string, string> options) =>
        options.Count == 0 ? name : name + ":" + string.Join(",", options.Select(kv => $"{Optimizers.NormalizeKey(kv.Key)}={kv.Value}"));

    /// <summary>Everything one optimizer did in one setting. Index k of X, Y, Loss is x_k (k = 0..N); index k-1 of the
    /// rest is the k-th step: the gradient it read (at x_(k-1)), the recorder's metrics of it and the optimizer's state
    /// after it (buffers, scalars, step count).</summary>
    internal sealed class Run
    {
        /// <summary>The optimizer as run ("adam:lr=0.025").</summary>
        public required string Spec { get; init; }
        /// <summary>x0 at each step.</summary>
        public required double[] X { get; init; }
        /// <summary>x1 at each step.</summary>
        public required double[] Y { get; init; }
        /// <summary>f(x_k).</summary>
        public required double[] Loss { get; init; }
        /// <summary>The first step whose point left the finite plane (<see cref="OptimPlot.Diverged"/>), or null.</summary>
        public int? Diverged { get; init; }
        /// <summary>The gradient each step read.</summary>
        public required double[][] Grad { get; init; }
        /// <summary>Each step's update Δx = x_k - x_(k-1) (from the unrounded points).</summary>
        public required double[][] Update { get; init; }
        /// <summary>-Δx_i / g_i per coordinate: the learning rate each step amounted to (NaN where g_i is 0).</summary>
        public required double[][] LrEff { get; init; }
        /// <summary>The recorder's metrics (InternalsRecorder, every = 1): name -> value per step.</summary>
        public required Dictionary<string, double[]> Metrics { get; init; }
        /// <summary>The optimizer's state buffers after each step: name -> values per step (null before it exists).</summary>
        public required Dictionary<string, double[]?[]> Buffers { get; init; }
        /// <summary>The parameter's state scalars and its group's ("group." in front): name -> value per step.</summary>
        public required Dictionary<string, double[]> Scalars { get; init; }
        /// <summary>The state's step count after each step.</summary>
        public required long[] StateStep { get; init; }
    }

    /// <summary>Runs one optimizer with a recorder on every update and reads its state after each step.</summary>
    internal static Run Record(string name, IReadOnlyDictionary<string, string> options, string function, double[] start, int steps, bool f32)
    {
        var grad = new double[steps][];
        var metrics = new Dictionary<string, double[]>();
        var buffers = new Dictionary<string, double[]?[]>();
        var scalars = new Dictionary<string, double[]>();
        var stateStep = new long[steps];
        int k = 0;
        double[] Series(Dictionary<string, double[]> d, string key) =>
            d.TryGetValue(key, out var a) ? a : d[key] = Enumerable.Repeat(double.NaN, steps).ToArray();
        var rows = OptimCommand.Trajectory(name, options, function, start, steps, f32, (opt, p) =>
        {
            // The recorder's clock is the update's number (1, 2, ...): row.Step - 1 is the step's index.
            _ = new InternalsRecorder(opt, every: 1, names: [new("x", p)], sink: row => Series(metrics, row.Metric)[row.Step - 1] = R(row.Value));
            return () =>
            {
                grad[k] = p.Grad!.ToDoubleArray();
                if (opt.StateOf(p) is { } state)
                {
                    foreach (var (b, t) in state.Buffers)
                        (buffers.TryGetValue(b, out var a) ? a : buffers[b] = new double[]?[steps])[k] = t.ToDoubleArray().Select(R).ToArray();
                    foreach (var (s, v) in state.Scalars) Series(scalars, s)[k] = R(v);
                    stateStep[k] = state.Step;
                }
                foreach (var (s, v) in opt.ParamGroups[0].Scalars) Series(scalars, "group." + s)[k] = R(v);
                k++;
            };
        });
        double[] x = rows.Select(r => R(r.X0)).ToArray(), y = rows.Select(r => R(r.X1)).ToArray();
        var update = Enumerable.Range(1, steps).Select(j => new[] { rows[j].X0 - rows[j - 1].X0, rows[j].X1 - rows[j - 1].X1 }).ToArray();
        return new Run
        {
            Spec = Spec(name, options), X = x, Y = y, Loss = rows.Select(r => R(r.Loss)).ToArray(), Diverged = OptimPlot.Diverged(x, y),
            Grad = grad.Select(g => g.Select(R).ToArray()).ToArray(), Update = update.Select(u => u.Select(R).ToArray()).ToArray(),
            LrEff = update.Select((u, j) => u.Select((d, i) => grad[j][i] == 0 ? double.NaN : R(-d / grad[j][i])).ToArray()).ToArray(),
            Metrics = metrics, Buffers = buffers, Scalars = scalars, StateStep = stateStep,
        };
    }

    /// <summary>v to 7 significant digits (what the page shows is 4; the paths stay exact to the pixel).</summary>
    private static double R(double v) => double.IsFinite(v) ? double.Parse(v.ToString("G7", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : v;

    /// <summary>The page's numbers, serialised as its JSON.</summary>
    internal sealed record Model(
        string Function, double[] Start, int Steps, string Dtype, double[] Minimum, double[] View, int HeatCells, double[] Heat,
        string[] Palette, string[] Colors, bool[] Dashed, string[] Optimizers, List<Sweep> Sweeps, int Initial,
        List<Setting> Settings, Dictionary<string, string> Descriptions);

    /// <summary>One setting of the grid: the value chosen of each sweep, and every optimizer's run.</summary>
    internal sealed record Setting(int[] Choice, List<Run> Runs);

    /// <summary>Runs every optimizer in every setting and returns the page's model.</summary>
    internal static Model Build(string function, double[] start, int steps, bool f32,
                                List<(string Spec, string Name, Dictionary<string, string> Options)> optimizers, List<Sweep> sweeps)
    {
        foreach (var sw in sweeps)
        {
            if (sw.Optimizer is { } only && !optimizers.Any(o => o.Name == only))
                throw new CliError($"--sweep {sw}: no {only} on the page (--optimizer {only})");
            if (!optimizers.Any(o => (sw.Optimizer is null || sw.Optimizer == o.Name) && Optimizers.Info(o.Name).Find(sw.Key) is not null))
                throw new CliError($"--sweep {sw}: " + (sw.Optimizer is { } name ? $"{name} takes no option '{sw.Key}'"
                    : $"none of {string.Join(", ", optimizers.Select(o => o.Name).Distinct())} takes an option '{sw.Key}'"));
            if (sweeps.Count(s => s.Key == sw.Key && s.Optimizer == sw.Optimizer) > 1) throw new CliError($"--sweep: {sw.Key} is swept twice");
        }
        int settings = sweeps.Aggregate(1, (n, s) => n * s.Values.Length);
        if (settings > MaxSettings) throw new CliError($"--sweep: {settings} settings; at most {MaxSettings} fit on one page");
        long work = (long)settings * optimizers.Count * steps;
        if (work > MaxWork)
            throw new CliError($"{settings} settings x {optimizers.Count} optimizers x {steps} steps = {work} optimizer steps; at most {MaxWork} fit on one page (fewer --steps or sweep values)");

        var list = new List<Setting>();
        for (int i = 0; i < settings; i++)
        {
            var choice = new int[sweeps.Count];   // mixed radix, the first sweep most significant
            for (int s = sweeps.Count - 1, rest = i; s >= 0; rest /= sweeps[s].Values.Length, s--) choice[s] = rest % sweeps[s].Values.Length;
            list.Add(new(choice, optimizers.Select(o => Record(o.Name, Apply(o.Name, o.Options, sweeps, choice), function, start, steps, f32)).ToList()));
        }

        // The page opens on each sweep's "1x" (else its middle value).
        int initial = sweeps.Aggregate(0, (i, s) => i * s.Values.Length + (Array.IndexOf(s.Values, "1x") is int j and >= 0 ? j : s.Values.Length / 2));
        var all = list.SelectMany(s => s.Runs).Select(r => r.Diverged is int d ? (r.X[..Math.Max(d, 1)], r.Y[..Math.Max(d, 1)]) : (r.X, r.Y));
        var view = OptimPlot.ViewOf(function, all, start[0], start[1]);
        var z = OptimPlot.LogLoss(function, view, HeatCells);
        var viridis = new ScottPlot.Colormaps.Viridis();
        var (mx, my) = TestFunctions.Minimum(function);
        return new Model(
            function, start, steps, f32 ? "float32" : "float64", [mx, my], [view.X0, view.X1, view.Y0, view.Y1],
            HeatCells, z.Cast<double>().Select(v => Math.Round(v, 3)).ToArray(),
            Enumerable.Range(0, 64).Select(i => Hex(viridis.GetColor(i / 63.0))).ToArray(),
            optimizers.Select((_, i) => Hex(OptimPlot.Style(i).Color)).ToArray(),
            optimizers.Select((_, i) => !OptimPlot.Style(i).Pattern.Equals(ScottPlot.LinePattern.Solid)).ToArray(),
            optimizers.Select(o => o.Spec).ToArray(), sweeps, initial, list, Descriptions);
    }

    private static string Hex(ScottPlot.Color c) => $"#{c.R:x2}{c.G:x2}{c.B:x2}";

    /// <summary>What the page says each row of its internals table is (the recorder's generic metrics, the rows the
    /// page adds, and the optimizer metrics tiny inspect titles); any other metric is shown by its name.</summary>
    private static readonly Dictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["grad_norm"] = "||g||, the gradient the step read (at the previous point)",
        ["update_norm"] = "||Δx||, the step taken",
        ["param_norm"] = "||x|| after the step",
        ["update_ratio"] = "||Δx|| / ||x||",
        ["update_cos"] = "cos(Δx, -g): 1 is plain gradient descent",
        [".grad"] = "g: the gradient the step read, at the previous point",
        [".update"] = "Δx = x_k - x_(k-1)",
        [".lr_eff"] = "-Δx_i / g_i per coordinate: the learning rate the step amounted to",
    }.Concat(InspectCommand.MetricTitles).DistinctBy(kv => kv.Key).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Fails early (one line) when --out cannot be the page: its folder does not exist or it is a folder.</summary>
    internal static void CheckOut(string path)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new CliError($"--out {path}: no folder {dir}");
        if (Directory.Exists(path)) throw new CliError($"--out {path}: is a folder");
    }

    /// <summary>Serialises the model into the page template (the JSON escapes &lt; &gt; &amp;, so it cannot close its
    /// script element) and writes the page through a temporary file and a rename.</summary>
    internal static void Write(string path, Model model)
    {
        var json = JsonSerializer.Serialize(model, JsonOptions);
        using var stream = typeof(OptimPage).Assembly.GetManifestResourceStream("Tiny.Cli.OptimPage.html")
                           ?? throw new InvalidOperationException("the page template is missing from the assembly");
        string html = new StreamReader(stream).ReadToEnd().Replace("/*DATA*/{}", json, StringComparison.Ordinal);
        CheckOut(path);
        string tmp = path + $".tmp-{Environment.ProcessId}";
        try
        {
            File.WriteAllText(tmp, html);
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(tmp);
            throw new CliError($"--out {path}: cannot write it ({(e is UnauthorizedAccessException ? "permission denied" : e.Message.Replace(tmp, path))})");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,   // NaN and ±Infinity as strings; the page reads them back
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
