// `tiny optim run|plot`: an optimizer playground on the 2-D test functions (CSV trajectories and PNG paths).
using System.Globalization;
using Tiny.Optim;

namespace Tiny.Cli;

public static class OptimCommand
{
    private const string UsageHead =
        "usage: tiny optim run --optimizer NAME[:key=value,...] --function FN --start X,Y --steps N [--dtype float32|float64]\n" +
        "                      [--out FILE.csv] [--OPTION VALUE ...]\n" +
        "       tiny optim plot --function FN --start X,Y --steps N --optimizer NAME[:key=value,...] [--optimizer ...] --out FILE.png\n" +
        "                      [--width W --height H] [--lookahead K[,ALPHA]] [--OPTION VALUE ...]\n" +
        "An optimizer's options go in its spec (adam:lr=0.1,amsgrad) or as flags (--lr 0.1 --amsgrad): kebab-case, booleans\n" +
        "bare (or true/false); a spec's value wins over a flag; plot applies a flag to each optimizer that takes it.\n" +
        "Every option has a default (lr too: the playground default).";

    /// <summary>The usage: the fixed part, the functions, then every registered optimizer with its flags and defaults.</summary>
    public static string Usage
    {
        get
        {
            var sb = new System.Text.StringBuilder(UsageHead).Append('\n');
            sb.Append("functions: ").Append(string.Join(", ", TestFunctions.Names)).Append('\n');
            sb.Append("optimizers (flag default):\n");
            foreach (var name in Optimizers.Names)
            {
                var info = Optimizers.Info(name);
                sb.Append($"  {name,-10} {info.Description}\n");
                sb.Append("             ").Append(string.Join("  ", info.Options.Select(o => $"{o.Flag} {o.DefaultText}"))).Append('\n');
            }
            return sb.ToString().TrimEnd('\n');
        }
    }

    /// <summary>Every option flag of every registered optimizer (kebab-case, no dashes) -> (key, whether a boolean).</summary>
    private static Dictionary<string, (string Key, bool Bool)> OptionFlags()
    {
        var flags = new Dictionary<string, (string Key, bool Bool)>();
        foreach (var name in Optimizers.Names)
            foreach (var o in Optimizers.Info(name).Options)
                flags[o.Flag[2..]] = (o.Key, flags.TryGetValue(o.Flag[2..], out var f) && f.Bool || o.IsBool);
        return flags;
    }

    private static readonly HashSet<string> OtherFlags = ["optimizer", "function", "start", "steps", "dtype", "out", "width", "height", "lookahead"];

    private sealed class UsageException(string message) : Exception(message);

