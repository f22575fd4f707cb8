// `tiny optim run|plot`: an optimizer playground on the 2-D test functions (CSV trajectories and PNG paths).
using System.Globalization;
using Tiny.Optim;

namespace Tiny.Cli;

public static class OptimCommand
{
    private const string Usage =
        "usage: tiny optim run --optimizer sgd|adam|adamw|adabound|alphagrad --function rosenbrock|beale|himmelblau|quadratic\n" +
        "                      --start X,Y --steps N [--dtype float32|float64] [--out FILE.csv] [--lr --alpha --eps --momentum\n" +
        "                      --dampening --nesterov --weight-decay --beta1 --beta2 --amsgrad --amsbound --adaboundw --maximize\n" +
        "                      --final-lr --gamma]\n" +
        "       tiny optim plot --function FN --start X,Y --steps N --optimizer NAME[:opt=v,...] [--optimizer ...] --out FILE.png";

    // Flag -> PyTorch option name; booleans take no value (or an explicit true/false).
    private static readonly Dictionary<string, string> OptionFlags = new()
    {
        ["lr"] = "lr", ["alpha"] = "alpha", ["eps"] = "eps", ["momentum"] = "momentum", ["dampening"] = "dampening",
        ["weight-decay"] = "weight_decay", ["beta1"] = "beta1", ["beta2"] = "beta2", ["final-lr"] = "final_lr", ["gamma"] = "gamma",
        ["nesterov"] = "nesterov", ["amsgrad"] = "amsgrad", ["amsbound"] = "amsbound", ["adaboundw"] = "adaboundw", ["maximize"] = "maximize",
    };
    private static readonly HashSet<string> BoolFlags = ["nesterov", "amsgrad", "amsbound", "adaboundw", "maximize"];
    private static readonly HashSet<string> OtherFlags = ["optimizer", "function", "start", "steps", "dtype", "out", "width", "height"];

    private sealed class UsageException(string message) : Exception(message);

    /// <summary>Runs `tiny optim ...`; returns 0, or 2 with a one-line error on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help") { stdout.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            var (flags, optimizers) = Parse(args[1..]);
            switch (args[0])
            {
                case "run": return RunCsv(flags, optimizers, stdout);
                case "plot": return Plot(flags, optimizers, stdout);
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

    private static (Dictionary<string, string> Flags, List<string> Optimizers) Parse(string[] args)
    {
        var flags = new Dictionary<string, string>();
        var optimizers = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new UsageException($"unexpected argument '{args[i]}'");
            string name = args[i][2..], value;
            int eq = name.IndexOf('=');
            if (eq >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
            else if (BoolFlags.Contains(name))
                value = i + 1 < args.Length && args[i + 1] is "true" or "false" ? args[++i] : "true";
            else if (i + 1 < args.Length) value = args[++i];       // the next token is the value, even "-1.2,1" or "-0"
            else throw new UsageException($"--{name} needs a value");
            if (!OptionFlags.ContainsKey(name) && !OtherFlags.Contains(name)) throw new UsageException($"unknown option --{name}");
            if (name == "optimizer") optimizers.Add(value);
            else flags[name] = value;
        }
        return (flags, optimizers);
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
        if (!Optimizers.Names.Contains(optimizer)) throw new UsageException($"unknown optimizer '{optimizer}' (known: {string.Join(", ", Optimizers.Names)})");
        var p = f32 ? Tensor.FromArray(new[] { (float)start[0], (float)start[1] }, 2) : Tensor.FromArray((double[])start.Clone(), 2);
        p.RequiresGrad = true;
        var opt = Optimizers.Create(optimizer, [p], options);
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

    private static int RunCsv(Dictionary<string, string> f, List<string> optimizers, TextWriter stdout)
    {
        if (optimizers.Count != 1) throw new UsageException("--optimizer is required (once)");
        var s = Common(f);
        var options = f.Where(kv => OptionFlags.ContainsKey(kv.Key)).ToDictionary(kv => OptionFlags[kv.Key], kv => kv.Value);
        var rows = Trajectory(optimizers[0], options, s.Function, s.Start, s.Steps, s.F32);
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

    private static int Plot(Dictionary<string, string> f, List<string> specs, TextWriter stdout)
    {
        if (specs.Count == 0) throw new UsageException("give at least one --optimizer NAME[:opt=v,...]");
        var s = Common(f);
        string path = Need(f, "out");
        var shared = f.Where(kv => OptionFlags.ContainsKey(kv.Key)).ToDictionary(kv => OptionFlags[kv.Key], kv => kv.Value);
        var paths = new List<(string Label, double[] X, double[] Y, double Loss)>();
        foreach (var spec in specs)
        {
            int colon = spec.IndexOf(':');
            string name = colon < 0 ? spec : spec[..colon];
            var options = new Dictionary<string, string>(shared);
            if (colon >= 0)
                foreach (var kv in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var (k, v) = kv.IndexOf('=') is var e and >= 0 ? (kv[..e], kv[(e + 1)..]) : (kv, "true");
                    options[OptionFlags.GetValueOrDefault(k, k.Replace('-', '_'))] = v;
                }
            var rows = Trajectory(name, options, s.Function, s.Start, s.Steps, s.F32);
            paths.Add((spec, rows.Select(r => r.X0).ToArray(), rows.Select(r => r.X1).ToArray(), rows[^1].Loss));
        }
        OptimPlot.Save(path, s.Function, paths, int.Parse(f.GetValueOrDefault("width", "900"), CultureInfo.InvariantCulture),
                       int.Parse(f.GetValueOrDefault("height", "700"), CultureInfo.InvariantCulture));
        stdout.WriteLine($"wrote {path}");
        return 0;
    }
}
