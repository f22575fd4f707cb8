// Space, Discrete and Box: the sets of valid actions and observations of an env, as Gymnasium's spaces.
namespace Tiny.Rl;

/// <summary>The set of valid actions or observations of an env (Gymnasium's <c>gym.Space</c>).</summary>
public abstract class Space
{
    /// <summary>For subclasses.</summary>
    protected Space() { }
}

/// <summary>The integers {0, ..., N-1} (Gymnasium's <c>Discrete(n)</c>).</summary>
public sealed class Discrete : Space, IEquatable<Discrete>
{
    /// <summary>Creates {0, ..., n-1}; n must be positive.</summary>
    public Discrete(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Discrete: n must be positive");
        N = n;
    }

    /// <summary>Number of elements.</summary>
    public int N { get; }

    /// <summary>A uniform element.</summary>
    public int Sample(Rng rng) => rng.NextInt(N);

    /// <summary>Whether 0 &lt;= x &lt; N.</summary>
    public bool Contains(int x) => (uint)x < (uint)N;

    /// <inheritdoc/>
    public bool Equals(Discrete? other) => other is not null && other.N == N;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Discrete);
    /// <inheritdoc/>
    public override int GetHashCode() => N;
    /// <inheritdoc/>
    public override string ToString() => $"Discrete({N})";
}

/// <summary>A box of float32 vectors, Low[i] &lt;= x[i] &lt;= High[i] (Gymnasium's <c>Box</c>); bounds may be infinite.</summary>
public sealed class Box : Space, IEquatable<Box>
{
    private readonly float[] _low, _high;
    private readonly int[] _shape;

    /// <summary>Creates a box with per-element bounds (flattened, row-major) and the given shape.</summary>
    public Box(float[] low, float[] high, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(low); ArgumentNullException.ThrowIfNull(high); ArgumentNullException.ThrowIfNull(shape);
        int dim = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"Box: shape ({string.Join(", ", shape)}) has a non-positive dimension", nameof(shape));
            dim *= d;
        }
        if (low.Length != dim || high.Length != dim)
            throw new ArgumentException($"Box: low has {low.Length} and high {high.Length} elements, shape ({string.Join(", ", shape)}) needs {dim}");
        for (int i = 0; i < dim; i++)
            if (float.IsNaN(low[i]) || float.IsNaN(high[i]) || low[i] > high[i])
                throw new ArgumentException($"Box: bound {i} is [{low[i]}, {high[i]}]");
        _low = (float[])low.Clone(); _high = (float[])high.Clone(); _shape = (int[])shape.Clone();
        Dim = dim;
    }

    /// <summary>Creates a box with the same bounds for every element.</summary>
    public Box(float low, float high, params int[] shape)
        : this(Fill(low, shape), Fill(high, shape), shape) { }

    private static float[] Fill(float v, int[] shape)
    {
        int n = 1; foreach (int d in shape) n *= Math.Max(d, 0);
        var a = new float[n]; Array.Fill(a, v); return a;
    }

    /// <summary>Lower bounds, flattened (a copy).</summary>
    public float[] Low => (float[])_low.Clone();
    /// <summary>Upper bounds, flattened (a copy).</summary>
    public float[] High => (float[])_high.Clone();
    /// <summary>The shape (a copy).</summary>
    public int[] Shape => (int[])_shape.Clone();
    /// <summary>Number of elements (product of the shape).</summary>
    public int Dim { get; }

    /// <summary>Lower bound of element i.</summary>
    public float LowAt(int i) => _low[i];
    /// <summary>Upper bound of element i.</summary>
    public float HighAt(int i) => _high[i];

    /// <summary>
    /// A sample drawn as Gymnasium does (in float64, then rounded to float32): uniform where both bounds are finite,
    /// normal where neither is, shifted exponential where one is.
    /// </summary>
    public float[] Sample(Rng rng)
    {
        var x = new float[Dim];
        Sample(rng, x);
        return x;
    }

    /// <summary>Writes a sample into <paramref name="destination"/> (length Dim).</summary>
    public void Sample(Rng rng, Span<float> destination)
    {
        if (destination.Length != Dim) throw new ArgumentException($"Box.Sample: destination has {destination.Length} elements, the box {Dim}");
        for (int i = 0; i < Dim; i++)
        {
            bool lo = float.IsFinite(_low[i]), hi = float.IsFinite(_high[i]);
            double v = (lo, hi) switch
            {
                (true, true) => rng.Uniform(_low[i], _high[i]),
                (false, false) => rng.NextNormal(),
                (true, false) => _low[i] - Math.Log(1.0 - rng.NextDouble()),
                _ => _high[i] + Math.Log(1.0 - rng.NextDouble()),
            };
            destination[i] = Math.Clamp((float)v, _low[i], _high[i]);
        }
    }

    /// <summary>Whether x has Dim elements, all within the bounds (NaN is never contained).</summary>
    public bool Contains(ReadOnlySpan<float> x)
    {
        if (x.Length != Dim) return false;
        for (int i = 0; i < Dim; i++)
            if (!(x[i] >= _low[i] && x[i] <= _high[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(Box? other) =>
        other is not null && _shape.AsSpan().SequenceEqual(other._shape)
        && _low.AsSpan().SequenceEqual(other._low) && _high.AsSpan().SequenceEqual(other._high);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Box);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Dim, _low.Length > 0 ? _low[0] : 0f, _high.Length > 0 ? _high[0] : 0f);

    /// <inheritdoc/>
    public override string ToString()
    {
        static string B(float[] a) => a.All(v => v == a[0]) ? a[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            : "[" + string.Join(", ", a.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";
        return $"Box({B(_low)}, {B(_high)}, ({string.Join(", ", _shape)}))";
    }
}
