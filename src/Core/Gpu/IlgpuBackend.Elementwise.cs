// IlgpuBackend's elementwise ops (unary, broadcasting binary, where), data movement (expand, permute, slice,
// gather/scatter) and in-place updates: one kernel launch each, from the kernel set of the storages' dtype.
using ILGPU.Runtime;

namespace Tiny.Gpu;

public sealed partial class IlgpuBackend
{
    // ------------------------------------------------------------ elementwise
    /// <inheritdoc/>
    public Storage Unary(UnaryOp op, Storage x, double a = 0, double b = 0)
    {
        var g = S(x);
        var o = New(g.DType, g.Length);
        if (g.Length == 0) return o;
        K(g.DType).Unary(g, o, op, a, b);
        Sync();
        return o;
    }

    private static int[] BroadcastMeta(Shape outShape, params Shape[] operands)
    {
        int rank = Math.Max(outShape.Rank, 1);
        var oSh = outShape.Rank == 0 ? new Shape(1) : outShape;
        var meta = new int[rank * (1 + operands.Length)];
        for (int d = 0; d < rank; d++) meta[d] = oSh[d];
        for (int j = 0; j < operands.Length; j++)
        {
            var st = Tiny.Cpu.CpuKernels<float>.BroadcastStrides(operands[j], oSh);
            Array.Copy(st, 0, meta, rank * (1 + j), rank);
        }
        return meta;
    }

