// Loads the PyTorch golden optimizer cases (tests/Tiny.Tests/data, schema in its README) and replays them.
using System.Globalization;
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

/// <summary>One optimizer trajectory case of optim_golden*.json.</summary>
public sealed class GoldenCase
{
    public required string Name, Optimizer, Problem, DType;
    public required int Steps;
    public required Dictionary<string, string> Options;
    public required List<string> ParamNames;
    public required Dictionary<string, (int[] Shape, double[] Data)> Start;
    public required List<Dictionary<string, double[]>> Trajectory;
    public required double[] Loss;
    public List<Dictionary<string, double[]>>? Grads;
    public (int[] Shape, double[] Data) X, Y;
    public List<(List<string> Params, Dictionary<string, string> Options)>? Groups;
    public double[]? Lrs;
    public JsonElement Raw;
    public override string ToString() => Name;

    public bool F32 => DType == "float32";

    private static readonly HashSet<string> CaseKeys =
        ["name", "optimizer", "options", "problem", "expression", "dtype", "steps", "start", "trajectory", "loss", "grads", "data", "groups", "lrs", "scheduler", "tolerance"];

    /// <summary>The case's own tolerance of one kind ("rel": float64 relative error, "ulps": float32, "mlp_rel": the MLP
    /// with our autograd) and its reason, from "tolerance": {kind: x, "reason": "..."}; (0, null) when it has none.</summary>
    public (double Tol, string? Reason) Tolerance(string kind) =>
        Raw.TryGetProperty("tolerance", out var t) && t.TryGetProperty(kind, out var v)
            ? (v.GetDouble(), t.TryGetProperty("reason", out var r) ? r.GetString() : throw new InvalidDataException($"{Name}: a tolerance needs a reason"))
            : (0, null);

    /// <summary>State buffers the case recorded after every step, by torch's state name (any other top-level key,
    /// shaped like "trajectory": ASGD's "ax").</summary>
    public Dictionary<string, List<Dictionary<string, double[]>>> StateSnapshots() =>
        Raw.EnumerateObject().Where(p => !CaseKeys.Contains(p.Name))
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(s => s.EnumerateObject()
                .ToDictionary(q => q.Name, q => q.Value.EnumerateArray().Select(x => x.GetDouble()).ToArray())).ToList());

    public Tensor MakeTensor((int[] Shape, double[] Data) t) =>
        F32 ? Tensor.FromArray(Array.ConvertAll(t.Data, x => (float)x), t.Shape) : Tensor.FromArray((double[])t.Data.Clone(), t.Shape);

    /// <summary>The parameters at the start, requiring grad, named.</summary>
    public List<Tensor> MakeParams() => ParamNames.Select(n => { var p = MakeTensor(Start[n]); p.Name = n; p.RequiresGrad = true; return p; }).ToList();

    public Optimizer MakeOptimizer(List<Tensor> ps)
    {
        var defaults = Optimizers.Options(Optimizer, Options);
        if (Groups is null) return Optimizers.Create(Optimizer, defaults, [(ps, new Dictionary<string, string>())]);
        return Optimizers.Create(Optimizer, defaults, Groups.Select(g =>
            ((IEnumerable<Tensor>)g.Params.Select(n => ps[ParamNames.IndexOf(n)]).ToList(), (IReadOnlyDictionary<string, string>)g.Options)));
    }
}

public static class Golden
{
    public static string DataPath(string file) => Path.Combine(TestContext.CurrentContext.TestDirectory, "data", file);

