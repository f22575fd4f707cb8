// The one registry from text to optimizer: one line per optimizer (name, defaults, constructor, description). Every
// road from text (the C# API, `tiny optim`, `tiny train --optimizer`, config.json, state dicts, tests' golden loader)
// goes through it. An optimizer's option keys are derived from its options record by reflection: each public
// settable property of type double, bool, int or long, PascalCase -> snake_case (WeightDecay -> weight_decay,
// Beta1 -> beta1), or the key its [OptionKey] names where PyTorch spells it otherwise. Keys are written snake_case
// everywhere; on input '-' may stand for '_'. Spec strings: "name" or "name:key=value,key=value" (a bare key is a
// boolean true: "adam:amsgrad"). Every optimizer also takes the wrapper keys lookahead_k and lookahead_alpha
// (WrapperOptions): lookahead_k != 0 wraps it in Lookahead ("adam:lr=1e-3,lookahead_k=5,lookahead_alpha=0.5").
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tiny.Optim;

/// <summary>The key of an options property where PyTorch's spelling is not the property's name in snake_case
/// (AdaBoundOptions.AmsBound is "amsbound", AdaBoundOptions.Decoupled is "adaboundw").</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class OptionKeyAttribute(string key) : Attribute
{
    /// <summary>The snake_case key.</summary>
    public string Key { get; } = key;
}

/// <summary>One option of an optimizer: its snake_case key, its CLI flag, its type (double, bool, int or long) and
/// its default in the registry.</summary>
public sealed record OptionInfo(string Key, Type Type, object Default)
{
    /// <summary>The CLI flag: "--" and the key in kebab-case (--weight-decay).</summary>
    public string Flag => "--" + Key.Replace('_', '-');

    /// <summary>Whether the option is a boolean (a bare flag on the command line, a bare key in a spec).</summary>
    public bool IsBool => Type == typeof(bool);

    /// <summary>The default as text (<see cref="Optimizers.Format(object)"/>).</summary>
    public string DefaultText => Optimizers.Format(Default);

    /// <summary>The options record's property behind the key.</summary>
    public required PropertyInfo Property { get; init; }
}

/// <summary>What the registry knows of one optimizer: name, one-line description, options record type, the defaults
/// (with the playground default lr) and the options in the record's order (lr first).</summary>
public sealed record OptimizerInfo(string Name, string Description, Type OptionsType, OptimizerOptions Defaults, IReadOnlyList<OptionInfo> Options)
{
    /// <summary>The keys, lr first.</summary>
    public IEnumerable<string> Keys => Options.Select(o => o.Key);

    /// <summary>The option called key ('-' or '_', any case), or null.</summary>
    public OptionInfo? Find(string key)
    {
        string k = Optimizers.NormalizeKey(key);
        return Options.FirstOrDefault(o => o.Key == k);
    }
}

/// <summary>The registry: optimizers by name (sgd, adam, adamw, adabound, alphagrad, ...), their options by key.</summary>
public static class Optimizers
{
    // (Declared before the registry: static fields initialise in textual order.)
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionInfo>> Keys = new();
    private static readonly Type[] Supported = [typeof(double), typeof(bool), typeof(int), typeof(long)];

    /// <summary>
    /// The keys every optimizer takes besides its own options (not in <see cref="OptimizerInfo.Options"/>): lookahead_k
    /// (int, 0 = off) and lookahead_alpha (double, 0.8), held by every options record
    /// (<see cref="OptimizerOptions.LookaheadK"/>). Create wraps the optimizer in <see cref="Lookahead"/> when lookahead_k is not 0. Specs, JSON and With/Get read and
    /// write them like any key; a spec writes them after the optimizer's own.
    /// </summary>
    public static IReadOnlyList<OptionInfo> WrapperOptions { get; } =
    [
        new("lookahead_k", typeof(int), 0) { Property = typeof(OptimizerOptions).GetProperty(nameof(OptimizerOptions.LookaheadK))! },
        new("lookahead_alpha", typeof(double), 0.8) { Property = typeof(OptimizerOptions).GetProperty(nameof(OptimizerOptions.LookaheadAlpha))! },
    ];

    /// <summary>One registered optimizer.</summary>
    private abstract class Registration(OptimizerInfo info)
    {
        public OptimizerInfo Info { get; } = info;
        public abstract Optimizer Build(OptimizerOptions defaults, IEnumerable<(IEnumerable<Tensor> Params, Func<OptimizerOptions, OptimizerOptions>? Override)> groups);
    }