    /// <inheritdoc/>
    public Storage Binary(BinaryOp op, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape)
    {
        SameType(a, b, op.ToString());
        var ga = S(a); var gb = S(b);
        int n = outShape.Numel;
        var o = New(ga.DType, n);
        if (n == 0) return o;
        K(ga.DType).Binary(n, ga, gb, o, _ints.Meta(BroadcastMeta(outShape, aShape, bShape)), Math.Max(outShape.Rank, 1), op);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage Where(Storage cond, Shape condShape, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape)
    {
        SameType(a, b, "Where");
        var gc = S(cond.DType == a.DType ? cond : Cast(cond, a.DType));
        var ga = S(a); var gb = S(b);
        int n = outShape.Numel;
        var o = New(ga.DType, n);
        if (n == 0) return o;
        K(ga.DType).Where(n, gc, ga, gb, o, _ints.Meta(BroadcastMeta(outShape, condShape, aShape, bShape)), Math.Max(outShape.Rank, 1));
        Sync();
        return o;
    }

    // ------------------------------------------------------------ movement
    private IlgpuStorage StridedCopy(IlgpuStorage x, int[] outDims, int[] strides)
    {
        int n = 1; foreach (int d in outDims) n *= d;
        var o = New(x.DType, n);
        if (n == 0) return o;
        int rank = Math.Max(outDims.Length, 1);
        var meta = new int[2 * rank];
        if (outDims.Length == 0) meta[0] = 1;
        else { Array.Copy(outDims, meta, rank); Array.Copy(strides, 0, meta, rank, rank); }
        K(x.DType).Strided(n, x, o, _ints.Meta(meta), rank);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage Expand(Storage x, Shape xShape, Shape outShape) =>
        StridedCopy(S(x), outShape.ToArray(), outShape.Rank == 0 ? [] : Tiny.Cpu.CpuKernels<float>.BroadcastStrides(xShape, outShape));

    /// <inheritdoc/>
    public Storage Permute(Storage x, Shape xShape, int[] perm)
    {
        var xs = xShape.Strides();
        var dims = new int[perm.Length]; var st = new int[perm.Length];
        for (int d = 0; d < perm.Length; d++) { dims[d] = xShape[perm[d]]; st[d] = xs[perm[d]]; }
        return StridedCopy(S(x), dims, st);
    }

    /// <inheritdoc/>
    public Storage Slice(Storage x, Shape xShape, int axis, int start, int length)
    {
        var g = S(x);
        int outer = xShape.Product(0, axis), len = xShape[axis], inner = xShape.Product(axis + 1, xShape.Rank);
        int n = outer * length * inner;
        var o = New(g.DType, n);
        if (n == 0) return o;
        K(g.DType).Slice(n, g, o, len, inner, start, length);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public void SliceAddInPlace(Storage dst, Shape dstShape, int axis, int start, Storage src, Shape srcShape)
    {
        SameType(dst, src, "SliceAdd");
        var d = S(dst); var s = S(src);
        int len = dstShape[axis], inner = dstShape.Product(axis + 1, dstShape.Rank), count = srcShape[axis];
        int n = s.Length;
        if (n == 0) return;
        K(d.DType).SliceAdd(n, d, s, len, inner, start, count);
        Sync();
        d.BumpVersion();
    }

    private static void CheckIndex(int[] index, Shape xShape, int axis, bool scatter)
    {
        int axisLen = xShape[axis];
        foreach (int j in index)
            if ((uint)j >= (uint)axisLen)
                throw new ArgumentOutOfRangeException(nameof(index), $"{(scatter ? "ScatterAdd" : "Gather")}: index {j} is out of range for axis {axis} of size {axisLen} (shape {xShape})");
    }

    private static int[] GatherMeta(Shape xShape, Shape indexShape)
    {
        int rank = indexShape.Rank;
        var meta = new int[2 * rank];
        var xs = xShape.Strides();
        for (int d = 0; d < rank; d++) { meta[d] = indexShape[d]; meta[rank + d] = xs[d]; }
        return meta;
    }

    /// <inheritdoc/>
    public Storage Gather(Storage x, Shape xShape, int axis, int[] index, Shape indexShape)
    {
        var g = S(x);
        CheckIndex(index, xShape, axis, false);
        int n = indexShape.Numel;
        var o = New(g.DType, n);
        if (n == 0) return o;
        var meta = _ints.Meta(GatherMeta(xShape, indexShape));
        var idx = _ints.RentIndex(index);
        K(g.DType).Gather(n, g, idx.View, o, meta, indexShape.Rank, axis);
        _ints.ReturnIndex(idx);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage ScatterAdd(Shape xShape, DType dtype, int axis, int[] index, Shape indexShape, Storage src)
    {
        var s = S(src);
        CheckIndex(index, xShape, axis, true);
        var o = S(Full(dtype, xShape.Numel, 0));
        int n = indexShape.Numel;
        if (n == 0) return o;
        var meta = _ints.Meta(GatherMeta(xShape, indexShape));
        var idx = _ints.RentIndex(index);
        int lines = n / indexShape[axis]; // one thread per line along axis: see Kernels.ScatterAdd
        K(dtype).ScatterAdd(lines, o, idx.View, s, meta, indexShape.Rank, axis);
        _ints.ReturnIndex(idx);
        Sync();
        return o;
    }

    // ------------------------------------------------------------ in place
    /// <inheritdoc/>
    public void AxpyInPlace(Storage dst, Storage src, double alpha)
    {
        SameType(dst, src, "Axpy");
        var d = S(dst); var s = S(src);
        if (d.Length == 0) return;
        K(d.DType).Axpy(d, s, alpha);
        Sync();
    }

    /// <inheritdoc/>
    public void FillInPlace(Storage dst, double value)
    {
        var d = S(dst);
        if (d.Length == 0) return;
        K(d.DType).Fill(d, value);
        Sync();
    }

    /// <inheritdoc/>
    public void CopyInPlace(Storage dst, Storage src)
    {
        SameType(dst, src, "Copy");
        var d = S(dst); var s = S(src);
        if (d.Length == 0) return;
        CopyView(d, s);
        Sync();
    }

    /// <summary>A device-to-device copy of src into dst (same dtype and length), queued.</summary>
    private static void CopyView(IlgpuStorage dst, IlgpuStorage src)
    {
        if (dst.DType == DType.Float32) dst.View<float>().CopyFrom(src.View<float>()); else dst.View<double>().CopyFrom(src.View<double>());
    }

    /// <inheritdoc/>
    public void ScaleInPlace(Storage dst, double alpha)
    {
        var d = S(dst);
        if (d.Length == 0) return;
        K(d.DType).Scale(d, alpha);
        Sync();
    }
}
