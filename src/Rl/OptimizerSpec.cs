// OptimizerSpec: an optimizer named on the command line or in config.json ("alphagrad:alpha=2,momentum=0.9"),
// turned into a Tiny.Optim optimizer over an agent's parameters. Every agent takes one, so any optimizer can
// train any agent.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>
/// An optimizer by name (sgd, adam, adamw, adabound, alphagrad) and its hyperparameters by CLI name (lr, eps,
/// alpha, momentum, dampening, nesterov (0/1), weight-decay, beta1, beta2, amsgrad (0/1), amsbound (0/1),
/// final-lr, gamma). Hyperparameters not given take the optimizer's own (PyTorch) defaults, except lr, which
/// falls back to the agent's default lr passed to <see cref="Create"/>.
/// </summary>
public sealed record OptimizerSpec(string Name, IReadOnlyDictionary<string, double> Args)
{
    /// <summary>The optimizer names <see cref="Create"/> knows.</summary>
    public static readonly IReadOnlyList<string> KnownOptimizers = ["sgd", "adam", "adamw", "adabound", "alphagrad"];

    /// <summary>The hyperparameter names each optimizer accepts.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> KnownArgs = new Dictionary<string, string[]>
    {
        ["sgd"] = ["lr", "momentum", "dampening", "nesterov", "weight-decay"],
        ["adam"] = ["lr", "beta1", "beta2", "eps", "weight-decay", "amsgrad"],
        ["adamw"] = ["lr", "beta1", "beta2", "eps", "weight-decay", "amsgrad"],
        ["adabound"] = ["lr", "beta1", "beta2", "final-lr", "gamma", "eps", "weight-decay", "amsbound"],
        ["alphagrad"] = ["lr", "alpha", "eps", "momentum", "dampening", "weight-decay", "nesterov"],
    };

    /// <summary>Adam with the given args (CleanRL's PPO/DQN use adam:eps=1e-5).</summary>
    public static OptimizerSpec Adam(double? lr = null, double? eps = null)
    {
        var a = new Dictionary<string, double>();
        if (lr is double l) a["lr"] = l;
        if (eps is double e) a["eps"] = e;
        return new OptimizerSpec("adam", a);
    }

    /// <summary>The lr given in Args, or null.</summary>
    public double? Lr => Args.TryGetValue("lr", out var v) ? v : null;

    /// <summary>This spec with one argument set (or replaced).</summary>
    public OptimizerSpec With(string key, double value)
    {
        var a = new Dictionary<string, double>(Args) { [key] = value };
        return this with { Args = a };
    }

    /// <summary>Throws ArgumentException for an unknown optimizer or an argument it does not take.</summary>
    public void Validate()
    {
        if (!KnownArgs.TryGetValue(Name, out var known))
            throw new ArgumentException($"unknown optimizer '{Name}'; known: {string.Join(", ", KnownOptimizers)}");
        foreach (var (k, v) in Args)
        {
            if (!known.Contains(k))
                throw new ArgumentException($"optimizer '{Name}' has no option '{k}'; it takes: {string.Join(", ", known)}");
            if (!double.IsFinite(v))
                throw new ArgumentException($"optimizer '{Name}': option '{k}' must be a finite number, got {v}");
        }
    }