    private sealed class Registration<TOptions>(OptimizerInfo info, Func<IEnumerable<GroupSpec<TOptions>>, TOptions, Optimizer> create)
        : Registration(info) where TOptions : OptimizerOptions
    {
        public override Optimizer Build(OptimizerOptions defaults, IEnumerable<(IEnumerable<Tensor> Params, Func<OptimizerOptions, OptimizerOptions>? Override)> groups)
        {
            if (defaults is not TOptions d)
                throw new ArgumentException($"optimizer '{Info.Name}' takes {typeof(TOptions).Name}, got {defaults.GetType().Name}", nameof(defaults));
            return create(groups.Select(g => new GroupSpec<TOptions>(g.Params, g.Override is { } f ? o => (TOptions)f(o) : null)).ToList(), d);
        }
    }

    /// <summary>A registry line: name, defaults (lr: the playground default), the constructor from param groups and
    /// defaults, a one-line description.</summary>
    private static Registration Entry<TOptions>(string name, TOptions defaults, Func<IEnumerable<GroupSpec<TOptions>>, TOptions, Optimizer> create,
                                                string description) where TOptions : OptimizerOptions
    {
        var options = KeysOf(typeof(TOptions)).Select(k => k with { Default = k.Property.GetValue(defaults)! }).ToList();
        return new Registration<TOptions>(new OptimizerInfo(name, description, typeof(TOptions), defaults, options), create);
    }

    // ---- The registry: one line per optimizer. Defaults are PyTorch 2.x's (SGD, which has none there: 1e-3).
    private static readonly Registration[] Registry =
    [
        Entry("sgd", new SgdOptions(1e-3), (groups, defaults) => new Sgd(groups, defaults), "SGD with momentum, dampening, Nesterov (torch.optim.SGD)"),
        Entry("adam", new AdamOptions(), (groups, defaults) => new Adam(groups, defaults), "Adam / AMSGrad (torch.optim.Adam)"),
        Entry("adamw", new AdamOptions { WeightDecay = 1e-2 }, (groups, defaults) => new AdamW(groups, defaults), "Adam with decoupled weight decay (torch.optim.AdamW)"),
        Entry("adabound", new AdaBoundOptions(), (groups, defaults) => new AdaBound(groups, defaults), "AdaBound / AMSBound / AdaBoundW (Luo et al. 2019, official code)"),
        Entry("alphagrad", new AlphaGradOptions(), (groups, defaults) => new AlphaGrad(groups, defaults), "AlphaGrad: SGD on tanh(alpha*g/||g||) per tensor (CleanRL fork)"),
        Entry("rmsprop", new RmsPropOptions(), (groups, defaults) => new RmsProp(groups, defaults), "RMSprop, centered or not, with momentum (torch.optim.RMSprop)"),
        Entry("adagrad", new AdagradOptions(), (groups, defaults) => new Adagrad(groups, defaults), "Adagrad with lr decay (torch.optim.Adagrad)"),
        Entry("adadelta", new AdadeltaOptions(), (groups, defaults) => new Adadelta(groups, defaults), "Adadelta (torch.optim.Adadelta)"),
        Entry("adamax", new AdamaxOptions(), (groups, defaults) => new Adamax(groups, defaults), "Adamax: Adam under the infinity norm (torch.optim.Adamax)"),
        Entry("nadam", new NAdamOptions(), (groups, defaults) => new NAdam(groups, defaults), "NAdam: Adam with Nesterov momentum (torch.optim.NAdam)"),
        Entry("radam", new RAdamOptions(), (groups, defaults) => new RAdam(groups, defaults), "RAdam: rectified Adam (torch.optim.RAdam)"),
        Entry("asgd", new AsgdOptions(), (groups, defaults) => new Asgd(groups, defaults), "ASGD: SGD with iterate averaging (torch.optim.ASGD)"),
        Entry("rprop", new RpropOptions(), (groups, defaults) => new Rprop(groups, defaults), "Rprop: sign-based steps with per-element step sizes (torch.optim.Rprop)"),
        Entry("lion", new LionOptions(), (groups, defaults) => new Lion(groups, defaults), "Lion: sign of an interpolated momentum (google/automl)"),
        Entry("adan", new AdanOptions(), (groups, defaults) => new Adan(groups, defaults), "Adan: adaptive Nesterov momentum (sail-sg/Adan)"),
        Entry("adabelief", new AdaBeliefOptions(), (groups, defaults) => new AdaBelief(groups, defaults), "AdaBelief: Adam on the belief (g - m)^2 (adabelief_pytorch 0.2)"),
        Entry("laprop", new LaPropOptions(), (groups, defaults) => new LaProp(groups, defaults), "LaProp: momentum over RMS-normalised steps (Z-T-WANG/LaProp-Optimizer)"),
        Entry("schedulefree-adamw", new ScheduleFreeAdamWOptions(), (groups, defaults) => new ScheduleFreeAdamW(groups, defaults), "Schedule-Free AdamW: no lr schedule, Eval() at the average (facebookresearch/schedule_free)"),
        Entry("schedulefree-sgd", new ScheduleFreeSgdOptions(), (groups, defaults) => new ScheduleFreeSgd(groups, defaults), "Schedule-Free SGD: no lr schedule, Eval() at the average (facebookresearch/schedule_free)"),
        Entry("adopt", new AdoptOptions(), (groups, defaults) => new Adopt(groups, defaults), "ADOPT: Adam normalised by the previous second moment, clipped (iShohei220/adopt)"),
        Entry("ademamix", new AdEMAMixOptions(), (groups, defaults) => new AdEMAMix(groups, defaults), "AdEMAMix: Adam with a mixed-in slow EMA, alpha/beta3 warmups (apple/ml-ademamix)"),
        Entry("grams", new GramsOptions(), (groups, defaults) => new Grams(groups, defaults), "Grams: Adam's magnitude in the gradient's direction (Gunale0926/Grams)"),
        Entry("cadamw", new CAdamWOptions(), (groups, defaults) => new CAdamW(groups, defaults), "C-AdamW: AdamW stepping where momentum and gradient agree (kyleliang919/C-Optim)"),
        Entry("clion", new CLionOptions(), (groups, defaults) => new CLion(groups, defaults), "C-Lion: Lion stepping where update and gradient agree (kyleliang919/C-Optim)"),
    ];

