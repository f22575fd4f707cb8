// KernelSet: the kernels of one element type, loaded once per accelerator, behind launches that take storages.
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

/// <summary>The launches of the tensor kernels for the element type of the storages given (IlgpuBackend picks the set by
/// dtype). Each launch is queued on the accelerator's default stream; n is the number of threads.</summary>
internal abstract class KernelSet
{
    public abstract void Unary(IlgpuStorage x, IlgpuStorage y, UnaryOp op, double a, double b);
    public abstract void Binary(int n, IlgpuStorage a, IlgpuStorage b, IlgpuStorage o, ArrayView<int> meta, int rank, BinaryOp op);
    public abstract void Where(int n, IlgpuStorage c, IlgpuStorage a, IlgpuStorage b, IlgpuStorage o, ArrayView<int> meta, int rank);
    public abstract void Reduce(int n, IlgpuStorage x, IlgpuStorage o, int len, int inner, ReduceOp op);
    public abstract void Strided(int n, IlgpuStorage x, IlgpuStorage o, ArrayView<int> meta, int rank);
    public abstract void Slice(int n, IlgpuStorage x, IlgpuStorage o, int len, int inner, int start, int count);
    public abstract void SliceAdd(int n, IlgpuStorage dst, IlgpuStorage src, int len, int inner, int start, int count);
    public abstract void Gather(int n, IlgpuStorage x, ArrayView<int> index, IlgpuStorage o, ArrayView<int> meta, int rank, int axis);
    public abstract void ScatterAdd(int lines, IlgpuStorage x, ArrayView<int> index, IlgpuStorage src, ArrayView<int> meta, int rank, int axis);
    public abstract void MatMul(KernelConfig cfg, IlgpuStorage a, IlgpuStorage b, IlgpuStorage c, IlgpuStorage bias,
                                int m, int n, int k, int flags, int strideA, int strideB, int strideC, int p);
    public abstract void Axpy(IlgpuStorage dst, IlgpuStorage src, double alpha);
    public abstract void Fill(IlgpuStorage dst, double value);
    public abstract void Scale(IlgpuStorage dst, double alpha);
    public abstract void LogSoftmax(int rows, IlgpuStorage x, IlgpuStorage y, int cols);
    public abstract void LogSoftmaxBackward(int rows, IlgpuStorage y, IlgpuStorage g, IlgpuStorage dx, int cols);
    /// <summary>The chunk partials of op over a and b (same length) into partial, one per chunk.</summary>
    public abstract void Partials(int chunks, IlgpuStorage a, IlgpuStorage b, ArrayView<double> partial, PartialOp op);
    public abstract void Im2Col(IlgpuStorage x, IlgpuStorage col, Conv2dShape g);
    public abstract void Col2Im(IlgpuStorage dcol, IlgpuStorage dx, Conv2dShape g);
    public abstract void ConvOut(IlgpuStorage outT, IlgpuStorage? bias, IlgpuStorage y, Conv2dShape g);
    /// <summary>y (float64) = x widened.</summary>
    public abstract void ToDouble(IlgpuStorage x, IlgpuStorage y);
    /// <summary>y = x (float64) rounded to this set's type.</summary>
    public abstract void FromDouble(IlgpuStorage x, IlgpuStorage y);
}

/// <summary>The kernel set of element type T, with the fused-map loaders (their kernels are made per map type).</summary>
internal abstract class KernelSet<T> : KernelSet where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The fused-map kernel closed over TMap, loaded on the accelerator.</summary>
    public abstract Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>
        LoadMap<TMap>(Accelerator acc) where TMap : unmanaged, IFusedMap<TMap, T>;

    /// <summary>The counting pre-pass kernel closed over TCount, loaded on the accelerator.</summary>
    public abstract Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>
        LoadCount<TCount>(Accelerator acc) where TCount : unmanaged, IFusedMap<TCount, T>;
}

/// <summary>The kernels of Kernels.cs closed over (T, L), loaded once.</summary>
internal sealed class KernelSet<T, L> : KernelSet<T> where T : unmanaged, IFloatingPointIeee754<T> where L : struct, IGpuLane<L, T>
{
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, UnaryOp, T, T> _unary;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, BinaryOp> _binary;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int> _where;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, ReduceOp> _reduce;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, int> _strided;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int> _slice, _sliceAdd;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int> _gather, _scatterAdd;
    private readonly Action<KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, int, int, int> _matMul;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, T> _axpy;
    private readonly Action<Index1D, ArrayView<T>, T> _fill, _scale;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int> _logSoftmax;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int> _logSoftmaxBackward;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, PartialOp> _partials;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, Conv2dShape> _im2Col, _col2Im;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, Conv2dShape, int> _convOut;
    private readonly Action<Index1D, ArrayView<T>, ArrayView<double>> _toDouble;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<T>> _fromDouble;

    public KernelSet(Accelerator acc)
    {
        _unary = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, UnaryOp, T, T>(Kernels.Unary<T, L>);
        _binary = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, BinaryOp>(Kernels.Binary<T, L>);
        _where = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int>(Kernels.Where<T, L>);
        _reduce = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, ReduceOp>(Kernels.Reduce<T, L>);
        _strided = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, int>(Kernels.Strided);
        _slice = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>(Kernels.Slice);
        _sliceAdd = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>(Kernels.SliceAdd<T, L>);
        _gather = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int>(Kernels.Gather);
        _scatterAdd = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int>(Kernels.ScatterAdd<T, L>);
        _matMul = acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, int, int, int>(Kernels.MatMul<T, L>);
        _axpy = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, T>(Kernels.Axpy<T, L>);
        _fill = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T>(Kernels.Fill);
        _scale = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, T>(Kernels.Scale<T, L>);
        _logSoftmax = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, int>(Kernels.LogSoftmax<T, L>);
        _logSoftmaxBackward = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int>(Kernels.LogSoftmaxBackward<T, L>);
        _partials = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, PartialOp>(Kernels.Partials<T, L>);
        _im2Col = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, Conv2dShape>(Kernels.Im2Col);
        _col2Im = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, Conv2dShape>(Kernels.Col2Im<T, L>);
        _convOut = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, Conv2dShape, int>(Kernels.ConvOut<T, L>);
        _toDouble = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<double>>(Kernels.ToDouble<T, L>);
        _fromDouble = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<T>>(Kernels.FromDouble<T, L>);
    }

