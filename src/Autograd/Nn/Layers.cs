// Layers: Linear, Sequential and the activation modules.
namespace Tiny.Nn;

/// <summary>y = x W^T + b, with PyTorch's default init U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.</summary>
public sealed class Linear : Module
{
    /// <summary>A layer from inFeatures to outFeatures, weight and bias drawn from U(-1/sqrt(inFeatures), 1/sqrt(inFeatures)) with rng.</summary>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true, DType dtype = DType.Float32)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: sizes must be positive, got {inFeatures} -> {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1.0 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Uniform([outFeatures, inFeatures], -bound, bound, rng, dtype));
        Bias = bias ? RegisterParameter("bias", Tensor.Uniform([outFeatures], -bound, bound, rng, dtype)) : null;
    }

    /// <summary>Size of the last dimension of the input.</summary>
    public int InFeatures { get; }
    /// <summary>Size of the last dimension of the output.</summary>
    public int OutFeatures { get; }
    /// <summary>The weight, [OutFeatures, InFeatures] (parameter "weight").</summary>
    public Tensor Weight { get; }
    /// <summary>The bias, [OutFeatures] (parameter "bias"), or null when built without one.</summary>
    public Tensor? Bias { get; }

    /// <summary>x W^T + b for x [..., InFeatures]; the result is [..., OutFeatures].</summary>
    public override Tensor Forward(Tensor x) => Tensor.Linear(x, Weight, Bias);
}

/// <summary>Runs modules in order; children are named "0", "1", ... like torch.nn.Sequential.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = new();

    /// <summary>A Sequential running layers in the given order.</summary>
    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a layer.</summary>
    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>Layer i, in order of addition.</summary>
    public Module this[int i] => _layers[i];
    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>Each layer's Forward applied in turn, the output of one the input of the next; a Linear followed by a
    /// ReLU runs as one <see cref="Tensor.LinearRelu"/> (the same values and gradients, one buffer and pass fewer).</summary>
    public override Tensor Forward(Tensor x)
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_layers[i] is Linear lin && i + 1 < _layers.Count && _layers[i + 1] is ReLU)
            {
                x = Tensor.LinearRelu(x, lin.Weight, lin.Bias);
                i++;
            }
            else x = _layers[i].Forward(x);
        }
        return x;
    }
}

/// <summary>tanh as a module.</summary>
public sealed class Tanh : Module
{
    /// <summary>tanh(x) elementwise.</summary>
    public override Tensor Forward(Tensor x) => x.Tanh();
}

/// <summary>ReLU as a module.</summary>
public sealed class ReLU : Module
{
    /// <summary>max(x, 0) elementwise.</summary>
    public override Tensor Forward(Tensor x) => x.Relu();
}

/// <summary>Sigmoid as a module.</summary>
public sealed class Sigmoid : Module
{
    /// <summary>1 / (1 + e^-x) elementwise.</summary>
    public override Tensor Forward(Tensor x) => x.Sigmoid();
}

/// <summary>Softmax over a dim as a module.</summary>
public sealed class Softmax(int dim = -1) : Module
{
    /// <summary>exp(x) / sum(exp(x)) along this module's dim.</summary>
    public override Tensor Forward(Tensor x) => x.Softmax(dim);
}

/// <summary>Flattens all dims after the first.</summary>
public sealed class Flatten : Module
{
    /// <summary>x reshaped to [N, product of the other dims].</summary>
    public override Tensor Forward(Tensor x) => x.Flatten(1);
}

/// <summary>Builds MLPs: Mlp.Create([4, 64, 64, 2], () => new Tanh(), rng).</summary>
public static class Mlp
{
    /// <summary>Linear layers of the given sizes with an activation between them (none after the last).</summary>
    public static Sequential Create(int[] sizes, Func<Module> activation, Rng rng, DType dtype = DType.Float32)
    {
        if (sizes.Length < 2) throw new ArgumentException("Mlp.Create: need at least input and output sizes");
        var s = new Sequential();
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            s.Add(new Linear(sizes[i], sizes[i + 1], rng, dtype: dtype));
            if (i + 2 < sizes.Length) s.Add(activation());
        }
        return s;
    }
}