    private static readonly Dictionary<string, Registration> ByName = Registry.ToDictionary(r => r.Info.Name);

    /// <summary>The registered names, in registry order.</summary>
    public static IReadOnlyList<string> Names { get; } = Registry.Select(r => r.Info.Name).ToArray();

    /// <summary>Name, description, options (keys, types, defaults) of an optimizer; ArgumentException listing the known
    /// names for an unknown one.</summary>
    public static OptimizerInfo Info(string name) => Get(name).Info;

    /// <summary>The registered name of an options type (the first line registering it: AdamOptions is "adam").</summary>
    public static string NameOf(Type optionsType) =>
        Registry.FirstOrDefault(r => r.Info.OptionsType == optionsType)?.Info.Name
        ?? throw new ArgumentException($"{optionsType.Name} is not the options record of a registered optimizer ({string.Join(", ", Names)})", nameof(optionsType));

    /// <summary>The options of an options type: keys, types, the record's own defaults (not a registry line's).</summary>
    public static IReadOnlyList<OptionInfo> OptionsOf(Type optionsType) => KeysOf(optionsType);

    /// <summary>The defaults of name with the given options applied (keys snake_case or kebab-case).</summary>
    public static OptimizerOptions Options(string name, IReadOnlyDictionary<string, string> options)
    {
        var r = Get(name);
        var o = r.Info.Defaults;
        foreach (var (k, v) in options) o = Set(r.Info.Name, o, k, v);
        return o;
    }

    /// <summary>o with one option replaced by key (snake_case or kebab-case); the value as text.</summary>
    public static OptimizerOptions With(OptimizerOptions o, string key, string value) => Set(NameOf(o.GetType()), o, key, value);

    /// <summary>o with one option replaced by key; the value a double, bool, int or long (converted to the option's type).</summary>
    public static OptimizerOptions With(OptimizerOptions o, string key, object value)
    {
        string name = NameOf(o.GetType());
        var k = Key(name, KeysOf(o.GetType()), key);
        return Assign(o, k, Convert(name, k, value));
    }

    /// <summary>The value of the option key of o (a double, bool, int or long).</summary>
    public static object Get(OptimizerOptions o, string key) => Key(NameOf(o.GetType()), KeysOf(o.GetType()), key).Property.GetValue(o)!;

