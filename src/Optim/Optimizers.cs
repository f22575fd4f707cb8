// Builds an optimizer from its name and options given as strings with PyTorch's names (for the CLI and tests).
using System.Globalization;

namespace Tiny.Optim;

/// <summary>Optimizers by name: sgd, adam, adamw, adabound, alphagrad.</summary>
public static class Optimizers
{
    public static readonly string[] Names = ["sgd", "adam", "adamw", "adabound", "alphagrad"];

    /// <summary>The constructor defaults of name with the given options (PyTorch names: lr, weight_decay, betas...).</summary>
    public static OptimizerOptions Options(string name, IReadOnlyDictionary<string, string> options)
    {
        OptimizerOptions o = name switch
        {
            "sgd" => new SgdOptions(options.TryGetValue("lr", out var lr) ? D("lr", lr)
                     : throw new ArgumentException("sgd: the learning rate lr is required (torch: required parameter lr)", "lr")),
            "adam" => new AdamOptions(),
            "adamw" => new AdamOptions { WeightDecay = 1e-2 },
            "adabound" => new AdaBoundOptions(),
            "alphagrad" => new AlphaGradOptions(),
            _ => throw new ArgumentException($"unknown optimizer '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
        };
        foreach (var (k, v) in options) o = With(o, k, v);
        return o;
    }

    /// <summary>An option of o replaced, by its PyTorch name.</summary>
    public static OptimizerOptions With(OptimizerOptions o, string key, string value)
    {
        double d() => D(key, value);
        bool b() => B(key, value);
        return (o, key) switch
        {
            (_, "lr") => o with { Lr = d() },
            (SgdOptions s, "momentum") => s with { Momentum = d() },
            (SgdOptions s, "dampening") => s with { Dampening = d() },
            (SgdOptions s, "nesterov") => s with { Nesterov = b() },
            (SgdOptions s, "weight_decay") => s with { WeightDecay = d() },
            (SgdOptions s, "maximize") => s with { Maximize = b() },
            (AdamOptions a, "beta1") => a with { Beta1 = d() },
            (AdamOptions a, "beta2") => a with { Beta2 = d() },
            (AdamOptions a, "eps") => a with { Eps = d() },
            (AdamOptions a, "weight_decay") => a with { WeightDecay = d() },
            (AdamOptions a, "amsgrad") => a with { Amsgrad = b() },
            (AdamOptions a, "maximize") => a with { Maximize = b() },
            (AdaBoundOptions a, "beta1") => a with { Beta1 = d() },
            (AdaBoundOptions a, "beta2") => a with { Beta2 = d() },
            (AdaBoundOptions a, "final_lr") => a with { FinalLr = d() },
            (AdaBoundOptions a, "gamma") => a with { Gamma = d() },
            (AdaBoundOptions a, "eps") => a with { Eps = d() },
            (AdaBoundOptions a, "weight_decay") => a with { WeightDecay = d() },
            (AdaBoundOptions a, "amsbound") => a with { AmsBound = b() },
            (AdaBoundOptions a, "adaboundw") => a with { Decoupled = b() },
            (AlphaGradOptions a, "alpha") => a with { Alpha = d() },
            (AlphaGradOptions a, "eps") => a with { Eps = d() },
            (AlphaGradOptions a, "momentum") => a with { Momentum = d() },
            (AlphaGradOptions a, "dampening") => a with { Dampening = d() },
            (AlphaGradOptions a, "nesterov") => a with { Nesterov = b() },
            (AlphaGradOptions a, "weight_decay") => a with { WeightDecay = d() },
            (AlphaGradOptions a, "maximize") => a with { Maximize = b() },
            _ => throw new ArgumentException($"option '{key}' does not apply to {o.GetType().Name}", key),
        };
    }

    /// <summary>Builds the optimizer for name over groups, each with its overrides of the defaults.</summary>
    public static Optimizer Create(string name, OptimizerOptions defaults,
                                   IEnumerable<(IEnumerable<Tensor> Params, IReadOnlyDictionary<string, string> Overrides)> groups)
    {
        GroupSpec<TO> Spec<TO>((IEnumerable<Tensor> Params, IReadOnlyDictionary<string, string> Overrides) g) where TO : OptimizerOptions =>
            new(g.Params, o => (TO)g.Overrides.Aggregate((OptimizerOptions)o, (acc, kv) => With(acc, kv.Key, kv.Value)));
        var gs = groups.ToList();
        return name switch
        {
            "sgd" => new Sgd(gs.Select(Spec<SgdOptions>), (SgdOptions)defaults),
            "adam" => new Adam(gs.Select(Spec<AdamOptions>), (AdamOptions)defaults),
            "adamw" => new AdamW(gs.Select(Spec<AdamOptions>), (AdamOptions)defaults),
            "adabound" => new AdaBound(gs.Select(Spec<AdaBoundOptions>), (AdaBoundOptions)defaults),
            "alphagrad" => new AlphaGrad(gs.Select(Spec<AlphaGradOptions>), (AlphaGradOptions)defaults),
            _ => throw new ArgumentException($"unknown optimizer '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
        };
    }

    /// <summary>Builds the optimizer for name over one group of parameters.</summary>
    public static Optimizer Create(string name, IEnumerable<Tensor> parameters, IReadOnlyDictionary<string, string> options) =>
        Create(name, Options(name, options), [(parameters, new Dictionary<string, string>())]);

    private static double D(string key, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x
        : throw new ArgumentException($"option {key}: '{v}' is not a number", key);

    private static bool B(string key, string v) => v.ToLowerInvariant() switch
    {
        "true" or "1" or "" => true,
        "false" or "0" => false,
        _ => throw new ArgumentException($"option {key}: '{v}' is not true or false", key),
    };
}