    private static T C(double v) => T.CreateTruncating(v);

    public override void Unary(IlgpuStorage x, IlgpuStorage y, UnaryOp op, double a, double b) => _unary(x.Length, x.View<T>(), y.View<T>(), op, C(a), C(b));
    public override void Binary(int n, IlgpuStorage a, IlgpuStorage b, IlgpuStorage o, ArrayView<int> meta, int rank, BinaryOp op) =>
        _binary(n, a.View<T>(), b.View<T>(), o.View<T>(), meta, rank, op);
    public override void Where(int n, IlgpuStorage c, IlgpuStorage a, IlgpuStorage b, IlgpuStorage o, ArrayView<int> meta, int rank) =>
        _where(n, c.View<T>(), a.View<T>(), b.View<T>(), o.View<T>(), meta, rank);
    public override void Reduce(int n, IlgpuStorage x, IlgpuStorage o, int len, int inner, ReduceOp op) => _reduce(n, x.Raw<T>(), o.View<T>(), len, inner, op);
    public override void Strided(int n, IlgpuStorage x, IlgpuStorage o, ArrayView<int> meta, int rank) => _strided(n, x.View<T>(), o.View<T>(), meta, rank);
    public override void Slice(int n, IlgpuStorage x, IlgpuStorage o, int len, int inner, int start, int count) =>
        _slice(n, x.View<T>(), o.View<T>(), len, inner, start, count);
    public override void SliceAdd(int n, IlgpuStorage dst, IlgpuStorage src, int len, int inner, int start, int count) =>
        _sliceAdd(n, dst.View<T>(), src.View<T>(), len, inner, start, count);
    public override void Gather(int n, IlgpuStorage x, ArrayView<int> index, IlgpuStorage o, ArrayView<int> meta, int rank, int axis) =>
        _gather(n, x.View<T>(), index, o.View<T>(), meta, rank, axis);
    public override void ScatterAdd(int lines, IlgpuStorage x, ArrayView<int> index, IlgpuStorage src, ArrayView<int> meta, int rank, int axis) =>
        _scatterAdd(lines, x.View<T>(), index, src.View<T>(), meta, rank, axis);
    public override void MatMul(KernelConfig cfg, IlgpuStorage a, IlgpuStorage b, IlgpuStorage c, IlgpuStorage bias,
                                int m, int n, int k, int flags, int strideA, int strideB, int strideC, int p) =>
        _matMul(cfg, a.Raw<T>(), b.Raw<T>(), c.Raw<T>(), bias.Raw<T>(), m, n, k, flags, strideA, strideB, strideC, p);
    public override void Axpy(IlgpuStorage dst, IlgpuStorage src, double alpha) => _axpy(dst.Length, dst.View<T>(), src.View<T>(), C(alpha));
    public override void Fill(IlgpuStorage dst, double value) => _fill(dst.Length, dst.View<T>(), C(value));
    public override void Scale(IlgpuStorage dst, double alpha) => _scale(dst.Length, dst.View<T>(), C(alpha));
    public override void LogSoftmax(int rows, IlgpuStorage x, IlgpuStorage y, int cols) => _logSoftmax(rows, x.View<T>(), y.View<T>(), cols);
    public override void LogSoftmaxBackward(int rows, IlgpuStorage y, IlgpuStorage g, IlgpuStorage dx, int cols) =>
        _logSoftmaxBackward(rows, y.View<T>(), g.View<T>(), dx.View<T>(), cols);
    public override void Partials(int chunks, IlgpuStorage a, IlgpuStorage b, ArrayView<double> partial, PartialOp op) =>
        _partials(chunks, a.View<T>(), b.View<T>(), partial, a.Length, op);
    public override void Im2Col(IlgpuStorage x, IlgpuStorage col, Conv2dShape g) => _im2Col(col.Length, x.View<T>(), col.View<T>(), g);
    public override void Col2Im(IlgpuStorage dcol, IlgpuStorage dx, Conv2dShape g) => _col2Im(dx.Length, dcol.View<T>(), dx.View<T>(), g);
    public override void ConvOut(IlgpuStorage outT, IlgpuStorage? bias, IlgpuStorage y, Conv2dShape g) =>
        _convOut(y.Length, outT.View<T>(), (bias ?? outT).View<T>(), y.View<T>(), g, bias is null ? 0 : 1);
    public override void ToDouble(IlgpuStorage x, IlgpuStorage y) => _toDouble(x.Length, x.View<T>(), y.View<double>());
    public override void FromDouble(IlgpuStorage x, IlgpuStorage y) => _fromDouble(x.Length, x.View<double>(), y.View<T>());

    public override Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>
        LoadMap<TMap>(Accelerator acc) =>
        acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>(
            FusedKernels.Map<TMap, T, L>);

    public override Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>
        LoadCount<TCount>(Accelerator acc) =>
        acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>(
            FusedKernels.Count<TCount, T, L>);
}