    /// <summary>Every option of o, key -> value, in the record's order
    /// (the wrapper keys follow when lookahead_k is not 0).</summary>
    public static IEnumerable<(string Key, object Value)> Values(OptimizerOptions o) =>
        KeysOf(o.GetType()).Concat(o.LookaheadK != 0 ? WrapperOptions : []).Select(k => (k.Key, k.Property.GetValue(o)!));

    /// <summary>Builds the optimizer name over groups, each with its overrides of the defaults (keys as in <see cref="Options"/>).</summary>
    public static Optimizer Create(string name, OptimizerOptions defaults,
                                   IEnumerable<(IEnumerable<Tensor> Params, IReadOnlyDictionary<string, string> Overrides)> groups)
    {
        var r = Get(name);
        var opt = r.Build(defaults, groups.Select(g => (g.Params, g.Overrides.Count == 0 ? null
            : (Func<OptimizerOptions, OptimizerOptions>?)(o => g.Overrides.Aggregate(o, (acc, kv) => Set(r.Info.Name, acc, kv.Key, kv.Value))))).ToList());
        foreach (var g in opt.ParamGroups)
            if (g.Options.LookaheadK != defaults.LookaheadK || !g.Options.LookaheadAlpha.Equals(defaults.LookaheadAlpha))
                throw new ArgumentException($"optimizer '{r.Info.Name}': lookahead_k and lookahead_alpha apply to the whole optimizer, not to one param group");
        return defaults.LookaheadK == 0 ? opt : new Lookahead(opt, defaults.LookaheadK, defaults.LookaheadAlpha);
    }

    /// <summary>Builds the optimizer name over one group of parameters with the given options.</summary>
    public static Optimizer Create(string name, IEnumerable<Tensor> parameters, IReadOnlyDictionary<string, string> options) =>
        Create(name, Options(name, options), [(parameters, new Dictionary<string, string>())]);

    /// <summary>Builds the optimizer a spec string names ("adam:lr=3e-4,eps=1e-5") over one group of parameters.</summary>
    public static Optimizer FromSpec(string spec, IEnumerable<Tensor> parameters)
    {
        var (name, args) = Parse(spec);
        return Create(name, parameters, args);
    }

