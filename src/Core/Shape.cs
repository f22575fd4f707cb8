// Shape: the dimensions of a tensor, with broadcasting and axis helpers.
using System.Collections;

namespace Tiny;

/// <summary>Immutable list of dimension sizes, row-major (C order).</summary>
public sealed class Shape : IReadOnlyList<int>, IEquatable<Shape>
{
    private readonly int[] _dims;

    /// <summary>Creates a shape; every dimension must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long n = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Shape: negative dimension in [{string.Join(", ", dims)}]");
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"Shape: [{string.Join(", ", dims)}] has more than {int.MaxValue} elements");
        }
        _dims = (int[])dims.Clone();
        Numel = (int)n;
    }

    /// <summary>The shape of a scalar (rank 0).</summary>
    public static readonly Shape Scalar = new();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>Number of elements (product of the dimensions; 1 for a scalar).</summary>
    public int Numel { get; }

    /// <summary>Size of dimension i (negative i counts from the end).</summary>
    public int this[int index] => _dims[NormalizeAxis(index, "Shape")];

    /// <summary>Number of dimensions (same as <see cref="Rank"/>).</summary>
    public int Count => _dims.Length;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => (int[])_dims.Clone();

    internal ReadOnlySpan<int> Dims => _dims;

    /// <summary>Contiguous row-major strides, in elements.</summary>
    public int[] Strides()
    {
        var s = new int[_dims.Length];
        int acc = 1;
        for (int i = _dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= _dims[i]; }
        return s;
    }

    /// <summary>Maps a possibly negative axis to [0, Rank) or throws naming the op.</summary>
    public int NormalizeAxis(int axis, string op)
    {
        int r = _dims.Length;
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r) throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for shape {this}");
        return a;
    }

    /// <summary>The product of dims [from, to).</summary>
    public int Product(int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++) p *= _dims[i];
        return p;
    }

    /// <summary>NumPy broadcasting of two shapes; throws naming the op and both shapes when incompatible.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        if (a.Equals(b)) return a;
        int r = Math.Max(a.Rank, b.Rank);
        var d = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Rank) >= 0 ? a._dims[i - (r - a.Rank)] : 1;
            int db = i - (r - b.Rank) >= 0 ? b._dims[i - (r - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} cannot be broadcast (dim {i}: {da} vs {db})");
            d[i] = da == 1 ? db : da;
        }
        return new Shape(d);
    }

    /// <summary>A new shape with dimension axis replaced.</summary>
    public Shape With(int axis, int size)
    {
        var d = ToArray();
        d[axis] = size;
        return new Shape(d);
    }

    /// <summary>A new shape with dimension axis removed.</summary>
    public Shape Without(int axis)
    {
        var d = new int[_dims.Length - 1];
        for (int i = 0, j = 0; i < _dims.Length; i++) if (i != axis) d[j++] = _dims[i];
        return new Shape(d);
    }

    /// <summary>True when other has the same dimensions in the same order.</summary>
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    /// <summary>True when obj is a Shape with the same dimensions in the same order.</summary>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <summary>A hash of the dimensions, consistent with Equals.</summary>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }
    /// <summary>True when both are null or both have the same dimensions.</summary>
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);
    /// <summary>True unless both are null or both have the same dimensions.</summary>
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>Prints like [3, 4].</summary>
    public override string ToString() => "[" + string.Join(", ", _dims) + "]";

    /// <summary>Enumerates the dimensions, outermost first.</summary>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();

    /// <summary>A shape with the given dimensions (a copy of the array).</summary>
    public static implicit operator Shape(int[] dims) => new(dims);
}
