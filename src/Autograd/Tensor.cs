// Tensor: an n-dimensional array on a device, with the autograd bookkeeping (grad, parents, backward rule).
using System.Globalization;
using System.Text;

namespace Tiny;

/// <summary>
/// An n-dimensional array of float32 or float64 on a device, recording the ops that made it when gradients are on.
/// Reads like PyTorch: <c>var y = (x.MatMul(w) + b).Tanh(); y.Sum().Backward(); w.Grad</c>.
/// </summary>
public sealed partial class Tensor
{
    private Storage _storage;
    private bool _requiresGrad;

    internal Tensor(Storage storage, Shape shape)
    {
        if (storage.Length != shape.Numel) throw new ArgumentException($"Tensor: storage of {storage.Length} elements does not fit shape {shape}");
        _storage = storage;
        Shape = shape;
    }

    /// <summary>The data; throws once a <see cref="Scope"/> has released it.</summary>
    internal Storage Storage
    {
        get
        {
            var s = _storage;
            if (s.Scope == ScopeState.Released)
                throw new InvalidOperationException($"Tensor of shape {Shape}{(Name is null ? "" : $" ({Name})")} was released by a Tensor.Scope when the scope was disposed; call Keep() on it inside the scope to use it afterwards");
            return s;
        }
        set => _storage = value;
    }

    /// <summary>True once a <see cref="Scope"/> has released this tensor's data (any use then throws).</summary>
    public bool IsReleased => _storage.IsReleased;

    /// <summary>Dimensions.</summary>
    public Shape Shape { get; private set; }

    /// <summary>Element type.</summary>
    public DType DType => Storage.DType;

    /// <summary>Device holding the data.</summary>
    public Device Device => Storage.Backend.Device;

    internal IBackend Backend => Storage.Backend;

    /// <summary>Number of elements.</summary>
    public int Numel => Shape.Numel;

    /// <summary>Rank.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Size of one dimension (negative counts from the end).</summary>
    public int Size(int dim) => Shape[dim];