    /// <summary>
    /// Parses "name" or "name:key=value,key=value" ("adam:amsgrad" = "adam:amsgrad=true"). The optimizer, every key
    /// and every value are checked; the args come back with snake_case keys, in the record's order, values as
    /// <see cref="Format(object)"/> writes them.
    /// </summary>
    public static (string Name, IReadOnlyDictionary<string, string> Args) Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':');
        var r = Get(colon < 0 ? spec : spec[..colon]);
        var given = new Dictionary<string, object>();
        if (colon >= 0)
            foreach (var part in spec[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.IndexOf('=');
                string key = eq < 0 ? part : part[..eq].Trim(), text = eq < 0 ? "" : part[(eq + 1)..].Trim();
                var k = Key(r.Info.Name, r.Info.Options, key);
                if (eq < 0 && !k.IsBool)
                    throw new ArgumentException($"optimizer spec '{spec}': option '{k.Key}' needs a value ({k.Key}=...)");
                given[k.Key] = ParseValue(r.Info.Name, k, text);
            }
        var args = new Dictionary<string, string>();
        foreach (var k in r.Info.Options.Concat(WrapperOptions))
            if (given.TryGetValue(k.Key, out var v)) args[k.Key] = Format(v);
        return (r.Info.Name, args);
    }

    /// <summary>The spec string of name and args: "name" or "name:key=value,..." (snake_case keys, in the record's order).</summary>
    public static string Format(string name, IReadOnlyDictionary<string, string> args)
    {
        var r = Get(name);
        var parts = new List<string>();
        var keyed = args.ToDictionary(kv => Key(r.Info.Name, r.Info.Options, kv.Key).Key, kv => kv.Value);
        foreach (var k in r.Info.Options.Concat(WrapperOptions))
            if (keyed.TryGetValue(k.Key, out var v)) parts.Add($"{k.Key}={Format(ParseValue(r.Info.Name, k, v))}");
        return parts.Count == 0 ? r.Info.Name : r.Info.Name + ":" + string.Join(",", parts);
    }

    /// <summary>The text of an option value: doubles round-trip ("R", e.g. 1e-05), booleans true/false.</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The value of option key of optimizer name parsed from text (its type: double, bool, int or long);
    /// ArgumentException naming the key for a bad value or an unknown key.</summary>
    public static object ParseValue(string name, string key, string text)
    {
        var r = Get(name);
        return ParseValue(r.Info.Name, Key(r.Info.Name, r.Info.Options, key), text);
    }

    /// <summary>A key in its one spelling: lower case, '-' as '_'.</summary>
    public static string NormalizeKey(string key) => key.Trim().ToLowerInvariant().Replace('-', '_');

    /// <summary>"WeightDecay" -> "weight_decay", "Beta1" -> "beta1", "Lr" -> "lr".</summary>
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(pascal[i - 1]) || char.IsDigit(pascal[i - 1]))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    // ---- Internals.

    private static Registration Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim().ToLowerInvariant(), out var r) ? r
            : throw new ArgumentException($"unknown optimizer '{name}'; known: {string.Join(", ", Names)}");
    }

    /// <summary>The options of a record type by reflection: public settable properties, lr first, then a base record's
    /// (AdamFamilyOptions), then in declaration order.</summary>
    private static IReadOnlyList<OptionInfo> KeysOf(Type type) => Keys.GetOrAdd(type, t =>
    {
        if (!typeof(OptimizerOptions).IsAssignableFrom(t) || t.IsAbstract)
            throw new ArgumentException($"{t.Name} is not an options record", nameof(type));
        // The record's own defaults: its public constructor with its parameters' defaults (0 where it has none).
        var ctor = t.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
        var defaults = ctor.Invoke(ctor.GetParameters().Select(p => p.HasDefaultValue ? p.DefaultValue : Activator.CreateInstance(p.ParameterType)).ToArray());
        var list = new List<OptionInfo>();
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                           .Where(p => p.CanRead && p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
                           .Where(p => p.DeclaringType != typeof(OptimizerOptions) || p.Name == nameof(OptimizerOptions.Lr))   // not the wrapper keys
                           .OrderBy(p => Depth(p.DeclaringType!)).ThenBy(p => p.MetadataToken))
        {
            if (!Supported.Contains(p.PropertyType))
                throw new InvalidOperationException($"{t.Name}.{p.Name}: option type {p.PropertyType.Name} is not supported (double, bool, int, long)");
            string key = p.GetCustomAttribute<OptionKeyAttribute>()?.Key ?? SnakeCase(p.Name);
            var def = p.GetValue(defaults)!;
            list.Add(new OptionInfo(key, p.PropertyType, def) { Property = p });
        }
        if (list.Select(k => k.Key).Distinct().Count() != list.Count)
            throw new InvalidOperationException($"{t.Name}: two options share a key ({string.Join(", ", list.Select(k => k.Key))})");
        return list;
    });

    /// <summary>How far below OptimizerOptions a type derives (a base record's options come before its derived ones').</summary>
    private static int Depth(Type t) => t == typeof(OptimizerOptions) || t.BaseType is null ? 0 : 1 + Depth(t.BaseType);

    private static OptionInfo Key(string name, IReadOnlyList<OptionInfo> keys, string key)
    {
        string k = NormalizeKey(key);
        return keys.FirstOrDefault(o => o.Key == k) ?? WrapperOptions.FirstOrDefault(o => o.Key == k)
            ?? throw new ArgumentException($"optimizer '{name}' has no option '{key}'; it takes: {string.Join(", ", keys.Select(o => o.Key))}");
    }

    private static OptimizerOptions Set(string name, OptimizerOptions o, string key, string text)
    {
        var k = Key(name, KeysOf(o.GetType()), key);
        return Assign(o, k, ParseValue(name, k, text));
    }

    /// <summary>o with one property set (o with { P = value }, by reflection: the record's clone, then its init setter).</summary>
    private static OptimizerOptions Assign(OptimizerOptions o, OptionInfo k, object value)
    {
        if (k.Key == "lookahead_k" && (int)value != 0) Lookahead.Check((int)value, o.LookaheadAlpha);   // 0: off
        if (k.Key == "lookahead_alpha") Lookahead.Check(1, (double)value);
        var clone = (OptimizerOptions)o.GetType().GetMethod("<Clone>$")!.Invoke(o, null)!;
        k.Property.SetValue(clone, value);
        return clone;
    }

    private static object ParseValue(string name, OptionInfo k, string text)
    {
        string t = text.Trim();
        if (k.Type == typeof(bool))
            return t.ToLowerInvariant() switch
            {
                "true" or "1" or "" => true,
                "false" or "0" => false,
                _ => throw new ArgumentException($"optimizer '{name}': option '{k.Key}': '{text}' is not true or false (1 or 0)"),
            };
        if (k.Type == typeof(int))
            return int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                : throw new ArgumentException($"optimizer '{name}': option '{k.Key}': '{text}' is not an integer");
        if (k.Type == typeof(long))
            return long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l
                : throw new ArgumentException($"optimizer '{name}': option '{k.Key}': '{text}' is not an integer");
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
            : throw new ArgumentException($"optimizer '{name}': option '{k.Key}': '{text}' is not a number");
    }

    private static object Convert(string name, OptionInfo k, object value)
    {
        if (value.GetType() == k.Type) return value;
        double x = value switch
        {
            double d => d, float f => f, int i => i, long l => l,
            bool b => b ? 1 : 0,
            string s => System.Convert.ToDouble(ParseValue(name, k with { Type = typeof(double) }, s), CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"optimizer '{name}': option '{k.Key}': {value.GetType().Name} is not a number"),
        };
        if (k.Type == typeof(bool))
            return x switch { 1.0 => true, 0.0 => false, _ => throw new ArgumentException($"optimizer '{name}': option '{k.Key}': {Format(x)} is not true or false (1 or 0)") };
        if (k.Type == typeof(int))
            return x == Math.Floor(x) && x >= int.MinValue && x <= int.MaxValue ? (int)x
                : throw new ArgumentException($"optimizer '{name}': option '{k.Key}': {Format(x)} is not an integer");
        if (k.Type == typeof(long))
            return x == Math.Floor(x) && x >= long.MinValue && x < 9.2233720368547758e18 ? (long)x
                : throw new ArgumentException($"optimizer '{name}': option '{k.Key}': {Format(x)} is not an integer");
        return x;
    }
}

