// Tensor.Movement: reshape, permute, expand, slice, cat/stack, gather and index-select, with their gradients.
namespace Tiny;

public sealed partial class Tensor
{
    /// <summary>Same data, new shape (one dimension may be -1). Shares storage, like torch.view.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape: only one -1 allowed in [{string.Join(", ", shape)}]");
                infer = i;
            }
            else if (dims[i] < 0) throw new ArgumentException($"Reshape: negative size in [{string.Join(", ", shape)}]");
            else known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0) throw new ArgumentException($"Reshape: cannot reshape {Shape} ({Numel} elements) into [{string.Join(", ", shape)}]");
            dims[infer] = Numel / known;
        }
        var s = new Shape(dims);
        if (s.Numel != Numel) throw new ArgumentException($"Reshape: cannot reshape {Shape} ({Numel} elements) into {s} ({s.Numel} elements)");
        if (s == Shape) return this;
        var r = new Tensor(Storage, s);
        var orig = Shape;
        return Record(r, "Reshape", g => AccumulateGrad(new Tensor(g.Storage, orig)), this);
    }

    /// <summary>Alias of <see cref="Reshape"/> (storage is always contiguous).</summary>
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Flattens dims [startDim, endDim] into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shape.NormalizeAxis(startDim, "Flatten"), e = Shape.NormalizeAxis(endDim, "Flatten");
        var d = new List<int>();
        for (int i = 0; i < s; i++) d.Add(Shape[i]);
        d.Add(Shape.Product(s, e + 1));
        for (int i = e + 1; i < Rank; i++) d.Add(Shape[i]);
        return Reshape(d.ToArray());
    }

    /// <summary>Removes a dimension of size 1.</summary>
    public Tensor Squeeze(int dim)
    {
        int ax = Shape.NormalizeAxis(dim, "Squeeze");
        if (Shape[ax] != 1) return this;
        return Reshape(Shape.Without(ax).ToArray());
    }

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze() => Reshape(Shape.Where(d => d != 1).ToArray());

    /// <summary>Inserts a dimension of size 1 at dim.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int ax = dim < 0 ? dim + Rank + 1 : dim;
        if (ax < 0 || ax > Rank) throw new ArgumentOutOfRangeException(nameof(dim), $"Unsqueeze: dim {dim} out of range for shape {Shape}");
        var d = Shape.ToList();
        d.Insert(ax, 1);
        return Reshape(d.ToArray());
    }

    /// <summary>Reorders dimensions (a copy).</summary>
    public Tensor Permute(params int[] perm)
    {
        if (perm.Length != Rank) throw new ArgumentException($"Permute: {perm.Length} dims given for shape {Shape}");
        var p = new int[Rank];
        var seen = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            p[i] = Shape.NormalizeAxis(perm[i], "Permute");
            if (seen[p[i]]) throw new ArgumentException($"Permute: repeated dim in [{string.Join(", ", perm)}]");
            seen[p[i]] = true;
        }
        var od = new int[Rank];
        var inv = new int[Rank];
        for (int i = 0; i < Rank; i++) { od[i] = Shape[p[i]]; inv[p[i]] = i; }
        var r = new Tensor(Backend.Permute(Storage, Shape, p), new Shape(od));
        return Record(r, "Permute", g => AccumulateGrad(new Tensor(g.Backend.Permute(g.Storage, g.Shape, inv), Shape)), this);
    }

    /// <summary>Swaps two dimensions.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var p = Enumerable.Range(0, Rank).ToArray();
        int a = Shape.NormalizeAxis(dim0, "Transpose"), b = Shape.NormalizeAxis(dim1, "Transpose");
        (p[a], p[b]) = (p[b], p[a]);
        return Permute(p);
    }

    /// <summary>Transpose of a 2-D tensor.</summary>
    public Tensor T => Rank == 2 ? Transpose(0, 1) : throw new InvalidOperationException($"T: needs a 2-D tensor, got shape {Shape}");

    /// <summary>Broadcasts to a larger shape (-1 keeps a dim). A copy; the gradient sums back.</summary>
    public Tensor Expand(params int[] shape)
    {
        var d = (int[])shape.Clone();
        for (int i = 0; i < d.Length; i++)
            if (d[i] == -1)
            {
                int si = i - (d.Length - Rank);
                if (si < 0) throw new ArgumentException($"Expand: -1 not allowed for a new leading dim in [{string.Join(", ", shape)}]");
                d[i] = Shape[si];
            }
        var os = new Shape(d);
        if (Shape.Broadcast(Shape, os, "Expand") != os) throw new ArgumentException($"Expand: cannot expand {Shape} to {os}");
        var r = new Tensor(Backend.Expand(Storage, Shape, os), os);
        return Record(r, "Expand", g => AccumulateReduced(g), this);
    }

    /// <summary>Elements start..start+length-1 along dim (a copy), like torch.narrow.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int ax = Shape.NormalizeAxis(dim, "Narrow");
        if (start < 0) start += Shape[ax];
        if (start < 0 || length < 0 || start + length > Shape[ax])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: [{start}, {start + length}) is outside dim {dim} of shape {Shape}");
        var r = new Tensor(Backend.Slice(Storage, Shape, ax, start, length), Shape.With(ax, length));
        return Record(r, "Narrow", g =>
        {
            var full = ZerosLike();
            Backend.SliceAddInPlace(full.Storage, Shape, ax, start, g.Storage, g.Shape);
            AccumulateGrad(full);
        }, this);
    }

    /// <summary>Elements [start, end) along dim (negative indices count from the end).</summary>
    public Tensor Slice(int dim, int start, int end)
    {
        int n = Shape[dim];
        if (start < 0) start += n;
        if (end < 0) end += n;
        end = Math.Min(end, n);
        return Narrow(dim, start, Math.Max(0, end - start));
    }

    /// <summary>Zero-pads dim with before/after elements (the gradient is the matching slice).</summary>
    public Tensor Pad(int dim, int before, int after)
    {
        int ax = Shape.NormalizeAxis(dim, "Pad");
        if (before < 0 || after < 0) throw new ArgumentException($"Pad: negative padding ({before}, {after}) for shape {Shape}");
        if (before == 0 && after == 0) return this;
        var os = Shape.With(ax, Shape[ax] + before + after);
        var o = Backend.Allocate(DType, os.Numel);
        Backend.SliceAddInPlace(o, os, ax, before, Storage, Shape);
        return Record(new Tensor(o, os), "Pad", g => AccumulateGrad(new Tensor(g.Backend.Slice(g.Storage, os, ax, before, Shape[ax]), Shape)), this);
    }

    /// <summary>Row i of the first dimension, with that dimension removed.</summary>
    public Tensor Select(int dim, int index) => Narrow(dim, index, 1).Squeeze(dim);

    /// <summary>Concatenates along an existing dim.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Cat: no tensors given");
        var first = tensors[0];
        int ax = first.Shape.NormalizeAxis(dim, "Cat");
        int total = 0;
        foreach (var t in tensors)
        {
            first.CheckSameDevice(t, "Cat");
            if (t.Rank != first.Rank) throw new ArgumentException($"Cat: ranks differ ({first.Shape} and {t.Shape})");
            for (int i = 0; i < t.Rank; i++)
                if (i != ax && t.Shape[i] != first.Shape[i]) throw new ArgumentException($"Cat: shapes {first.Shape} and {t.Shape} differ outside dim {dim}");
            total += t.Shape[ax];
        }
        var os = first.Shape.With(ax, total);
        var outS = first.Backend.Allocate(first.DType, os.Numel);
        int off = 0;
        var offsets = new int[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            offsets[i] = off;
            first.Backend.SliceAddInPlace(outS, os, ax, off, tensors[i].Storage, tensors[i].Shape);
            off += tensors[i].Shape[ax];
        }
        var parts = tensors.ToArray();
        return Record(new Tensor(outS, os), "Cat", g =>
        {
            for (int i = 0; i < parts.Length; i++)
                if (parts[i]._requiresGrad)
                    parts[i].AccumulateGrad(new Tensor(g.Backend.Slice(g.Storage, os, ax, offsets[i], parts[i].Shape[ax]), parts[i].Shape));
        }, parts);
    }

    /// <summary>Stacks equal-shaped tensors along a new dim.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack: no tensors given");
        foreach (var t in tensors)
            if (t.Shape != tensors[0].Shape) throw new ArgumentException($"Stack: shapes {tensors[0].Shape} and {t.Shape} differ");
        return Cat(tensors.Select(t => t.Unsqueeze(dim)).ToArray(), dim);
    }

    /// <summary>torch.gather: out[i][j] = this[i][index[i][j]] along dim; index has the output's shape.</summary>
    public Tensor Gather(int dim, int[] index, params int[] indexShape)
    {
        int ax = Shape.NormalizeAxis(dim, "Gather");
        var iS = new Shape(indexShape);
        if (iS.Numel != index.Length) throw new ArgumentException($"Gather: {index.Length} indices do not fill index shape {iS}");
        if (iS.Rank != Rank) throw new ArgumentException($"Gather: index shape {iS} must have the rank of input {Shape}");
        for (int i = 0; i < Rank; i++)
            if (i != ax && iS[i] > Shape[i]) throw new ArgumentException($"Gather: index shape {iS} exceeds input {Shape} at dim {i}");
        var r = new Tensor(Backend.Gather(Storage, Shape, ax, index, iS), iS);
        return Record(r, "Gather", g => AccumulateGrad(new Tensor(Backend.ScatterAdd(Shape, DType, ax, index, iS, g.Storage), Shape)), this);
    }

    /// <summary>torch.gather with an index tensor of whole numbers.</summary>
    public Tensor Gather(int dim, Tensor index) => Gather(dim, index.ToIndexArray("Gather"), index.Shape.ToArray());

    /// <summary>Selects entries of dim by index (rows of a matrix, for example).</summary>
    public Tensor IndexSelect(int dim, int[] indices)
    {
        int ax = Shape.NormalizeAxis(dim, "IndexSelect");
        var os = Shape.With(ax, indices.Length);
        int outer = Shape.Product(0, ax), inner = Shape.Product(ax + 1, Rank);
        var idx = new int[os.Numel];
        for (int o = 0, p = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
                for (int k = 0; k < inner; k++) idx[p++] = indices[j];
        return Gather(ax, idx, os.ToArray());
    }

    /// <summary>The values as int indices; throws if any is not a whole number.</summary>
    public int[] ToIndexArray(string op = "index")
    {
        var d = ToDoubleArray();
        var r = new int[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] != Math.Floor(d[i]) || d[i] < int.MinValue || d[i] > int.MaxValue) throw new ArgumentException($"{op}: index value {d[i]} is not a whole number");
            r[i] = (int)d[i];
        }
        return r;
    }
}