    /// <summary>Optional name (set by modules for their parameters).</summary>
    public string? Name { get; set; }

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value) throw new InvalidOperationException("RequiresGrad: can only be turned off on leaf tensors; use Detach() for non-leaves");
            if (value && IsLeaf) Storage.Keep();   // a leaf that learns (a parameter) outlives any scope
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient (leaves, or non-leaves after RetainGrad()). A leaf's gradient outlives any
    /// <see cref="Scope"/> (it accumulates across steps); a non-leaf's belongs to the scope that made it.</summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            if (value is not null && IsLeaf) value.Storage.Keep();
            _grad = value;
        }
    }
    private Tensor? _grad;

    // ---------------------------------------------------------------- creation
    /// <summary>Wraps a copy of data with the given shape (float32).</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => FromArray(data, shape, null);

    /// <summary>Wraps a copy of data with the given shape (float64).</summary>
    public static Tensor FromArray(double[] data, params int[] shape) => FromArray(data, shape, null);

    /// <summary>Copies data onto device (default CPU) with the given shape; an empty shape means [data.Length].</summary>
    public static Tensor FromArray(float[] data, int[] shape, Device? device)
    {
        var s = shape.Length == 0 ? new Shape(data.Length) : new Shape(shape);
        CheckCount(data.Length, s);
        return new Tensor((device ?? Device.Cpu).Backend.FromArray(data), s);
    }

    /// <summary>Copies data onto device (default CPU) with the given shape; an empty shape means [data.Length].</summary>
    public static Tensor FromArray(double[] data, int[] shape, Device? device)
    {
        var s = shape.Length == 0 ? new Shape(data.Length) : new Shape(shape);
        CheckCount(data.Length, s);
        return new Tensor((device ?? Device.Cpu).Backend.FromArray(data), s);
    }

    private static void CheckCount(int n, Shape s)
    {
        if (n != s.Numel) throw new ArgumentException($"FromArray: {n} values do not fill shape {s} ({s.Numel} elements)");
    }

    /// <summary>From a 2-D array.</summary>
    public static Tensor From(float[,] data)
    {
        var flat = new float[data.Length];
        Buffer.BlockCopy(data, 0, flat, 0, data.Length * 4);
        return FromArray(flat, data.GetLength(0), data.GetLength(1));
    }

    /// <summary>From a 2-D array.</summary>
    public static Tensor From(double[,] data)
    {
        var flat = new double[data.Length];
        Buffer.BlockCopy(data, 0, flat, 0, data.Length * 8);
        return FromArray(flat, data.GetLength(0), data.GetLength(1));
    }

    /// <summary>A scalar (rank-0) tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device? device = null) =>
        new((device ?? Device.Cpu).Backend.Full(dtype, 1, value), Shape.Scalar);

    /// <summary>Zeros of the given shape (float32, CPU).</summary>
    public static Tensor Zeros(params int[] shape) => Full(shape, 0.0);

    /// <summary>Ones of the given shape (float32, CPU).</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1.0);

    /// <summary>Zeros with dtype and device.</summary>
    public static Tensor Zeros(int[] shape, DType dtype, Device? device = null) => Full(shape, 0.0, dtype, device);

    /// <summary>Ones with dtype and device.</summary>
    public static Tensor Ones(int[] shape, DType dtype, Device? device = null) => Full(shape, 1.0, dtype, device);

    /// <summary>A tensor filled with value.</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        var s = new Shape(shape);
        return new Tensor((device ?? Device.Cpu).Backend.Full(dtype, s.Numel, value), s);
    }

    /// <summary>Zeros with this tensor's shape, dtype and device.</summary>
    public Tensor ZerosLike() => new(Backend.Full(DType, Numel, 0), Shape);

    /// <summary>Ones with this tensor's shape, dtype and device.</summary>
    public Tensor OnesLike() => new(Backend.Full(DType, Numel, 1), Shape);

    /// <summary>[start, start+step, ...) below end, like torch.arange.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException("Arange: step must be non-zero");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var d = new double[n];
        for (int i = 0; i < n; i++) d[i] = start + i * step;
        return FromArray(d, n).To(dtype);
    }

    /// <summary>Arange with one argument: [0, end).</summary>
    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>The n x n identity.</summary>
    public static Tensor Eye(int n, DType dtype = DType.Float32)
    {
        var d = new double[n * n];
        for (int i = 0; i < n; i++) d[i * n + i] = 1;
        return FromArray(d, n, n).To(dtype);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Rng rng, DType dtype = DType.Float32) => Uniform(shape, 0, 1, rng, dtype);

    /// <summary>Standard normal.</summary>
    public static Tensor Randn(int[] shape, Rng rng, DType dtype = DType.Float32) => Normal(shape, 0, 1, rng, dtype);

    /// <summary>Uniform in [low, high).</summary>
    public static Tensor Uniform(int[] shape, double low, double high, Rng rng, DType dtype = DType.Float32, Device? device = null)
    {
        var s = new Shape(shape);
        return new Tensor((device ?? Device.Cpu).Backend.Uniform(dtype, s.Numel, low, high, rng), s);
    }

    /// <summary>Normal(mean, std).</summary>
    public static Tensor Normal(int[] shape, double mean, double std, Rng rng, DType dtype = DType.Float32, Device? device = null)
    {
        var s = new Shape(shape);
        return new Tensor((device ?? Device.Cpu).Backend.Normal(dtype, s.Numel, mean, std, rng), s);
    }

    // ---------------------------------------------------------------- reading out
    /// <summary>The values as float[] (a copy, row-major).</summary>
    public float[] ToArray() => Backend.ToFloatArray(Storage);

    /// <summary>The values as double[] (a copy, row-major).</summary>
    public double[] ToDoubleArray() => Backend.ToDoubleArray(Storage);

    /// <summary>The value of a one-element tensor.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item: tensor of shape {Shape} has {Numel} elements, not 1");
        return Backend.GetItem(Storage, 0);
    }

    /// <summary>Element at a flat row-major index.</summary>
    public double At(int flatIndex) => Backend.GetItem(Storage, flatIndex);

    /// <summary>Copies the values into dst (Numel elements; a float32 tensor), waiting for the device.</summary>
    public void CopyTo(Span<float> dst) => Backend.CopyToHost(Storage, dst);

    /// <summary>Copies the values into dst (Numel elements; a float64 tensor), waiting for the device.</summary>
    public void CopyTo(Span<double> dst) => Backend.CopyToHost(Storage, dst);

    /// <summary>Span over the data in host memory (float32, on the CPU). Throws for other dtypes and devices.</summary>
    public Span<float> DataF => Storage.AsSpan<float>();

    /// <summary>Span over the data in host memory (float64, on the CPU). Throws for other dtypes and devices.</summary>
    public Span<double> DataD => Storage.AsSpan<double>();

    /// <summary>This tensor in another dtype (a copy; gradients flow back through the cast).</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var r = new Tensor(Backend.Cast(Storage, dtype), Shape);
        return Record(r, "To", g => AccumulateGrad(g.To(DType)), this);
    }

    /// <summary>This tensor on another device (a copy).</summary>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        var b = device.Backend;
        var s = DType == DType.Float32 ? b.FromArray(ToArray()) : b.FromArray(ToDoubleArray());
        var r = new Tensor(s, Shape);
        var src = Device;
        return Record(r, "ToDevice", g => AccumulateGrad(g.To(src)), this);
    }

    /// <summary>Prints like PyTorch: tensor([[1.0000, 2.0000], ...], dtype=float64).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        var v = ToDoubleArray();
        if (Rank == 0) sb.Append(Fmt(v[0]));
        else AppendLevel(sb, v, 0, 0, 7);
        if (DType != DType.Float32) sb.Append(", dtype=").Append(DType.Name());
        if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private static string Fmt(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);

    private void AppendLevel(StringBuilder sb, double[] v, int dim, int offset, int indent)
    {
        sb.Append('[');
        int n = Shape[dim];
        int stride = Shape.Product(dim + 1, Rank);
        bool elide = n > 8;
        for (int i = 0; i < n; i++)
        {
            if (elide && i == 3) { sb.Append("..., "); i = n - 3; }
            if (dim == Rank - 1) sb.Append(Fmt(v[offset + i]));
            else AppendLevel(sb, v, dim + 1, offset + i * stride, indent + 1);
            if (i < n - 1) sb.Append(dim == Rank - 1 ? ", " : ",\n" + new string(' ', indent + dim + 1));
        }
        sb.Append(']');
    }
}
