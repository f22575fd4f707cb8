// OptimizerSpec: an optimizer named on the command line or in config.json ("alphagrad:alpha=2,momentum=0.9"),
// turned into a Tiny.Optim optimizer over an agent's parameters. Every agent takes one, so any optimizer can
// train any agent. It stands on the registry (Tiny.Optim.Optimizers): names, keys, types, defaults and checks are
// the registry's; the spec only remembers which options were given, so that lr can fall back to the agent's.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>
/// An optimizer by registered name (<see cref="Optimizers.Names"/>) and the options given for it by key, in the
/// registry's one spelling, snake_case (weight_decay; "weight-decay" is read as the same key). Booleans are 1/0,
/// integers whole numbers. Options not given take the registry's defaults, except lr, which falls back to the
/// agent's default lr passed to <see cref="Create"/>.
/// </summary>
public sealed record OptimizerSpec
{
    /// <summary>A spec of name with args (keys in either spelling; they are stored snake_case).</summary>
    public OptimizerSpec(string name, IReadOnlyDictionary<string, double> args)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(args);
        Name = name.Trim().ToLowerInvariant();
        var a = new Dictionary<string, double>();
        foreach (var (k, v) in args) a[Optimizers.NormalizeKey(k)] = v;
        Args = a;
    }

    /// <summary>The optimizer's registered name.</summary>
    public string Name { get; }

    /// <summary>The options given, by snake_case key.</summary>
    public IReadOnlyDictionary<string, double> Args { get; }

    /// <summary>The optimizer names <see cref="Create"/> knows (the registry's).</summary>
    public static IReadOnlyList<string> KnownOptimizers => Optimizers.Names;

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

    /// <summary>This spec with one argument set (or replaced); key in either spelling.</summary>
    public OptimizerSpec With(string key, double value) =>
        new(Name, new Dictionary<string, double>(Args) { [Optimizers.NormalizeKey(key)] = value });

    /// <summary>Throws ArgumentException for an unknown optimizer, an option it does not take, a value its type does
    /// not hold (a boolean not 0/1, an integer not whole, a non-finite number) or one the optimizer rejects.</summary>
    public void Validate() => Options(null);

    /// <summary>
    /// Builds the optimizer over parameters (one param group). lr: Args["lr"], else defaultLr, else the registry's
    /// default. Invalid values throw ArgumentException (the optimizer's own message).
    /// </summary>
    public Optimizer Create(IEnumerable<Tensor> parameters, double? defaultLr = null) =>
        Optimizers.Create(Name, Options(defaultLr), [(parameters, new Dictionary<string, string>())]);

    /// <summary>The options record: the registry's defaults, then defaultLr (when lr is not given), then Args.</summary>
    private OptimizerOptions Options(double? defaultLr)
    {
        var info = Optimizers.Info(Name);
        var o = info.Defaults;
        if (defaultLr is double lr && !Args.ContainsKey("lr")) o = o with { Lr = lr };
        foreach (var (k, v) in Args)
        {
            if (!double.IsFinite(v))
                throw new ArgumentException($"optimizer '{Name}': option '{k}' must be a finite number, got {v}");
            o = Optimizers.With(o, k, (object)v);   // unknown key: the registry lists the valid ones
        }
        o.Validate();
        return o;
    }

    /// <summary>Parses "name" or "name:key=value,key=value" ("alphagrad:alpha=2,momentum=0.9", "adam:amsgrad");
    /// booleans as true/false or 1/0.</summary>
    public static OptimizerSpec Parse(string text)
    {
        var (name, args) = Optimizers.Parse(text);
        var spec = new OptimizerSpec(name, args.ToDictionary(kv => kv.Key, kv => ToDouble(Optimizers.ParseValue(name, kv.Key, kv.Value))));
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

    /// <summary>The args as the registry's text (booleans true/false), by key.</summary>
    private Dictionary<string, string> Texts()
    {
        var defaults = Optimizers.Info(Name).Defaults;
        return Args.ToDictionary(kv => kv.Key, kv => Optimizers.Format(Optimizers.Get(Optimizers.With(defaults, kv.Key, (object)kv.Value), kv.Key)));
    }

    /// <summary>"name:key=value,..." in the registry's order and spelling (round-trips through <see cref="Parse"/>).</summary>
    public override string ToString()
    {
        try { return Optimizers.Format(Name, Texts()); }
        catch (ArgumentException)   // not a valid spec: write what it holds
        {
            return Args.Count == 0 ? Name
                : Name + ":" + string.Join(",", Args.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value.ToString("R", CultureInfo.InvariantCulture)}"));
        }
    }

    /// <summary>{"name": "...", "args": {"lr": ..., "amsgrad": true, ...}} (booleans as JSON booleans).</summary>
    public JsonObject ToJson()
    {
        Validate();
        var args = new JsonObject();
        var defaults = Optimizers.Info(Name).Defaults;
        foreach (var key in Optimizers.Info(Name).Keys)
            if (Args.TryGetValue(key, out var v))
                args[key] = Optimizers.Get(Optimizers.With(defaults, key, (object)v), key) switch
                {
                    bool b => JsonValue.Create(b),
                    int i => JsonValue.Create(i),
                    long l => JsonValue.Create(l),
                    _ => JsonValue.Create(v),
                };
        foreach (var w in Optimizers.WrapperOptions)   // lookahead_k, lookahead_alpha: any optimizer's wrapper
            if (Args.TryGetValue(w.Key, out var v))
                args[w.Key] = w.Type == typeof(int) ? JsonValue.Create((int)v) : w.Type == typeof(long) ? JsonValue.Create((long)v) : JsonValue.Create(v);
        return new JsonObject { ["name"] = Name, ["args"] = args };
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote (and older configs: "weight-decay", booleans as 1/0).</summary>
    public static OptimizerSpec FromJson(JsonNode node)
    {
        string name = node["name"]?.GetValue<string>() ?? throw new ArgumentException("optimizer spec: missing 'name'");
        var args = new Dictionary<string, double>();
        if (node["args"] is JsonObject o)
            foreach (var (k, v) in o)
                args[k] = v is null ? throw new ArgumentException($"optimizer spec: null value for '{k}'")
                    : v.GetValueKind() switch
                    {
                        JsonValueKind.True => 1,
                        JsonValueKind.False => 0,
                        JsonValueKind.String => ToDouble(Optimizers.ParseValue(name, k, v.GetValue<string>())),
                        _ => v.GetValue<double>(),
                    };
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

    private static double ToDouble(object v) => v switch
    {
        bool b => b ? 1 : 0,
        int i => i,
        long l => l,
        _ => (double)v,
    };
}