    /// <summary>
    /// Builds the optimizer over parameters (one param group). lr: Args["lr"], else defaultLr, else the optimizer's
    /// default. Invalid values throw ArgumentException (the optimizer's own message).
    /// </summary>
    public Optimizer Create(IEnumerable<Tensor> parameters, double? defaultLr = null)
    {
        Validate();
        double lr = Lr ?? defaultLr ?? 1e-3;
        double G(string k, double d) => Args.TryGetValue(k, out var v) ? v : d;
        bool B(string k, bool d) => Args.TryGetValue(k, out var v) ? v != 0 : d;
        var ps = parameters.ToList();
        switch (Name)
        {
            case "sgd":
            {
                var o = new SgdOptions(lr);
                o = o with { Momentum = G("momentum", o.Momentum), Dampening = G("dampening", o.Dampening), Nesterov = B("nesterov", o.Nesterov), WeightDecay = G("weight-decay", o.WeightDecay) };
                return new Sgd([new GroupSpec<SgdOptions>(ps)], o);
            }
            case "adam":
            case "adamw":
            {
                var o = Name == "adamw" ? new AdamOptions(lr) { WeightDecay = 1e-2 } : new AdamOptions(lr);
                o = o with { Beta1 = G("beta1", o.Beta1), Beta2 = G("beta2", o.Beta2), Eps = G("eps", o.Eps), WeightDecay = G("weight-decay", o.WeightDecay), Amsgrad = B("amsgrad", o.Amsgrad) };
                return Name == "adamw" ? new AdamW([new GroupSpec<AdamOptions>(ps)], o) : new Adam([new GroupSpec<AdamOptions>(ps)], o);
            }
            case "adabound":
            {
                var o = new AdaBoundOptions(lr);
                o = o with { Beta1 = G("beta1", o.Beta1), Beta2 = G("beta2", o.Beta2), FinalLr = G("final-lr", o.FinalLr), Gamma = G("gamma", o.Gamma), Eps = G("eps", o.Eps), WeightDecay = G("weight-decay", o.WeightDecay), AmsBound = B("amsbound", o.AmsBound) };
                return new AdaBound([new GroupSpec<AdaBoundOptions>(ps)], o);
            }
            case "alphagrad":
            {
                var o = new AlphaGradOptions(lr);
                o = o with { Alpha = G("alpha", o.Alpha), Eps = G("eps", o.Eps), Momentum = G("momentum", o.Momentum), Dampening = G("dampening", o.Dampening), WeightDecay = G("weight-decay", o.WeightDecay), Nesterov = B("nesterov", o.Nesterov) };
                return new AlphaGrad([new GroupSpec<AlphaGradOptions>(ps)], o);
            }
            default:
                throw new ArgumentException($"unknown optimizer '{Name}'; known: {string.Join(", ", KnownOptimizers)}");
        }
    }

    /// <summary>Parses "name" or "name:key=value,key=value" ("alphagrad:alpha=2,momentum=0.9"); booleans as 0/1 or true/false.</summary>
    public static OptimizerSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', 2);
        string name = parts[0].Trim().ToLowerInvariant();
        var args = new Dictionary<string, double>();
        if (parts.Length == 2 && parts[1].Trim().Length > 0)
            foreach (var kv in parts[1].Split(','))
            {
                var p = kv.Split('=', 2);
                if (p.Length != 2) throw new ArgumentException($"optimizer spec '{text}': expected key=value, got '{kv}'");
                args[p[0].Trim().ToLowerInvariant().Replace('_', '-')] = ParseNumber(p[1].Trim(), p[0].Trim());
            }
        var spec = new OptimizerSpec(name, args);
        spec.Validate();
        return spec;
    }

    /// <summary>A number, or true/false (1/0); ArgumentException naming the key otherwise.</summary>
    public static double ParseNumber(string s, string key)
    {
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase)) return 1;
        if (s.Equals("false", StringComparison.OrdinalIgnoreCase)) return 0;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) return v;
        throw new ArgumentException($"option '{key}': '{s}' is not a number");
    }

    /// <summary>"name:key=value,..." (round-trips through <see cref="Parse"/>).</summary>
    public override string ToString() =>
        Args.Count == 0 ? Name
            : Name + ":" + string.Join(",", Args.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value.ToString("R", CultureInfo.InvariantCulture)}"));

    /// <summary>{"name": "...", "args": {"lr": ..., ...}}.</summary>
    public JsonObject ToJson()
    {
        var args = new JsonObject();
        foreach (var (k, v) in Args.OrderBy(kv => kv.Key, StringComparer.Ordinal)) args[k] = v;
        return new JsonObject { ["name"] = Name, ["args"] = args };
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static OptimizerSpec FromJson(JsonNode node)
    {
        string name = node["name"]?.GetValue<string>() ?? throw new ArgumentException("optimizer spec: missing 'name'");
        var args = new Dictionary<string, double>();
        if (node["args"] is JsonObject o)
            foreach (var (k, v) in o)
                args[k] = v is null ? throw new ArgumentException($"optimizer spec: null value for '{k}'") : v.GetValue<double>();
        var spec = new OptimizerSpec(name, args);
        spec.Validate();
        return spec;
    }

    /// <summary>JSON text of <see cref="ToJson"/>.</summary>
    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    /// <summary>Parses JSON text written by <see cref="ToJsonString"/>.</summary>
    public static OptimizerSpec FromJsonString(string json) =>
        FromJson(JsonNode.Parse(json) ?? throw new ArgumentException("optimizer spec: empty JSON"));

    /// <summary>Value equality including the args (records compare dictionaries by reference).</summary>
    public bool Equals(OptimizerSpec? other) =>
        other is not null && other.Name == Name && other.Args.Count == Args.Count
        && Args.All(kv => other.Args.TryGetValue(kv.Key, out var v) && v.Equals(kv.Value));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, Args.Count);
}
