// `tiny optim run|plot|page`: an optimizer playground on the 2-D test functions (CSV trajectories, PNG paths and
// curves, an interactive HTML page of paths and internals).
using System.CommandLine;
using System.Globalization;
using Tiny.Optim;

namespace Tiny.Cli;

/// <summary>`tiny optim run|plot|page`: the optimizer playground on the 2-D test functions.</summary>
public static class OptimCommand
{
    /// <summary>Runs `tiny optim args...` (the arguments after "optim") in-process; 0, or 2 with one line on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Program.Run(["optim", .. args], stdout, stderr);

    /// <summary>The options of `tiny optim run`, `plot` and `page`, each created once (the commands share them): the
    /// parser reads them and the usage lists them.</summary>
    private sealed class Flags
    {
        public readonly Option<string[]> Optimizer = CliParsing.Repeated("--optimizer", "SPEC", "NAME[:key=value,...], e.g. adam:lr=0.1,amsgrad (run: once; plot, page: once per path)");
        public readonly Option<string> Function = CliParsing.Value("--function", "FN", "the 2-D function: " + string.Join(", ", TestFunctions.Names),
            t => TestFunctions.Names.Contains(t) ? t : throw new CliError($"unknown function '{t}' (known: {string.Join(", ", TestFunctions.Names)})"));
        public readonly Option<double[]> Start = CliParsing.Value("--start", "X,Y", "the starting point (page: default the golden data's, e.g. -1.2,1 on rosenbrock)", t =>
            t.Split(',') is { Length: 2 } xy ? xy.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x
                                                                : throw new CliError($"--start: '{v}' is not a number")).ToArray()
                : throw new CliError($"--start: expected X,Y, got '{t}'"));
        public readonly Option<int?> Steps = CliParsing.Value<int?>("--steps", "N", $"optimizer steps (page: default {OptimPage.DefaultSteps})", t =>
            int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new CliError($"--steps: '{t}' is not a non-negative integer"));
        public readonly Option<string> Dtype = CliParsing.Value("--dtype", "float32|float64", "the parameters' type",
            t => t is "float32" or "float64" ? t : throw new CliError($"--dtype: '{t}' is not float32 or float64"));
        public readonly Option<string> Out = CliParsing.Value("--out", "FILE", "run: the CSV file (default: stdout); plot: the PNG file; page: the HTML file (required)", t => t);
        public readonly Option<string[]> Sweep = CliParsing.Repeated("--sweep", "[NAME:]KEY=V,V,...",
            "page: a grid axis, e.g. lr=0.5x,1x,2x (Nx: N times each optimizer's own) or alphagrad:alpha=1,2,8 (only that optimizer); " +
            "default lr=0.5x,1x,2x and, with an alphagrad, alphagrad:alpha=0.5x,1x,2x");
        public readonly Option<int> Width = Pixels("--width", 1500), Height = Pixels("--height", 760);
        public readonly Option<string> Lookahead = LookaheadOption.Create();
        public readonly OptimizerFlags OptimizerFlags;

        public Flags()
        {
            Dtype.DefaultValueFactory = _ => "float64";
            OptimizerFlags = new OptimizerFlags(Own.SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet());
        }

        /// <summary>The command's own options (the optimizer flags aside), in the usage's order.</summary>
        public IEnumerable<Option> Own => [Optimizer, Function, Start, Steps, Dtype, Out, Width, Height, Sweep, Lookahead];

        /// <summary>The command's own options that a subcommand takes: the image size is plot's, the sweep page's.</summary>
        public IEnumerable<Option> Of(string command) =>
            Own.Where(o => (o != Width && o != Height || command == "plot") && (o != Sweep || command == "page"));