    /// <summary>Every optimizer golden file: data/optim_golden*.json (a new optimizer's data may come in a file of its own).</summary>
    private static IEnumerable<string> Files() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "data"), "optim_golden*.json").Order(StringComparer.Ordinal);

    private static readonly Lazy<List<GoldenCase>> _all = new(() =>
        Files().SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.EnumerateArray().Select(Parse)).ToList());

    public static List<GoldenCase> All => _all.Value;
    public static GoldenCase Get(string name) => All.Single(c => c.Name == name);
    /// <summary>The 2-D function cases (with recorded gradients).</summary>
    public static IEnumerable<string> Names2D() => Cases().Where(c => c.Problem != "mlp").Select(c => c.Name);
    /// <summary>The MLP cases replayed with our own autograd (no recorded gradients).</summary>
    public static IEnumerable<string> NamesMlp() => Cases().Where(c => c.Problem == "mlp" && !c.Grads).Select(c => c.Name);
    /// <summary>The MLP cases with torch's gradients recorded (gen_alphagrad_mlp_grads.py).</summary>
    public static IEnumerable<string> NamesMlpGrads() => Cases().Where(c => c.Problem == "mlp" && c.Grads).Select(c => c.Name);

    /// <summary>One float64 2-D case per distinct (optimizer, options) setting.</summary>
    public static IEnumerable<string> Settings2D() =>
        Cases().Where(c => c.Problem != "mlp" && c.Float64).GroupBy(c => c.Optimizer + c.Options).Select(g => g.First().Name).ToList();

    // Names for TestCaseSource are read before TestContext exists: a light index of every case, read from the data
    // next to the assembly.
    private static IEnumerable<(string Name, string Optimizer, string Options, string Problem, bool Float64, bool Grads)> Cases() =>
        Files().SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.EnumerateArray().Select(c => (
            c.GetProperty("name").GetString()!, c.GetProperty("optimizer").GetString()!, c.GetProperty("options").GetRawText(),
            c.GetProperty("problem").GetString()!, c.GetProperty("dtype").GetString() == "float64", c.TryGetProperty("grads", out _)))).ToList();

    // Names for TestCaseSource are read before TestContext exists: locate the data next to the assembly.
    public static (int[] Shape, double[] Data) T(JsonElement e) =>
        (e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray(), e.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray());

    /// <summary>torch's pair arguments and the two registry keys each becomes ("betas" becomes beta1, beta2[, beta3]).</summary>
    private static readonly Dictionary<string, (string First, string Second)> TupleKeys = new()
    {
        ["etas"] = ("etaminus", "etaplus"), ["step_sizes"] = ("step_size_min", "step_size_max"),
    };

    public static Dictionary<string, string> Opts(JsonElement e)
    {
        var d = new Dictionary<string, string>();
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name == "betas") for (int i = 0; i < p.Value.GetArrayLength(); i++) d[$"beta{i + 1}"] = p.Value[i].GetRawText();   // 2 or 3 betas
            else if (TupleKeys.TryGetValue(p.Name, out var keys)) { d[keys.First] = p.Value[0].GetRawText(); d[keys.Second] = p.Value[1].GetRawText(); }
            else d[p.Name] = p.Value.ValueKind switch { JsonValueKind.True => "true", JsonValueKind.False => "false", _ => p.Value.GetRawText() };
        }
        return d;
    }

    private static Dictionary<string, double[]> Flat(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(x => x.GetDouble()).ToArray());

    public static GoldenCase Parse(JsonElement c)
    {
        var start = c.GetProperty("start");
        var gc = new GoldenCase
        {
            Name = c.GetProperty("name").GetString()!, Optimizer = c.GetProperty("optimizer").GetString()!,
            Problem = c.GetProperty("problem").GetString()!, DType = c.GetProperty("dtype").GetString()!,
            Steps = c.GetProperty("steps").GetInt32(), Options = Opts(c.GetProperty("options")),
            ParamNames = start.EnumerateObject().Select(p => p.Name).ToList(),
            Start = start.EnumerateObject().ToDictionary(p => p.Name, p => T(p.Value)),
            Trajectory = c.GetProperty("trajectory").EnumerateArray().Select(Flat).ToList(),
            Loss = c.GetProperty("loss").EnumerateArray().Select(x => x.GetDouble()).ToArray(),
            Raw = c,
        };
        if (c.TryGetProperty("grads", out var g)) gc.Grads = g.EnumerateArray().Select(Flat).ToList();
        if (c.TryGetProperty("data", out var data)) { gc.X = T(data.GetProperty("x")); gc.Y = T(data.GetProperty("y")); }
        if (c.TryGetProperty("groups", out var gs))
            gc.Groups = gs.EnumerateArray().Select(x => (x.GetProperty("params").EnumerateArray().Select(n => n.GetString()!).ToList(), Opts(x.GetProperty("options")))).ToList();
        if (c.TryGetProperty("lrs", out var lrs)) gc.Lrs = lrs.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return gc;
    }

    /// <summary>The loss of a 2-D test function through autograd; p has shape [2].</summary>
    public static Tensor Function2D(string name, Tensor p)
    {
        var x = p.Select(0, 0);
        var y = p.Select(0, 1);
        return name switch
        {
            "rosenbrock" => (1 - x).Pow(2) + 100 * (y - x.Pow(2)).Pow(2),
            "beale" => (1.5 - x + x * y).Pow(2) + (2.25 - x + x * y.Pow(2)).Pow(2) + (2.625 - x + x * y.Pow(3)).Pow(2),
            "himmelblau" => (x.Pow(2) + y - 11).Pow(2) + (x + y.Pow(2) - 7).Pow(2),
            "quadratic" => 0.5 * x.Pow(2) + 5 * y.Pow(2),
            _ => throw new ArgumentException($"unknown function {name}"),
        };
    }

    /// <summary>The golden MLP loss mean((L3(tanh(L2(tanh(L1 x)))) - y)^2); ps = w1,b1,w2,b2,w3,b3.</summary>
    public static Tensor MlpLoss(IReadOnlyList<Tensor> ps, Tensor x, Tensor y)
    {
        var h = Tensor.Linear(x, ps[0], ps[1]).Tanh();
        h = Tensor.Linear(h, ps[2], ps[3]).Tanh();
        var d = Tensor.Linear(h, ps[4], ps[5]) - y;
        return (d * d).Mean();
    }

    /// <summary>|a-b| relative to |b| (absolute below 1e-300).</summary>
    public static double Rel(double a, double b) => a == b ? 0 : Math.Abs(a - b) / Math.Max(Math.Abs(b), 1e-300);

    /// <summary>Distance in units in the last place between two floats.</summary>
    public static long Ulps(float a, float b)
    {
        if (a == b) return 0;
        int ia = BitConverter.SingleToInt32Bits(a), ib = BitConverter.SingleToInt32Bits(b);
        if (ia < 0) ia = int.MinValue - ia;
        if (ib < 0) ib = int.MinValue - ib;
        return Math.Abs((long)ia - ib);
    }

    public static string Fmt(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
