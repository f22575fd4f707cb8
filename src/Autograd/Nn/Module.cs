// Module: the base of every layer: named parameters, child modules, train/eval mode, device moves, checkpoints.
namespace Tiny.Nn;

/// <summary>A layer or model: owns parameters and child modules, like torch.nn.Module.</summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Param)> _params = new();
    private readonly List<(string Name, Module Child)> _children = new();

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a parameter (RequiresGrad is turned on) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor p)
    {
        p.RequiresGrad = true;
        p.Name = name;
        _params.Add((name, p));
        return p;
    }

    /// <summary>Registers a child module and returns it.</summary>
    protected T RegisterModule<T>(string name, T child) where T : Module
    {
        _children.Add((name, child));
        return child;
    }

    /// <summary>The forward computation.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>All parameters, this module's first, then the children's in registration order.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>Parameters with dotted names ("0.weight", "actor.2.bias").</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _params) yield return new(prefix + n, p);
        foreach (var (n, c) in _children)
            foreach (var kv in c.NamedParameters(prefix + n + ".")) yield return kv;
    }

    /// <summary>Direct children.</summary>
    public IEnumerable<Module> Children() => _children.Select(c => c.Child);

    /// <summary>Training mode (on by default).</summary>
    public Module Train(bool on = true)
    {
        Training = on;
        foreach (var (_, c) in _children) c.Train(on);
        return this;
    }

    /// <summary>Evaluation mode.</summary>
    public Module Eval() => Train(false);

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad?.FillInPlace(0);
    }

    /// <summary>Number of scalar parameters.</summary>
    public int ParameterCount => Parameters().Sum(p => p.Numel);

    /// <summary>Copies the values of another module with the same structure (target networks).</summary>
    public void CopyFrom(Module other)
    {
        var src = other.NamedParameters().ToList();
        var dst = NamedParameters().ToList();
        if (src.Count != dst.Count) throw new ArgumentException($"CopyFrom: {src.Count} parameters vs {dst.Count}");
        using var _ = Tensor.NoGrad();
        for (int i = 0; i < src.Count; i++)
        {
            if (src[i].Value.Shape != dst[i].Value.Shape) throw new ArgumentException($"CopyFrom: {dst[i].Key} has shape {dst[i].Value.Shape}, source {src[i].Value.Shape}");
            dst[i].Value.CopyFrom(src[i].Value);
        }
    }

    /// <summary>Moves every parameter to a device (in place: the module keeps its identity).</summary>
    public Module To(Device device)
    {
        using var _ = Tensor.NoGrad();
        foreach (var (_, p) in _params) p.MoveTo(device);
        foreach (var (_, c) in _children) c.To(device);
        return this;
    }

    /// <summary>Converts every parameter to a dtype in place.</summary>
    public Module To(DType dtype)
    {
        foreach (var (_, p) in _params) p.ConvertTo(dtype);
        foreach (var (_, c) in _children) c.To(dtype);
        return this;
    }

    /// <summary>Writes the parameters to a safetensors file.</summary>
    public void Save(string path) => Safetensors.Save(path, NamedParameters());

    /// <summary>
    /// Loads parameters from a safetensors file. Names and shapes must match exactly; on any error the module
    /// is left unchanged.
    /// </summary>
    public void Load(string path) => Safetensors.LoadInto(path, NamedParameters().ToList());
}
