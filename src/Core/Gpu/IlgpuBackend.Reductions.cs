// IlgpuBackend's reductions: along an axis, to a broadcast source's shape, log-softmax rows, and the fused maps with
// their per-tensor pre-passes (fixed-shape trees in double: deterministic).
using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

public sealed partial class IlgpuBackend
{
    private readonly ConcurrentDictionary<Type, Delegate> _maps = new();     // FusedMap kernels by map type, loaded on first use
    private readonly ConcurrentDictionary<Type, Delegate> _counts = new();   // counting pre-pass kernels by map type
    private readonly object _scratchGate = new();
    private MemoryBuffer1D<double, Stride1D.Dense>? _scratch;   // pre-pass reductions: partial sums, then the total

    /// <inheritdoc/>
    public Storage Reduce(ReduceOp op, Storage x, Shape xShape, int axis)
    {
        var g = S(x);
        int outer = xShape.Product(0, axis), len = xShape[axis], inner = xShape.Product(axis + 1, xShape.Rank);
        if (len == 0 && op != ReduceOp.Sum) throw new ArgumentException($"{op}: cannot reduce over an empty axis");
        int n = outer * inner;
        var o = New(g.DType, n);
        if (n == 0) return o;
        K(g.DType).Reduce(n, g, o, len, inner, op);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage SumToShape(Storage g, Shape gShape, Shape targetShape)
    {
        if (gShape == targetShape) return g;
        int rank = gShape.Rank;
        Storage cur = g;
        Shape curShape = gShape;
        for (int i = 0; i < rank; i++)
        {
            int ti = i - (rank - targetShape.Rank);
            int t = ti >= 0 ? targetShape[ti] : 1;
            if (t == 1 && curShape[i] != 1)
            {
                cur = Reduce(ReduceOp.Sum, cur, curShape, i);
                curShape = curShape.With(i, 1);
            }
        }
        return ReferenceEquals(cur, g) ? Cast(g, g.DType) : cur;
    }

    /// <inheritdoc/>
    public Storage LogSoftmax(Storage x, int rows, int cols)
    {
        var g = S(x);
        var o = New(g.DType, g.Length);
        if (rows == 0 || cols == 0) return o;
        K(g.DType).LogSoftmax(rows, g, o, cols);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage LogSoftmaxBackward(Storage y, Storage g, int rows, int cols)
    {
        SameType(y, g, "LogSoftmaxBackward");
        var gy = S(y); var gg = S(g);
        var o = New(gy.DType, gy.Length);
        if (rows == 0 || cols == 0) return o;
        K(gy.DType).LogSoftmaxBackward(rows, gy, gg, o, cols);
        Sync();
        return o;
    }

    // ------------------------------------------------------------ fused maps
    /// <summary>The storages of a fused map checked and viewed (an unused state slot views x: never read, never stored)
    /// and the mask of the slots in use; null for an empty x.</summary>
    private (IlgpuStorage X, IlgpuStorage Y, int Mask, ArrayView<T> V0, ArrayView<T> V1, ArrayView<T> V2, ArrayView<T> V3)?
        Bind<TMap, T>(Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var xs = S(x); var ys = S(y);
        int mask = 0;
        for (int k = 0; k < states.Length; k++)
            if (states[k] is { } st) { S(st); mask |= 1 << k; }
        FusedChecks.Validate<TMap, T>(x, y, states);
        if (xs.Length == 0) return null;
        ArrayView<T> View(int k, ReadOnlySpan<Storage?> st) => (mask & (1 << k)) != 0 ? S(st[k]!).View<T>() : xs.View<T>();
        return (xs, ys, mask, View(0, states), View(1, states), View(2, states), View(3, states));
    }

    private Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>
        MapKernel<TMap, T>() where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        (Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>)
            _maps.GetOrAdd(typeof(TMap), _ => K<T>().LoadMap<TMap>(Accelerator));

    /// <inheritdoc/>
    public void FusedMap<TMap, T>(in TMap c, Storage x, Storage y, ReadOnlySpan<Storage?> states, PrePass pre = PrePass.None)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Bind<TMap, T>(x, y, states) is not var (xs, ys, mask, v0, v1, v2, v3)) return;   // empty: nothing to run
        var kernel = MapKernel<TMap, T>();
        lock (_scratchGate)
        {
            var reduction = pre == PrePass.L2NormOfY ? SumSquaresOnDevice(ys) : Scratch(1).SubView(0, 1);
            kernel(xs.Length, xs.View<T>(), ys.View<T>(), v0, v1, v2, v3, reduction,
                   mask | (pre == PrePass.L2NormOfY ? FusedKernels.FReduction : 0), c);
        }
        xs.BumpVersion();
        Sync();
    }