    /// <summary>Runs `tiny optim ...`; returns 0, or 2 with a one-line error on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args.Any(a => a is "-h" or "--help")) { stdout.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            var (flags, options, optimizers) = Parse(args[1..]);
            if (flags.Remove("lookahead", out var lookahead))   // --lookahead K[,ALPHA] wraps every optimizer given
                optimizers = optimizers.Select(o => LookaheadOption.AddTo(o, lookahead)).ToList();
            switch (args[0])
            {
                case "run": return RunCsv(flags, options, optimizers, stdout);
                case "plot": return Plot(flags, options, optimizers, stdout);
                default: throw new UsageException($"unknown optim command '{args[0]}' (run, plot)");
            }
        }
        catch (Exception e) when (e is UsageException or ArgumentException or FormatException or IOException)
        {
            string message = e is ArgumentException ae && ae.ParamName is { } pn ? ae.Message.Replace($" (Parameter '{pn}')", "") : e.Message;
            stderr.WriteLine($"tiny optim: {message.Split('\n')[0]}");
            return 2;
        }
    }

    /// <summary>The flags: the command's own (function, start...), the optimizer options by flag name (kebab-case) with
    /// their text, and the --optimizer specs in order.</summary>
    private static (Dictionary<string, string> Flags, Dictionary<string, string> Options, List<string> Optimizers) Parse(string[] args)
    {
        var optionFlags = OptionFlags();
        var flags = new Dictionary<string, string>();
        var options = new Dictionary<string, string>();
        var optimizers = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new UsageException($"unexpected argument '{args[i]}'");
            string name = args[i][2..], value;
            string? inline = null;
            if (name.IndexOf('=') is var eq and >= 0) (name, inline) = (name[..eq], name[(eq + 1)..]);
            name = name.Replace('_', '-');                         // --weight_decay is --weight-decay
            bool isOption = optionFlags.TryGetValue(name, out var option);
            if (!isOption && !OtherFlags.Contains(name)) throw new UsageException($"unknown option --{name}");
            if (inline is not null) value = inline;
            else if (isOption && option.Bool)
                value = i + 1 < args.Length && args[i + 1] is "true" or "false" or "1" or "0" ? args[++i] : "true";
            else if (i + 1 < args.Length) value = args[++i];       // the next token is the value, even "-1.2,1" or "-0"
            else throw new UsageException($"--{name} needs a value");
            if (name == "optimizer") optimizers.Add(value);
            else if (isOption) options[name] = value;
            else flags[name] = value;
        }
        return (flags, options, optimizers);
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
            else if (strict) throw new UsageException($"--{flag} does not apply to {name}; {name} takes: {string.Join(", ", info.Options.Select(k => k.Flag))}");
        }
        foreach (var (k, v) in args) options[k] = v;
        return (name, options);
    }

    /// <summary>An image size flag: an integer from 100 to 8000 pixels.</summary>
    private static int Pixels(Dictionary<string, string> f, string flag, int fallback)
    {
        if (!f.TryGetValue(flag, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 100 and <= 8000 ? v
            : throw new UsageException($"--{flag}: '{text}' is not a size from 100 to 8000 pixels");
    }

    private static string Need(Dictionary<string, string> f, string name) =>
        f.TryGetValue(name, out var v) ? v : throw new UsageException($"--{name} is required");

    private static double Number(string flag, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{flag}: '{v}' is not a number");

    private sealed record Setup(string Function, double[] Start, int Steps, bool F32);

    private static Setup Common(Dictionary<string, string> f)
    {
        string fn = Need(f, "function");
        if (!TestFunctions.Names.Contains(fn)) throw new UsageException($"unknown function '{fn}' (known: {string.Join(", ", TestFunctions.Names)})");
        var parts = Need(f, "start").Split(',');
        if (parts.Length != 2) throw new UsageException($"--start: expected X,Y, got '{f["start"]}'");
        var start = parts.Select(s => Number("start", s)).ToArray();
        var stepsText = Need(f, "steps");
        if (!int.TryParse(stepsText, NumberStyles.None, CultureInfo.InvariantCulture, out int steps)) throw new UsageException($"--steps: '{stepsText}' is not a non-negative integer");
        string dtype = f.GetValueOrDefault("dtype", "float64");
        if (dtype is not ("float32" or "float64")) throw new UsageException($"--dtype: '{dtype}' is not float32 or float64");
        return new Setup(fn, start, steps, dtype == "float32");
    }

    /// <summary>Runs one optimizer: rows (step, loss, x0, x1) for step 0..N; loss is f at those params.</summary>
    public static List<(int Step, double Loss, double X0, double X1)> Trajectory(string optimizer, IReadOnlyDictionary<string, string> options,
                                                                             string function, double[] start, int steps, bool f32)
    {
        var defaults = Optimizers.Options(optimizer, options);   // unknown optimizer or option: the registry's message
        var p = f32 ? Tensor.FromArray(new[] { (float)start[0], (float)start[1] }, 2) : Tensor.FromArray((double[])start.Clone(), 2);
        p.RequiresGrad = true;
        var opt = Optimizers.Create(optimizer, defaults, [([p], new Dictionary<string, string>())]);
        var rows = new List<(int, double, double, double)>(steps + 1);
        for (int k = 0; ; k++)
        {
            opt.ZeroGrad();
            var loss = TestFunctions.Evaluate(function, p);
            rows.Add((k, loss.Item(), p.At(0), p.At(1)));
            if (k == steps) break;
            loss.Backward();
            opt.Step();
        }
        return rows;
    }

    private static int RunCsv(Dictionary<string, string> f, Dictionary<string, string> flagOptions, List<string> optimizers, TextWriter stdout)
    {
        if (optimizers.Count != 1) throw new UsageException("--optimizer is required (once)");
        var (name, options) = Resolve(optimizers[0], flagOptions, strict: true);
        var s = Common(f);
        var rows = Trajectory(name, options, s.Function, s.Start, s.Steps, s.F32);
        string Fmt(double v) => s.F32 ? ((float)v).ToString("G9", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
        var w = f.TryGetValue("out", out var path) ? new StreamWriter(path) : stdout;
        try
        {
            w.WriteLine("step,loss,x0,x1");
            foreach (var (step, loss, x0, x1) in rows) w.WriteLine($"{step},{Fmt(loss)},{Fmt(x0)},{Fmt(x1)}");
        }
        finally { if (w != stdout) w.Dispose(); }
        return 0;
    }

    private static int Plot(Dictionary<string, string> f, Dictionary<string, string> flagOptions, List<string> specs, TextWriter stdout)
    {
        if (specs.Count == 0) throw new UsageException("give at least one --optimizer NAME[:key=value,...]");
        var resolved = specs.Select(spec => (Spec: spec, Run: Resolve(spec, flagOptions, strict: false))).ToList();
        foreach (var flag in flagOptions.Keys)
            if (!resolved.Any(r => Optimizers.Info(r.Run.Name).Find(flag) is not null))
                throw new UsageException($"--{flag} applies to none of {string.Join(", ", resolved.Select(r => r.Run.Name).Distinct())}");
        var s = Common(f);
        string path = Need(f, "out");
        var paths = new List<(string Label, double[] X, double[] Y, double Loss)>();
        foreach (var (spec, (name, options)) in resolved)
        {
            var rows = Trajectory(name, options, s.Function, s.Start, s.Steps, s.F32);
            paths.Add((spec, rows.Select(r => r.X0).ToArray(), rows.Select(r => r.X1).ToArray(), rows[^1].Loss));
        }
        OptimPlot.Save(path, s.Function, paths, Pixels(f, "width", 900), Pixels(f, "height", 700));
        stdout.WriteLine($"wrote {path}");
        return 0;
    }
}