        /// <summary>An image size flag: an integer from 100 to 8000 pixels.</summary>
        private static Option<int> Pixels(string flag, int fallback)
        {
            var o = CliParsing.Value(flag, "PIXELS", "plot: the image's " + flag[2..], t =>
                int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 100 and <= 8000 ? v
                    : throw new CliError($"{flag}: '{t}' is not a size from 100 to 8000 pixels"));
            o.DefaultValueFactory = _ => fallback;
            return o;
        }
    }
    /// <summary>The usage: the commands, their options, then every registered optimizer with its flags and defaults.</summary>
    public static string Usage => UsageOf(new Flags());

    private static string UsageOf(Flags f)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("usage: tiny optim run --optimizer SPEC --function FN --start X,Y --steps N [--dtype float32|float64] [--out FILE.csv] [--OPTION VALUE ...]\n");
        sb.Append("       tiny optim plot --function FN --start X,Y --steps N --optimizer SPEC [--optimizer SPEC ...] --out FILE.png\n");
        sb.Append("                       [--width W --height H] [--lookahead K[,ALPHA]] [--OPTION VALUE ...]\n");
        sb.Append("       tiny optim page --function FN --optimizer SPEC [--optimizer SPEC ...] --out FILE.html [--start X,Y] [--steps N]\n");
        sb.Append("                       [--sweep [NAME:]KEY=V,V,... ...] [--OPTION VALUE ...]\n");
        sb.Append("plot: the paths over the landscape, the loss and the step length per step; page: one self-contained HTML file,\n");
        sb.Append("the paths on the contour with a step slider showing each optimizer's internals and state, for every setting\n");
        sb.Append("of the sweep grid.\n");
        foreach (var o in f.Own) sb.Append(CliParsing.Row(o)).Append('\n');
        sb.Append("An optimizer's options go in its spec (adam:lr=0.1,amsgrad) or as flags (--lr 0.1 --amsgrad): kebab-case, booleans\n");
        sb.Append("bare (or true/false); a spec's value wins over a flag; plot applies a flag to each optimizer that takes it.\n");
        sb.Append("Every option has a default (lr too: the playground default).\n");
        sb.Append("optimizers (flag default):\n");
        foreach (var name in Optimizers.Names)
        {
            var info = Optimizers.Info(name);
            sb.Append($"  {name,-10} {info.Description}\n");
            sb.Append("             ").Append(string.Join("  ", info.Options.Select(o => $"{o.Flag} {o.DefaultText}"))).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>The `optim` command: run and plot; bare, it prints the usage (exit 2).</summary>
    internal static Command Build()
    {
        var f = new Flags();
        var optim = new Command("optim", "the optimizer playground");
        void Help(TextWriter w) => w.WriteLine(UsageOf(f));
        optim.Options.Add(CliParsing.Help((_, w) => Help(w)));
        optim.SetAction(r => { Help(r.InvocationConfiguration.Error); return Program.Error; });
        foreach (var (name, action, what) in new (string, Func<Flags, ParseResult, int>, string)[]
                 {
                     ("run", RunCsv, "one optimizer's trajectory as CSV"), ("plot", Plot, "the paths of optimizers over the function's landscape"),
                     ("page", Page, "an interactive HTML page of the paths and the optimizers' internals"),
                 })
        {
            var c = new Command(name, what);
            c.Options.Add(CliParsing.Help((_, w) => Help(w)));
            foreach (var o in f.Of(name).Concat(f.OptimizerFlags.Options)) c.Options.Add(o);
            c.SetAction(r => action(f, r));
            optim.Subcommands.Add(c);
        }
        return optim;
    }

    /// <summary>The --optimizer specs given, each wrapped by --lookahead when given.</summary>
    private static List<string> Specs(Flags f, ParseResult r)
    {
        var specs = (r.GetValue(f.Optimizer) ?? []).ToList();
        return r.GetValue(f.Lookahead) is { } lookahead ? specs.Select(o => LookaheadOption.AddTo(o, lookahead)).ToList() : specs;
    }


    /// <summary>The options of the optimizer a spec names: the flags it takes, then the spec's own (which win).
    /// A flag it does not take is an error when required (run), else skipped (plot).</summary>
    private static (string Name, Dictionary<string, string> Options) Resolve(string spec, Dictionary<string, string> flagOptions, bool strict)
    {
        var (name, args) = Optimizers.Parse(spec);
        var info = Optimizers.Info(name);
        var options = new Dictionary<string, string>();
        foreach (var (flag, v) in flagOptions)
        {
            if (info.Find(flag) is { } o) options[o.Key] = v;
            else if (strict) throw new CliError($"--{flag} does not apply to {name}; {name} takes: {string.Join(", ", info.Options.Select(k => k.Flag))}");
        }
        foreach (var (k, v) in args) options[k] = v;
        return (name, options);
    }

    private sealed record Setup(string Function, double[] Start, int Steps, bool F32);

    private static Setup Common(Flags f, ParseResult r) => new(
        r.GetValue(f.Function) ?? throw new CliError("--function is required"),
        r.GetValue(f.Start) is { Length: 2 } start ? start : throw new CliError("--start is required"),   // not given: an empty array
        r.GetValue(f.Steps) ?? throw new CliError("--steps is required"),
        r.GetValue(f.Dtype) == "float32");

    /// <summary>Runs one optimizer: rows (step, loss, x0, x1) for step 0..N; loss is f at those params. watch, when
    /// given, sees the optimizer and the parameter once they exist and returns what runs after each step (the
    /// parameter's gradient is still the one the step read).</summary>
    public static List<(int Step, double Loss, double X0, double X1)> Trajectory(string optimizer, IReadOnlyDictionary<string, string> options,
                                                                             string function, double[] start, int steps, bool f32,
                                                                             Func<Optimizer, Tensor, Action>? watch = null)
    {
        var defaults = Optimizers.Options(optimizer, options);   // unknown optimizer or option: the registry's message
        var p = f32 ? Tensor.FromArray(new[] { (float)start[0], (float)start[1] }, 2) : Tensor.FromArray((double[])start.Clone(), 2);
        p.RequiresGrad = true;
        var opt = Optimizers.Create(optimizer, defaults, [([p], new Dictionary<string, string>())]);
        var stepped = watch?.Invoke(opt, p);
        var rows = new List<(int, double, double, double)>(steps + 1);
        for (int k = 0; ; k++)
        {
            opt.ZeroGrad();
            var loss = TestFunctions.Evaluate(function, p);
            rows.Add((k, loss.Item(), p.At(0), p.At(1)));
            if (k == steps) break;
            loss.Backward();
            opt.Step();
            stepped?.Invoke();
        }
        return rows;
    }

    private static int RunCsv(Flags f, ParseResult r)
    {
        var optimizers = Specs(f, r);
        if (optimizers.Count != 1) throw new CliError("--optimizer is required (once)");
        var (name, options) = Resolve(optimizers[0], f.OptimizerFlags.Given(r), strict: true);
        var s = Common(f, r);
        var rows = Trajectory(name, options, s.Function, s.Start, s.Steps, s.F32);
        string Fmt(double v) => s.F32 ? ((float)v).ToString("G9", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
        var stdout = r.InvocationConfiguration.Output;
        var w = r.GetValue(f.Out) is { } path ? new StreamWriter(path) : stdout;
        try
        {
            w.WriteLine("step,loss,x0,x1");
            foreach (var (step, loss, x0, x1) in rows) w.WriteLine($"{step},{Fmt(loss)},{Fmt(x0)},{Fmt(x1)}");
        }
        finally { if (w != stdout) w.Dispose(); }
        return 0;
    }

    /// <summary>The optimizers of plot and page: each --optimizer spec with its name and options (the flags that
    /// apply to it, then the spec's own); a flag that applies to none of them is an error.</summary>
    private static List<(string Spec, string Name, Dictionary<string, string> Options)> Several(Flags f, ParseResult r)
    {
        var specs = Specs(f, r);
        if (specs.Count == 0) throw new CliError("give at least one --optimizer NAME[:key=value,...]");
        var flagOptions = f.OptimizerFlags.Given(r);
        var resolved = specs.Select(spec => Resolve(spec, flagOptions, strict: false) is var (name, options) ? (Spec: spec, Name: name, Options: options) : default).ToList();
        foreach (var flag in flagOptions.Keys)
            if (!resolved.Any(x => Optimizers.Info(x.Name).Find(flag) is not null))
                throw new CliError($"--{flag} applies to none of {string.Join(", ", resolved.Select(x => x.Name).Distinct())}");
        return resolved;
    }

    private static int Plot(Flags f, ParseResult r)
    {
        var resolved = Several(f, r);
        var s = Common(f, r);
        string path = r.GetValue(f.Out) ?? throw new CliError("--out is required");
        var paths = new List<OptimPlot.Trail>();
        foreach (var (spec, name, options) in resolved)
        {
            var rows = Trajectory(name, options, s.Function, s.Start, s.Steps, s.F32);
            paths.Add(new(spec, rows.Select(x => x.X0).ToArray(), rows.Select(x => x.X1).ToArray(), rows.Select(x => x.Loss).ToArray()));
        }
        try { OptimPlot.Save(path, s.Function, paths, r.GetValue(f.Width), r.GetValue(f.Height)); }
        catch (Exception e) when (OptimPlot.IsMissingNative(e)) { throw new CliError(OptimPlot.NoNativeLibrary); }   // one line, exit 2
        r.InvocationConfiguration.Output.WriteLine($"wrote {path}");
        return 0;
    }

    private static int Page(Flags f, ParseResult r)
    {
        string function = r.GetValue(f.Function) ?? throw new CliError("--function is required");
        string path = r.GetValue(f.Out) ?? throw new CliError("--out is required");
        OptimPage.CheckOut(path);
        var resolved = Several(f, r);
        var sweeps = (r.GetValue(f.Sweep) ?? []).Select(OptimPage.ParseSweep).ToList();
        if (sweeps.Count == 0) sweeps = OptimPage.DefaultSweeps(resolved.Select(o => o.Name));
        int steps = r.GetValue(f.Steps) ?? OptimPage.DefaultSteps;
        if (steps < 1) throw new CliError("--steps: a page needs at least 1 step");
        var model = OptimPage.Build(function, r.GetValue(f.Start) is { Length: 2 } start ? start : OptimPage.Starts[function], steps, r.GetValue(f.Dtype) == "float32", resolved, sweeps);
        OptimPage.Write(path, model);
        r.InvocationConfiguration.Output.WriteLine(
            $"wrote {path} ({new FileInfo(path).Length / 1024} KB: {model.Settings.Count} settings x {resolved.Count} optimizers x {steps} steps; {string.Join(" ", sweeps)})");
        return 0;
    }
}
