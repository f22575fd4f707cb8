// CpuBackend: IBackend on managed arrays with SIMD kernels (TensorPrimitives, Vector<T>) and our own GEMM.
using System.Numerics.Tensors;

namespace Tiny.Cpu;

/// <summary>The CPU backend: every primitive on managed float[]/double[] arrays.</summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static readonly CpuBackend Instance = new();

    private CpuBackend() { }

    /// <inheritdoc/>
    public string Name => "cpu";
    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    private static CpuStorage S(Storage s) => s as CpuStorage
        ?? throw new ArgumentException($"cpu backend: storage lives on {s.Backend.Name}, not cpu (move tensors with To(device) first)");

    private static void SameType(Storage a, Storage b, string op)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op}: dtype mismatch {a.DType.Name()} vs {b.DType.Name()}");
    }

    /// <summary>An array every element of which the caller overwrites: skipping the zeroing matters for big activations.
    /// Inside a Tensor.Scope it comes from the thread's pool (see <see cref="CpuArrays"/>).</summary>
    private static T[] Uninit<T>(int n) => CpuArrays.Rent<T>(n, zero: false);

    /// <summary>An array of zeros (pooled inside a scope).</summary>
    private static T[] Zeros<T>(int n) => CpuArrays.Rent<T>(n, zero: true);

    // ------------------------------------------------------------ creation
    /// <inheritdoc/>
    public Storage Allocate(DType dtype, int length) =>
        dtype == DType.Float32 ? CpuArrays.Wrap(Zeros<float>(length)) : CpuArrays.Wrap(Zeros<double>(length));

    /// <inheritdoc/>
    public Storage Full(DType dtype, int length, double value)
    {
        if (dtype == DType.Float32) { var a = CpuArrays.Rent<float>(length, zero: value == 0); if (value != 0) Array.Fill(a, (float)value); return CpuArrays.Wrap(a); }
        var d = CpuArrays.Rent<double>(length, zero: value == 0); if (value != 0) Array.Fill(d, value); return CpuArrays.Wrap(d);
    }

    /// <inheritdoc/>
    public Storage FromArray(float[] data) => CopyOf(data);
    /// <inheritdoc/>
    public Storage FromArray(double[] data) => CopyOf(data);

    private static CpuStorage CopyOf<T>(T[] data)
    {
        var a = Uninit<T>(data.Length);
        Array.Copy(data, a, data.Length);
        return CpuArrays.Wrap(a);
    }

    /// <inheritdoc/>
    public float[] ToFloatArray(Storage s)
    {
        var c = S(s);
        if (c.DType == DType.Float32) return (float[])c.F.Clone();
        var r = new float[c.Length];
        TensorPrimitives.ConvertTruncating<double, float>(c.D, r);
        return r;
    }

    /// <inheritdoc/>
    public double[] ToDoubleArray(Storage s)
    {
        var c = S(s);
        if (c.DType == DType.Float64) return (double[])c.D.Clone();
        var r = new double[c.Length];
        TensorPrimitives.ConvertTruncating<float, double>(c.F, r);
        return r;
    }

    /// <inheritdoc/>
    public void CopyToHost<T>(Storage s, Span<T> dst) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        HostCopy.Check<T>(s, dst.Length, "CopyToHost");
        S(s).Get<T>().AsSpan(0, dst.Length).CopyTo(dst);
    }

    /// <inheritdoc/>
    public void CopyFromHost<T>(Storage dst, ReadOnlySpan<T> src) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        HostCopy.Check<T>(dst, src.Length, "CopyFromHost");
        src.CopyTo(S(dst).Get<T>());
    }

    /// <inheritdoc/>
    public double GetItem(Storage s, int index)
    {
        var c = S(s);
        return c.DType == DType.Float32 ? c.F[index] : c.D[index];
    }

    /// <inheritdoc/>
    public Storage Cast(Storage s, DType dtype)
    {
        if (s.DType == dtype) return dtype == DType.Float32 ? CopyOf(S(s).F) : CopyOf(S(s).D);
        return dtype == DType.Float32 ? CpuArrays.Wrap(ToFloatArray(s)) : CpuArrays.Wrap(ToDoubleArray(s));
    }

    /// <inheritdoc/>
    public Storage Uniform(DType dtype, int length, double low, double high, Rng rng)
    {
        if (dtype == DType.Float32)
        {
            var a = Uninit<float>(length);
            for (int i = 0; i < length; i++) a[i] = (float)rng.Uniform(low, high);
            return CpuArrays.Wrap(a);
        }
        var d = Uninit<double>(length);
        for (int i = 0; i < length; i++) d[i] = rng.Uniform(low, high);
        return CpuArrays.Wrap(d);
    }

    /// <inheritdoc/>
    public Storage Normal(DType dtype, int length, double mean, double std, Rng rng)
    {
        if (dtype == DType.Float32)
        {
            var a = Uninit<float>(length);
            for (int i = 0; i < length; i++) a[i] = (float)rng.Normal(mean, std);
            return CpuArrays.Wrap(a);
        }
        var d = Uninit<double>(length);
        for (int i = 0; i < length; i++) d[i] = rng.Normal(mean, std);
        return CpuArrays.Wrap(d);
    }

    // ------------------------------------------------------------ elementwise
    /// <inheritdoc/>
    public Storage Unary(UnaryOp op, Storage x, double a = 0, double b = 0)
    {
        var c = S(x);
        if (c.DType == DType.Float32) { var y = Uninit<float>(c.Length); CpuKernels<float>.Unary(op, c.F, y, a, b); return CpuArrays.Wrap(y); }
        var yd = Uninit<double>(c.Length); CpuKernels<double>.Unary(op, c.D, yd, a, b); return CpuArrays.Wrap(yd);
    }

    /// <inheritdoc/>
    public Storage Binary(BinaryOp op, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape)
    {
        SameType(a, b, op.ToString());
        var ca = S(a); var cb = S(b);
        if (ca.DType == DType.Float32)
        {
            var o = Uninit<float>(outShape.Numel);
            CpuKernels<float>.Binary(op, ca.F, aShape, cb.F, bShape, o, outShape);
            return CpuArrays.Wrap(o);
        }
        var od = Uninit<double>(outShape.Numel);
        CpuKernels<double>.Binary(op, ca.D, aShape, cb.D, bShape, od, outShape);
        return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public Storage Where(Storage cond, Shape condShape, Storage a, Shape aShape, Storage b, Shape bShape, Shape outShape)
    {
        SameType(a, b, "Where");
        var cc = S(cond.DType == a.DType ? cond : Cast(cond, a.DType));
        if (a.DType == DType.Float32)
        {
            var o = Uninit<float>(outShape.Numel);
            CpuKernels<float>.Where(cc.F, condShape, S(a).F, aShape, S(b).F, bShape, o, outShape);
            return CpuArrays.Wrap(o);
        }
        var od = Uninit<double>(outShape.Numel);
        CpuKernels<double>.Where(cc.D, condShape, S(a).D, aShape, S(b).D, bShape, od, outShape);
        return CpuArrays.Wrap(od);
    }

    // ------------------------------------------------------------ reductions
    /// <inheritdoc/>
    public Storage Reduce(ReduceOp op, Storage x, Shape xShape, int axis)
    {
        var c = S(x);
        int outer = xShape.Product(0, axis), len = xShape[axis], inner = xShape.Product(axis + 1, xShape.Rank);
        if (c.DType == DType.Float32)
        {
            var o = Uninit<float>(outer * inner);
            CpuKernels<float>.Reduce(op, c.F, outer, len, inner, o);
            return CpuArrays.Wrap(o);
        }
        var od = Uninit<double>(outer * inner);
        CpuKernels<double>.Reduce(op, c.D, outer, len, inner, od);
        return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public Storage SumToShape(Storage g, Shape gShape, Shape targetShape)
    {
        if (gShape == targetShape) return g;
        int rank = gShape.Rank;
        var t = new int[rank];
        for (int i = 0; i < rank; i++) t[i] = i - (rank - targetShape.Rank) >= 0 ? targetShape[i - (rank - targetShape.Rank)] : 1;
        Storage cur = g;
        Shape curShape = gShape;
        // Merge runs of leading reduced dims into one reduction (the common bias-gradient case).
        int lead = 0;
        while (lead < rank && t[lead] == 1 && gShape[lead] != 1) lead++;
        if (lead > 1)
        {
            var merged = new int[rank - lead + 1];
            merged[0] = gShape.Product(0, lead);
            for (int i = lead; i < rank; i++) merged[i - lead + 1] = gShape[i];
            cur = Reduce(ReduceOp.Sum, cur, new Shape(merged), 0);
            var after = gShape.ToArray();
            for (int i = 0; i < lead; i++) after[i] = 1;
            curShape = new Shape(after);
        }
        for (int i = 0; i < rank; i++)
            if (t[i] == 1 && curShape[i] != 1)
            {
                cur = Reduce(ReduceOp.Sum, cur, curShape, i);
                curShape = curShape.With(i, 1);
            }
        return cur;
    }

    // ------------------------------------------------------------ movement
    /// <inheritdoc/>
    public Storage Expand(Storage x, Shape xShape, Shape outShape)
    {
        var c = S(x);
        if (c.DType == DType.Float32) { var o = Uninit<float>(outShape.Numel); CpuKernels<float>.Expand(c.F, xShape, o, outShape); return CpuArrays.Wrap(o); }
        var od = Uninit<double>(outShape.Numel); CpuKernels<double>.Expand(c.D, xShape, od, outShape); return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public Storage Permute(Storage x, Shape xShape, int[] perm)
    {
        var c = S(x);
        if (c.DType == DType.Float32) { var o = Uninit<float>(c.Length); CpuKernels<float>.Permute(c.F, xShape, perm, o); return CpuArrays.Wrap(o); }
        var od = Uninit<double>(c.Length); CpuKernels<double>.Permute(c.D, xShape, perm, od); return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public Storage Slice(Storage x, Shape xShape, int axis, int start, int length)
    {
        var c = S(x);
        int outer = xShape.Product(0, axis), len = xShape[axis], inner = xShape.Product(axis + 1, xShape.Rank);
        if (c.DType == DType.Float32) { var o = Uninit<float>(outer * length * inner); CpuKernels<float>.Slice(c.F, outer, len, inner, start, length, o); return CpuArrays.Wrap(o); }
        var od = Uninit<double>(outer * length * inner); CpuKernels<double>.Slice(c.D, outer, len, inner, start, length, od); return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public void SliceAddInPlace(Storage dst, Shape dstShape, int axis, int start, Storage src, Shape srcShape)
    {
        SameType(dst, src, "SliceAdd");
        var d = S(dst); var s = S(src);
        int outer = dstShape.Product(0, axis), len = dstShape[axis], inner = dstShape.Product(axis + 1, dstShape.Rank);
        if (d.DType == DType.Float32) CpuKernels<float>.SliceAdd(d.F, outer, len, inner, start, srcShape[axis], s.F);
        else CpuKernels<double>.SliceAdd(d.D, outer, len, inner, start, srcShape[axis], s.D);
    }

    /// <inheritdoc/>
    public Storage Gather(Storage x, Shape xShape, int axis, int[] index, Shape indexShape)
    {
        var c = S(x);
        if (c.DType == DType.Float32) { var o = Uninit<float>(indexShape.Numel); CpuKernels<float>.GatherScatter(c.F, xShape, axis, index, indexShape, o, false); return CpuArrays.Wrap(o); }
        var od = Uninit<double>(indexShape.Numel); CpuKernels<double>.GatherScatter(c.D, xShape, axis, index, indexShape, od, false); return CpuArrays.Wrap(od);
    }

    /// <inheritdoc/>
    public Storage ScatterAdd(Shape xShape, DType dtype, int axis, int[] index, Shape indexShape, Storage src)
    {
        var s = S(src);
        if (dtype == DType.Float32) { var o = Zeros<float>(xShape.Numel); CpuKernels<float>.GatherScatter(o, xShape, axis, index, indexShape, s.F, true); return CpuArrays.Wrap(o); }
        var od = Zeros<double>(xShape.Numel); CpuKernels<double>.GatherScatter(od, xShape, axis, index, indexShape, s.D, true); return CpuArrays.Wrap(od);
    }

    // ------------------------------------------------------------ linear algebra
    /// <inheritdoc/>
    public Storage MatMul(Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB)
    {
        SameType(a, b, "MatMul");
        // Gemm with accumulate: false never reads C, so it need not be zeroed.
        var c = a.DType == DType.Float32 ? CpuArrays.Wrap(Uninit<float>(batch * m * n)) : (Storage)CpuArrays.Wrap(Uninit<double>(batch * m * n));
        MatMulAddInPlace(c, a, b, batch, m, k, n, transA, transB, strideA, strideB, m * n, accumulate: false);
        return c;
    }

    /// <inheritdoc/>
    public void MatMulAddInPlace(Storage c, Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB, int strideC)
        => MatMulAddInPlace(c, a, b, batch, m, k, n, transA, transB, strideA, strideB, strideC, accumulate: true);

    private static void MatMulAddInPlace(Storage c, Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB, int strideC, bool accumulate)
    {
        int lda = transA ? m : k, ldb = transB ? k : n;
        var ca = S(a); var cb = S(b); var cc = S(c);
        for (int i = 0; i < batch; i++)
        {
            if (ca.DType == DType.Float32)
                Gemm.Sgemm(transA, transB, m, n, k, ca.F.AsSpan(i * strideA), lda, cb.F.AsSpan(i * strideB), ldb, cc.F.AsSpan(i * strideC, m * n), n, accumulate);
            else
                Gemm.Dgemm(transA, transB, m, n, k, ca.D.AsSpan(i * strideA), lda, cb.D.AsSpan(i * strideB), ldb, cc.D.AsSpan(i * strideC, m * n), n, accumulate);
        }
    }

    // ------------------------------------------------------------ convolution
    /// <inheritdoc/>
    public Storage Conv2d(Storage x, Storage w, Storage? bias, Conv2dShape s, bool keepPatches, out Storage? patches)
    {
        s.Check(x, w, bias);
        return x.DType == DType.Float32
            ? CpuConv.Forward(S(x).F, S(w).F, bias is null ? null : S(bias).F, s, keepPatches, out patches)
            : CpuConv.Forward(S(x).D, S(w).D, bias is null ? null : S(bias).D, s, keepPatches, out patches);
    }

    /// <inheritdoc/>
    public (Storage? Dx, Storage? Dw, Storage? Db) Conv2dBackward(Storage g, Storage x, Storage w, Storage? patches, Conv2dShape s,
        bool needDx, bool needDw, bool needDb)
    {
        s.Check(x, w, null);
        SameType(g, x, "Conv2dBackward");
        return x.DType == DType.Float32
            ? CpuConv.Backward(S(g).F, S(x).F, S(w).F, patches is null ? null : S(patches).F, s, needDx, needDw, needDb)
            : CpuConv.Backward(S(g).D, S(x).D, S(w).D, patches is null ? null : S(patches).D, s, needDx, needDw, needDb);
    }

    // ------------------------------------------------------------ in place
    /// <inheritdoc/>
    public void AxpyInPlace(Storage dst, Storage src, double alpha)
    {
        SameType(dst, src, "Axpy");
        var d = S(dst); var s = S(src);
        if (d.DType == DType.Float32)
        {
            if (alpha == 1) TensorPrimitives.Add(d.F, s.F, d.F);
            else TensorPrimitives.FusedMultiplyAdd(s.F, (float)alpha, d.F, d.F);
        }
        else
        {
            if (alpha == 1) TensorPrimitives.Add(d.D, s.D, d.D);
            else TensorPrimitives.FusedMultiplyAdd(s.D, alpha, d.D, d.D);
        }
    }

    /// <inheritdoc/>
    public void FillInPlace(Storage dst, double value)
    {
        var d = S(dst);
        if (d.DType == DType.Float32) Array.Fill(d.F, (float)value); else Array.Fill(d.D, value);
    }

    /// <inheritdoc/>
    public void CopyInPlace(Storage dst, Storage src)
    {
        SameType(dst, src, "Copy");
        Array.Copy(S(src).Data, S(dst).Data, dst.Length);
    }

    /// <inheritdoc/>
    public void ScaleInPlace(Storage dst, double alpha)
    {
        var d = S(dst);
        if (d.DType == DType.Float32) TensorPrimitives.Multiply(d.F, (float)alpha, d.F); else TensorPrimitives.Multiply(d.D, alpha, d.D);
    }

    // ------------------------------------------------------------ fused
    /// <inheritdoc/>
    public Storage LogSoftmax(Storage x, int rows, int cols)
    {
        var c = S(x);
        if (c.DType == DType.Float32) { var y = Uninit<float>(c.Length); CpuKernels<float>.LogSoftmax(c.F, y, rows, cols); return CpuArrays.Wrap(y); }
        var yd = Uninit<double>(c.Length); CpuKernels<double>.LogSoftmax(c.D, yd, rows, cols); return CpuArrays.Wrap(yd);
    }

    /// <inheritdoc/>
    public Storage LogSoftmaxBackward(Storage y, Storage g, int rows, int cols)
    {
        var cy = S(y); var cg = S(g);
        if (cy.DType == DType.Float32) { var d = Uninit<float>(cy.Length); CpuKernels<float>.LogSoftmaxBackward(cy.F, cg.F, d, rows, cols); return CpuArrays.Wrap(d); }
        var dd = Uninit<double>(cy.Length); CpuKernels<double>.LogSoftmaxBackward(cy.D, cg.D, dd, rows, cols); return CpuArrays.Wrap(dd);
    }

    /// <inheritdoc/>
    public Storage Linear(Storage x, Storage w, Storage? bias, int rows, int inF, int outF) => Linear(x, w, bias, rows, inF, outF, relu: false);

    /// <inheritdoc/>
    public Storage LinearRelu(Storage x, Storage w, Storage? bias, int rows, int inF, int outF) => Linear(x, w, bias, rows, inF, outF, relu: true);

    /// <summary>y = relu?(x W^T + b) in one GEMM: the bias is added and the ReLU applied as each tile of y is stored
    /// (Gemm's epilogue; the bits of bias rows, an accumulating GEMM and a ReLU pass).</summary>
    private Storage Linear(Storage x, Storage w, Storage? bias, int rows, int inF, int outF, bool relu)
    {
        SameType(x, w, "Linear");
        if (bias is not null) SameType(x, bias, "Linear");
        // Every element is written: the GEMM never reads C.
        if (x.DType == DType.Float32)
        {
            var y = Uninit<float>(rows * outF);
            Gemm.Sgemm(false, true, rows, outF, inF, S(x).F, inF, S(w).F, inF, y, outF, bias is null ? default : S(bias).F.AsSpan(0, outF), relu);
            return CpuArrays.Wrap(y);
        }
        var yd = Uninit<double>(rows * outF);
        Gemm.Dgemm(false, true, rows, outF, inF, S(x).D, inF, S(w).D, inF, yd, outF, bias is null ? default : S(bias).D.AsSpan(0, outF), relu);
        return CpuArrays.Wrap(yd);
    }

    /// <inheritdoc/>
    public (Storage Gz, Storage? Sums) ReluBackwardSums(Storage y, Storage g, int rows, int cols, bool withSums)
    {
        SameType(y, g, "ReluBackward");
        var cy = S(y); var cg = S(g);
        if (withSums && cols == 1)   // a column of one: Reduce sums it with TensorPrimitives.Sum, another order
            return IBackend.UnfusedReluBackwardSums(this, y, g, rows, cols, withSums);
        return cy.DType == DType.Float32 ? Fused(cy.F, cg.F) : Fused(cy.D, cg.D);

        (Storage, Storage?) Fused<T>(T[] yv, T[] gv) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var o = Uninit<T>(cy.Length);
            var sums = withSums ? Uninit<T>(cols) : null;
            CpuKernels<T>.ReluBackwardSums(yv, gv, o, rows, cols, sums);
            return (CpuArrays.Wrap(o), sums is null ? null : CpuArrays.Wrap(sums));
        }
    }

    /// <inheritdoc/>
    public void FusedMap<TMap, T>(in TMap c, Storage x, Storage y, ReadOnlySpan<Storage?> states, PrePass pre = PrePass.None)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var xs = S(x); var ys = S(y);
        foreach (var st in states) if (st is not null) S(st);
        FusedChecks.Validate<TMap, T>(x, y, states);
        var yv = ys.Get<T>().AsSpan(0, ys.Length);
        T r = pre == PrePass.L2NormOfY ? TorchNorm.L2<T>(yv) : T.Zero;
        CpuFused.Run(c, r, xs.Get<T>(), ys.Get<T>(), xs.Length, states);
        xs.BumpVersion();
    }

    /// <inheritdoc/>
    public void FusedMap<TMap, TCount, T>(in TMap c, in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where TCount : unmanaged, IFusedMap<TCount, T>
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var xs = S(x); var ys = S(y);
        foreach (var st in states) if (st is not null) S(st);
        FusedChecks.Validate<TMap, T>(x, y, states);
        var xv = xs.Get<T>().AsSpan(0, xs.Length);
        var yv = ys.Get<T>().AsSpan(0, ys.Length);
        long n = CpuFused.CountPositive(count, xv, yv, states);
        CpuFused.Run(c, T.CreateTruncating(n), xs.Get<T>(), ys.Get<T>(), xs.Length, states);   // the count rounded to T (nearest), as on a device
        xs.BumpVersion();
    }
}