/// <summary>
/// JSON of any options record through the registry: {"type": "adam", "lr": 0.001, "beta1": 0.9, ...} (the registered
/// name of the record type, then every option by key; doubles round-trip, non-finite ones as strings). Reads keys in
/// either spelling and the record's property names (PascalCase) too.
/// </summary>
public sealed class OptimizerOptionsJsonConverter : JsonConverter<OptimizerOptions>
{
    /// <inheritdoc/>
    public override bool CanConvert(Type typeToConvert) => typeof(OptimizerOptions).IsAssignableFrom(typeToConvert);

    /// <inheritdoc/>
    public override OptimizerOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw new JsonException("optimizer options: expected an object with a \"type\" (the optimizer's name)");
        var info = Optimizers.Info(type.GetString()!);
        var o = info.Defaults;
        foreach (var p in root.EnumerateObject())
        {
            if (p.Name == "type") continue;
            var key = info.Find(p.Name) ?? info.Options.FirstOrDefault(k => k.Property.Name == p.Name)
                ?? Optimizers.WrapperOptions.FirstOrDefault(k => k.Key == Optimizers.NormalizeKey(p.Name) || k.Property.Name == p.Name)
                ?? throw new JsonException($"optimizer '{info.Name}' has no option '{p.Name}'; it takes: {string.Join(", ", info.Keys)}");
            string text = p.Value.ValueKind switch
            {
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Number => p.Value.GetRawText(),
                JsonValueKind.String => p.Value.GetString()!,
                _ => throw new JsonException($"optimizer '{info.Name}': option '{key.Key}': {p.Value.ValueKind} is not a value"),
            };
            o = Optimizers.With(o, key.Key, text);
        }
        return o;
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, OptimizerOptions value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Optimizers.NameOf(value.GetType()));
        foreach (var (key, v) in Optimizers.Values(value))
            switch (v)
            {
                case bool b: writer.WriteBoolean(key, b); break;
                case double d when !double.IsFinite(d): writer.WriteString(key, d.ToString("R", CultureInfo.InvariantCulture)); break;
                case double d: writer.WriteNumber(key, d); break;
                case int i: writer.WriteNumber(key, i); break;
                case long l: writer.WriteNumber(key, l); break;
            }
        writer.WriteEndObject();
    }
}