    /// <inheritdoc/>
    public void FusedMap<TMap, TCount, T>(in TMap c, in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where TCount : unmanaged, IFusedMap<TCount, T>
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Bind<TMap, T>(x, y, states) is not var (xs, ys, mask, v0, v1, v2, v3)) return;   // empty: nothing to run
        var kernel = MapKernel<TMap, T>();
        lock (_scratchGate)
            kernel(xs.Length, xs.View<T>(), ys.View<T>(), v0, v1, v2, v3, CountOnDevice<TCount, T>(count, xs, ys, mask, v0, v1, v2, v3),
                   mask | FusedKernels.FCount, c);
        xs.BumpVersion();
        Sync();
    }

    /// <inheritdoc/>
    public long CountPositive<TCount, T>(in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TCount : unmanaged, IFusedMap<TCount, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Bind<TCount, T>(x, y, states) is not var (xs, ys, mask, v0, v1, v2, v3)) return 0;   // empty: nothing counts
        var total = new double[1];
        lock (_scratchGate)
        {
            var onDevice = CountOnDevice<TCount, T>(count, xs, ys, mask, v0, v1, v2, v3);
            Wait();
            onDevice.CopyToCPU(total);
        }
        return (long)total[0];
    }

    // The counting pre-pass (under _scratchGate): counts per chunk (exact small integers in double), then the same
    // in-order tree as the norm (exact); returns the 1-element total, on the device.
    private ArrayView<double> CountOnDevice<TCount, T>(in TCount count, IlgpuStorage xs, IlgpuStorage ys, int mask,
        ArrayView<T> v0, ArrayView<T> v1, ArrayView<T> v2, ArrayView<T> v3)
        where TCount : unmanaged, IFusedMap<TCount, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var counter = (Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>)
            _counts.GetOrAdd(typeof(TCount), _ => K<T>().LoadCount<TCount>(Accelerator));
        int chunks = (xs.Length + FusedKernels.CountChunk - 1) / FusedKernels.CountChunk;
        var level = Scratch(2 * chunks + 8).SubView(0, chunks);
        counter(chunks, xs.View<T>(), ys.View<T>(), v0, v1, v2, v3, level, mask, xs.Length, count);
        return SumTree(level, chunks);
    }

    /// <summary>The scratch buffer of the pre-passes, at least length doubles (grown, never shrunk; under _scratchGate).</summary>
    private ArrayView<double> Scratch(int length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch?.Dispose();
            _scratch = Accelerator.Allocate1D<double>(Math.Max(length, 1024));
        }
        return _scratch.View;
    }

    // ||g||^2 without atomics: fixed chunks of 256 summed in double, then a tree of in-order sums of 32 (its shape
    // depends on n only), each level written after the previous one in the scratch buffer; returns the 1-element total.
    private ArrayView<double> SumSquaresOnDevice(IlgpuStorage g)
    {
        int chunks = (g.Length + Kernels.SquaresChunk - 1) / Kernels.SquaresChunk;
        var level = Scratch(2 * chunks + 8).SubView(0, chunks);
        K(g.DType).Partials(chunks, g, g, level, PartialOp.Products);
        return SumTree(level, chunks);
    }

    // Sums the partials in level (at the start of the scratch buffer) in a tree of in-order groups of 32, each level
    // written after the previous one from scratch offset at; returns the 1-element total.
    private ArrayView<double> SumTree(ArrayView<double> level, long at)
    {
        do
        {
            int count = (int)level.Length, next = (count + Kernels.PartialFan - 1) / Kernels.PartialFan;
            var up = _scratch!.View.SubView(at, next);
            _sumPartials(next, level, up, count);
            level = up;
            at += next;
        } while (level.Length > 1);
        return level;
    }
}
