// IlgpuBackend: IBackend on one ILGPU accelerator (CUDA, OpenCL or ILGPU's CPU accelerator), kernels loaded once.
using System.Collections.Concurrent;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

/// <summary>Storage in an ILGPU device buffer (float or double).</summary>
public sealed class IlgpuStorage : Storage
{
    private readonly IlgpuBackend _backend;

    internal IlgpuStorage(IlgpuBackend backend, DType dtype, int length, MemoryBuffer buffer) : base(dtype, length)
    {
        _backend = backend;
        Buffer = buffer;
    }

    /// <summary>The device buffer: MemoryBuffer1D&lt;float|double, Stride1D.Dense&gt;.</summary>
    public MemoryBuffer Buffer { get; }

    /// <inheritdoc/>
    public override IBackend Backend => _backend;

    /// <summary>The buffer's view as T (float or double); length 1 minimum so empty tensors still have a view.</summary>
    public ArrayView<T> View<T>() where T : unmanaged => ((MemoryBuffer1D<T, Stride1D.Dense>)Buffer).View.SubView(0, Length);

    /// <summary>Full buffer view (for kernels that need a non-empty view).</summary>
    internal ArrayView<T> Raw<T>() where T : unmanaged => ((MemoryBuffer1D<T, Stride1D.Dense>)Buffer).View;

    /// <summary>A closing Tensor.Scope released this storage: its buffer goes back to the backend's pool.</summary>
    internal override void Recycle() => _backend.Pool.Return(Buffer, DType);
}

/// <summary>
/// A size-keyed pool of device buffers (ILGPU allocates without pooling). Storages made inside a Tensor.Scope come
/// back here when the scope closes, so a scoped training step allocates no device memory in steady state. A buffer
/// handed back may be rented again at once, even while kernels that read it are still queued: every launch and copy
/// goes to the accelerator's one default stream, so the next user's work runs after them.
/// </summary>
internal sealed class BufferPool(Accelerator accelerator, string name)
{
    private readonly ConcurrentDictionary<(DType, long), ConcurrentBag<MemoryBuffer>> _free = new();
    private long _allocations;

    /// <summary>Device allocations made so far (pool misses).</summary>
    public long Allocations => Interlocked.Read(ref _allocations);

    /// <summary>Tests: replaces the device allocation (to simulate running out of device memory).</summary>
    internal Func<DType, long, MemoryBuffer>? AllocateHook;

    public MemoryBuffer Rent(DType dtype, int length)
    {
        long n = Math.Max(length, 1);
        if (_free.TryGetValue((dtype, n), out var bag) && bag.TryTake(out var b)) return b;
        Interlocked.Increment(ref _allocations);
        try { return Allocate(dtype, n); }
        catch (Exception first) when (first is not ArgumentException)
        {
            // Most likely out of device memory: give back what the pool holds and whatever unreachable tensors the
            // GC can finalize, then try once more.
            accelerator.Synchronize();
            int freed = FreeCount;
            Clear();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            try { return Allocate(dtype, n); }
            catch (Exception e) when (e is not ArgumentException)
            {
                double mib = n * dtype.Size() / (1024.0 * 1024);
                throw new InvalidOperationException(
                    $"{name}: cannot allocate {n} {dtype.Name()} elements ({mib:F1} MiB) on the device, even after freeing " +
                    $"{freed} pooled buffers and collecting garbage: {e.Message.ReplaceLineEndings(" ")} " +
                    "(a smaller batch or net, or Tensor.Scope around each step, needs less device memory)", e);
            }
        }
    }

    private MemoryBuffer Allocate(DType dtype, long n) =>
        AllocateHook?.Invoke(dtype, n) ?? (dtype == DType.Float32 ? accelerator.Allocate1D<float>(n) : accelerator.Allocate1D<double>(n));

    public void Clear()
    {
        foreach (var bag in _free.Values)
            while (bag.TryTake(out var b)) b.Dispose();
    }

    public void Return(MemoryBuffer buffer, DType dtype)
    {
        if (buffer.IsDisposed) return;
        _free.GetOrAdd((dtype, buffer.Length), _ => new ConcurrentBag<MemoryBuffer>()).Add(buffer);
    }

    /// <summary>Number of pooled (free) buffers.</summary>
    public int FreeCount => _free.Values.Sum(b => b.Count);
}

/// <summary>The kernels of one element type, loaded once per accelerator.</summary>
internal sealed class KernelSet<T> where T : unmanaged
{
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, T, T> Unary;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, int> Binary;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int> Where;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int> Reduce;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, int> Strided;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int> Slice;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int> SliceAdd;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int> Gather;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int> ScatterAdd;
    public readonly Action<KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, int, int, int> MatMul;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, T> Axpy;
    public readonly Action<Index1D, ArrayView<T>, T> Fill;
    public readonly Action<Index1D, ArrayView<T>, T> Scale;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, int> LogSoftmax;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int> LogSoftmaxBackward;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<double>, int> SumSquares;
    public readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int> SumPartials;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<double>> ToDouble;
    public readonly Action<Index1D, ArrayView<T>, ArrayView<float>> ToFloat;

    public KernelSet(Accelerator acc)
    {
        Type src = typeof(T) == typeof(float) ? typeof(KernelsF) : typeof(KernelsD);
        Unary = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, int, T, T>>(acc, src, nameof(KernelsF.Unary));
        Binary = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int, int>>(acc, src, nameof(KernelsF.Binary));
        Where = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<int>, int>>(acc, src, nameof(KernelsF.Where));
        Reduce = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int>>(acc, src, nameof(KernelsF.Reduce));
        Strided = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, int>>(acc, src, nameof(KernelsF.Strided));
        Slice = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>>(acc, src, nameof(KernelsF.Slice));
        SliceAdd = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, int, int, int, int>>(acc, src, nameof(KernelsF.SliceAdd));
        Gather = Auto<Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int>>(acc, src, nameof(KernelsF.Gather));
        ScatterAdd = Auto<Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, int, int>>(acc, src, nameof(KernelsF.ScatterAdd));
        Axpy = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, T>>(acc, src, nameof(KernelsF.Axpy));
        Fill = Auto<Action<Index1D, ArrayView<T>, T>>(acc, src, nameof(KernelsF.Fill));
        Scale = Auto<Action<Index1D, ArrayView<T>, T>>(acc, src, nameof(KernelsF.Scale));
        LogSoftmax = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, int>>(acc, src, nameof(KernelsF.LogSoftmax));
        LogSoftmaxBackward = Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int>>(acc, src, nameof(KernelsF.LogSoftmaxBackward));
        SumSquares = Auto<Action<Index1D, ArrayView<T>, ArrayView<double>, int>>(acc, src, nameof(KernelsF.SumSquares));
        SumPartials = Auto<Action<Index1D, ArrayView<double>, ArrayView<double>, int>>(acc, src, nameof(KernelsF.SumPartials));
        ToDouble = Auto<Action<Index1D, ArrayView<T>, ArrayView<double>>>(acc, src, nameof(KernelsF.ToDouble));
        ToFloat = Auto<Action<Index1D, ArrayView<T>, ArrayView<float>>>(acc, src, nameof(KernelsF.ToFloat));
        var mm = (Action<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, int, int, int>)Delegate.CreateDelegate(
            typeof(Action<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, int, int, int, int, int>), src.GetMethod(nameof(KernelsF.MatMul))!);
        MatMul = acc.LoadStreamKernel(mm);
    }

    /// <summary>Loads an implicitly grouped kernel: the delegate type names the loader overload.</summary>
    internal static TDel Auto<TDel>(Accelerator acc, Type src, string name) where TDel : Delegate =>
        Auto<TDel>(acc, src.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!);

    /// <summary>Loads an implicitly grouped kernel from a (closed generic) method.</summary>
    internal static TDel Auto<TDel>(Accelerator acc, MethodInfo method) where TDel : Delegate
    {
        var kernelArgs = typeof(TDel).GetGenericArguments(); // Index1D, params...
        var loader = typeof(KernelLoaders).GetMethods().Single(m => m.Name == nameof(KernelLoaders.LoadAutoGroupedStreamKernel)
            && m.GetGenericArguments().Length == kernelArgs.Length && m.GetParameters().Length == 2);
        var actionType = method.GetParameters().Length switch { _ => typeof(TDel) };
        var del = Delegate.CreateDelegate(actionType, method);
        return (TDel)loader.MakeGenericMethod(kernelArgs).Invoke(null, [acc, del])!;
    }
}

/// <summary>IBackend on one ILGPU accelerator; semantics identical to CpuBackend (the tests hold them equal).</summary>
public sealed class IlgpuBackend : IBackend, IDisposable
{
    private readonly KernelSet<float> _f;
    private readonly KernelSet<double> _d;
    internal readonly BufferPool Pool;
    private readonly int _groupSide; // matmul groups are p x p threads
    private readonly ConcurrentDictionary<Type, Delegate> _maps = new();   // FusedMap kernels by map type, loaded on first use
    private readonly ConcurrentDictionary<Type, Delegate> _counts = new();   // counting pre-pass kernels by map type
    private readonly object _normGate = new();
    private MemoryBuffer1D<double, Stride1D.Dense>? _normScratch;   // PrePass reductions: partial sums, then the total

    internal IlgpuBackend(Accelerator accelerator, Device device, string name)
    {
        Accelerator = accelerator;
        Device = device;
        Name = name;
        Pool = new BufferPool(accelerator, name);
        _f = new KernelSet<float>(accelerator);
        _d = new KernelSet<double>(accelerator);
        _groupSide = KernelsF.MaxThreads;
        while (_groupSide > 1 && _groupSide * _groupSide > accelerator.MaxNumThreadsPerGroup) _groupSide /= 2;
    }

    /// <summary>The ILGPU accelerator this backend launches on.</summary>
    public Accelerator Accelerator { get; }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public Device Device { get; }

    /// <summary>Free buffers waiting in the pool.</summary>
    public int PooledBuffers => Pool.FreeCount;

    /// <summary>Device allocations made so far: tensor buffers the pool could not serve, and launch metadata not yet cached.</summary>
    public long DeviceAllocations => Pool.Allocations + Interlocked.Read(ref _intAllocations);

    /// <summary>
    /// Wait for every kernel after each op, even inside a Tensor.Scope (default: off; on when the environment
    /// variable TINY_GPU_SYNC=1). Outside a scope every op waits anyway. For debugging a GPU run: with it on, an
    /// error surfaces at the op that caused it.
    /// </summary>
    public bool SyncEachOp { get; set; } = Environment.GetEnvironmentVariable("TINY_GPU_SYNC") == "1";

    /// <summary>Waits until every queued kernel and copy has finished (timing, or handing results to other code).</summary>
    public void Synchronize() => Wait();

    private long _ops, _waits;

    /// <summary>Backend ops run so far (each is one kernel launch, or a few, or a device copy).</summary>
    public long Ops => Interlocked.Read(ref _ops);

    /// <summary>Times the host waited for the device so far (per op outside a scope; host reads; Synchronize).</summary>
    public long Waits => Interlocked.Read(ref _waits);

    private void Wait()
    {
        Interlocked.Increment(ref _waits);
        Accelerator.Synchronize();
    }

    /// <summary>Frees the pooled buffers (tensor data and cached launch metadata) after waiting for the device.</summary>
    public void TrimPool()
    {
        Accelerator.Synchronize();
        Pool.Clear();
        lock (_ints)
        {
            foreach (var b in _meta.Values) b.Dispose();
            _meta.Clear();
            foreach (var st in _intFree.Values) while (st.TryPop(out var b)) b.Dispose();
        }
    }

    /// <summary>Frees the pooled buffers and the ILGPU accelerator; storages of this backend are unusable afterwards.</summary>
    public void Dispose()
    {
        _normScratch?.Dispose();
        Accelerator.Dispose();
    }

    private IlgpuStorage S(Storage s) => s is IlgpuStorage g && ReferenceEquals(g.Backend, this) ? g
        : throw new ArgumentException($"{Name} backend: storage lives on {s.Backend.Name}, not {Name} (move tensors with To(device) first)");

    private static void SameType(Storage a, Storage b, string op)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op}: dtype mismatch {a.DType.Name()} vs {b.DType.Name()}");
    }

    private IlgpuStorage New(DType dtype, int length)
    {
        var s = new IlgpuStorage(this, dtype, length, Pool.Rent(dtype, length));
        ScopeStack.Register(s);   // inside a Tensor.Scope: back to the pool when the scope closes
        return s;
    }

    // Outside a Tensor.Scope every op waits for its kernels before returning: the GC may free an unscoped storage's
    // buffer as soon as the caller drops it. Inside a scope the ops' storages are only recycled through the pool, in
    // stream order, so launches are queued without waiting (launch overhead is the GPU's enemy for RL's small nets);
    // host reads (ToFloatArray, GetItem, SumSquares) always wait.
    private void Sync()
    {
        Interlocked.Increment(ref _ops);
        if (SyncEachOp || ScopeStack.Depth == 0) Wait();
    }

    /// <summary>Hands a storage's buffer back to this backend's pool for reuse; the storage must not be used again.</summary>
    public void Release(Storage s) => Pool.Return(S(s).Buffer, s.DType);

    // Launch metadata (shapes and strides) repeats step after step, so it is uploaded once and cached by content;
    // index arrays (Gather/ScatterAdd) change every call and use pooled int buffers.
    private readonly object _ints = new();
    private readonly Dictionary<IntsKey, MemoryBuffer1D<int, Stride1D.Dense>> _meta = new();
    private readonly Dictionary<int, Stack<MemoryBuffer1D<int, Stride1D.Dense>>> _intFree = new();
    private long _intAllocations;
    private const int MaxCachedMeta = 4096;

    private readonly struct IntsKey : IEquatable<IntsKey>
    {
        private readonly int[] _v;
        private readonly int _hash;
        public IntsKey(int[] v)
        {
            _v = v;
            var h = new HashCode();
            foreach (int x in v) h.Add(x);
            _hash = h.ToHashCode();
        }
        public bool Equals(IntsKey o) => _hash == o._hash && _v.AsSpan().SequenceEqual(o._v);
        public override bool Equals(object? o) => o is IntsKey k && Equals(k);
        public override int GetHashCode() => _hash;
    }

    /// <summary>Shape/stride metadata on the device, uploaded on first use and cached (never written by kernels).</summary>
    private ArrayView<int> Meta(int[] data)
    {
        lock (_ints)
        {
            var key = new IntsKey(data);
            if (_meta.TryGetValue(key, out var b)) return b.View;
            if (_meta.Count >= MaxCachedMeta)
            {
                Accelerator.Synchronize();
                foreach (var old in _meta.Values) old.Dispose();
                _meta.Clear();
            }
            b = Accelerator.Allocate1D<int>(Math.Max(data.Length, 1));
            _intAllocations++;
            if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);
            _meta[key] = b;
            return b.View;
        }
    }

    /// <summary>An index array uploaded into a pooled buffer; hand it back with <see cref="ReturnIndex"/> after the launch.</summary>
    private MemoryBuffer1D<int, Stride1D.Dense> RentIndex(int[] data)
    {
        int n = Math.Max(data.Length, 1);
        MemoryBuffer1D<int, Stride1D.Dense>? b = null;
        lock (_ints)
        {
            if (_intFree.TryGetValue(n, out var st)) st.TryPop(out b);
            if (b is null) _intAllocations++;
        }
        b ??= Accelerator.Allocate1D<int>(n);
        if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);   // waits for queued work first
        return b;
    }

    private void ReturnIndex(MemoryBuffer1D<int, Stride1D.Dense> b)
    {
        lock (_ints)
        {
            int n = (int)b.Length;
            if (!_intFree.TryGetValue(n, out var st)) _intFree[n] = st = new Stack<MemoryBuffer1D<int, Stride1D.Dense>>();
            st.Push(b);
        }
    }

    // ------------------------------------------------------------ creation and transfer
    /// <inheritdoc/>
    public Storage Allocate(DType dtype, int length) => Full(dtype, length, 0);

    /// <inheritdoc/>
    public Storage Full(DType dtype, int length, double value)
    {
        var s = New(dtype, length);
        FillInPlace(s, value);
        return s;
    }

    /// <inheritdoc/>
    public Storage FromArray(float[] data)
    {
        var s = New(DType.Float32, data.Length);
        if (data.Length > 0) s.View<float>().CopyFromCPU(data);
        return s;
    }

    /// <inheritdoc/>
    public Storage FromArray(double[] data)
    {
        var s = New(DType.Float64, data.Length);
        if (data.Length > 0) s.View<double>().CopyFromCPU(data);
        return s;
    }

    /// <inheritdoc/>
    public float[] ToFloatArray(Storage s)
    {
        var g = S(s);
        if (g.DType == DType.Float64) g = S(Cast(g, DType.Float32));
        var r = new float[g.Length];
        Wait();
        if (r.Length > 0) g.View<float>().CopyToCPU(r);
        return r;
    }

    /// <inheritdoc/>
    public double[] ToDoubleArray(Storage s)
    {
        var g = S(s);
        if (g.DType == DType.Float32) g = S(Cast(g, DType.Float64));
        var r = new double[g.Length];
        Wait();
        if (r.Length > 0) g.View<double>().CopyToCPU(r);
        return r;
    }

    /// <inheritdoc/>
    public void CopyToHost<T>(Storage s, Span<T> dst) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var g = S(s);
        HostCopy.Check<T>(g, dst.Length, "CopyToHost");
        Wait();
        if (dst.Length > 0) g.View<T>().CopyToCPU(dst);
    }

    /// <inheritdoc/>
    public void CopyFromHost<T>(Storage dst, ReadOnlySpan<T> src) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var g = S(dst);
        HostCopy.Check<T>(g, src.Length, "CopyFromHost");
        if (src.Length > 0) g.View<T>().CopyFromCPU(src);   // after the queued work, like every copy
        Sync();
    }

    /// <inheritdoc/>
    public double GetItem(Storage s, int index)
    {
        var g = S(s);
        if ((uint)index >= (uint)g.Length) throw new ArgumentOutOfRangeException(nameof(index), $"GetItem: index {index} out of range for {g.Length} elements");
        Wait();
        if (g.DType == DType.Float32) { var one = new float[1]; g.View<float>().SubView(index, 1).CopyToCPU(one); return one[0]; }
        var d = new double[1]; g.View<double>().SubView(index, 1).CopyToCPU(d); return d[0];
    }

    /// <inheritdoc/>
    public Storage Cast(Storage s, DType dtype)
    {
        var g = S(s);
        var o = New(dtype, g.Length);
        if (g.Length == 0) return o;
        if (g.DType == DType.Float32)
        {
            if (dtype == DType.Float32) o.View<float>().CopyFrom(g.View<float>()); else _f.ToDouble(g.Length, g.View<float>(), o.View<double>());
        }
        else
        {
            if (dtype == DType.Float64) o.View<double>().CopyFrom(g.View<double>()); else _d.ToFloat(g.Length, g.View<double>(), o.View<float>());
        }
        Sync();
        return o;
    }

    // Random numbers come from Tiny.Rng on the host, then are uploaded: same seed, same numbers as the CPU backend.
    /// <inheritdoc/>
    public Storage Uniform(DType dtype, int length, double low, double high, Rng rng) => Upload(Tiny.Cpu.CpuBackend.Instance.Uniform(dtype, length, low, high, rng));
    /// <inheritdoc/>
    public Storage Normal(DType dtype, int length, double mean, double std, Rng rng) => Upload(Tiny.Cpu.CpuBackend.Instance.Normal(dtype, length, mean, std, rng));

    private Storage Upload(Storage cpu) => cpu.DType == DType.Float32
        ? FromArray(((Tiny.Cpu.CpuStorage)cpu).F) : FromArray(((Tiny.Cpu.CpuStorage)cpu).D);

    // ------------------------------------------------------------ elementwise
    /// <inheritdoc/>
    public Storage Unary(UnaryOp op, Storage x, double a = 0, double b = 0)
    {
        var g = S(x);
        var o = New(g.DType, g.Length);
        if (g.Length == 0) return o;
        if (g.DType == DType.Float32) _f.Unary(g.Length, g.View<float>(), o.View<float>(), (int)op, (float)a, (float)b);
        else _d.Unary(g.Length, g.View<double>(), o.View<double>(), (int)op, a, b);
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
        int rank = Math.Max(outShape.Rank, 1);
        var meta = Meta(BroadcastMeta(outShape, aShape, bShape));
        if (ga.DType == DType.Float32) _f.Binary(n, ga.View<float>(), gb.View<float>(), o.View<float>(), meta, rank, (int)op);
        else _d.Binary(n, ga.View<double>(), gb.View<double>(), o.View<double>(), meta, rank, (int)op);
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
        int rank = Math.Max(outShape.Rank, 1);
        var meta = Meta(BroadcastMeta(outShape, condShape, aShape, bShape));
        if (ga.DType == DType.Float32) _f.Where(n, gc.View<float>(), ga.View<float>(), gb.View<float>(), o.View<float>(), meta, rank);
        else _d.Where(n, gc.View<double>(), ga.View<double>(), gb.View<double>(), o.View<double>(), meta, rank);
        Sync();
        return o;
    }

    // ------------------------------------------------------------ reductions
    /// <inheritdoc/>
    public Storage Reduce(ReduceOp op, Storage x, Shape xShape, int axis)
    {
        var g = S(x);
        int outer = xShape.Product(0, axis), len = xShape[axis], inner = xShape.Product(axis + 1, xShape.Rank);
        if (len == 0 && op != ReduceOp.Sum) throw new ArgumentException($"{op}: cannot reduce over an empty axis");
        int n = outer * inner;
        var o = New(g.DType, n);
        if (n == 0) return o;
        if (g.DType == DType.Float32) _f.Reduce(n, g.Raw<float>(), o.View<float>(), len, inner, (int)op);
        else _d.Reduce(n, g.Raw<double>(), o.View<double>(), len, inner, (int)op);
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
        var m = Meta(meta);
        if (x.DType == DType.Float32) _f.Strided(n, x.View<float>(), o.View<float>(), m, rank);
        else _d.Strided(n, x.View<double>(), o.View<double>(), m, rank);
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
        if (g.DType == DType.Float32) _f.Slice(n, g.View<float>(), o.View<float>(), len, inner, start, length);
        else _d.Slice(n, g.View<double>(), o.View<double>(), len, inner, start, length);
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
        if (d.DType == DType.Float32) _f.SliceAdd(n, d.View<float>(), s.View<float>(), len, inner, start, count);
        else _d.SliceAdd(n, d.View<double>(), s.View<double>(), len, inner, start, count);
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

    private int[] GatherMeta(Shape xShape, Shape indexShape)
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
        var meta = Meta(GatherMeta(xShape, indexShape));
        var idx = RentIndex(index);
        if (g.DType == DType.Float32) _f.Gather(n, g.View<float>(), idx.View, o.View<float>(), meta, indexShape.Rank, axis);
        else _d.Gather(n, g.View<double>(), idx.View, o.View<double>(), meta, indexShape.Rank, axis);
        ReturnIndex(idx);
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
        var meta = Meta(GatherMeta(xShape, indexShape));
        var idx = RentIndex(index);
        int lines = n / indexShape[axis]; // one thread per line along axis: see KernelsF.ScatterAdd
        if (dtype == DType.Float32) _f.ScatterAdd(lines, o.View<float>(), idx.View, s.View<float>(), meta, indexShape.Rank, axis);
        else _d.ScatterAdd(lines, o.View<double>(), idx.View, s.View<double>(), meta, indexShape.Rank, axis);
        ReturnIndex(idx);
        Sync();
        return o;
    }

    // ------------------------------------------------------------ linear algebra
    /// <inheritdoc/>
    public Storage MatMul(Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB)
    {
        SameType(a, b, "MatMul");
        var c = New(a.DType, batch * m * n);
        Gemm(c, S(a), S(b), null, batch, m, k, n, transA, transB, strideA, strideB, m * n, accumulate: false);
        Sync();
        return c;
    }

    /// <inheritdoc/>
    public void MatMulAddInPlace(Storage c, Storage a, Storage b, int batch, int m, int k, int n, bool transA, bool transB, int strideA, int strideB, int strideC)
    {
        SameType(a, b, "MatMul");
        SameType(c, a, "MatMul");
        Gemm(S(c), S(a), S(b), null, batch, m, k, n, transA, transB, strideA, strideB, strideC, accumulate: true);
        Sync();
        c.BumpVersion();
    }

    private void Gemm(IlgpuStorage c, IlgpuStorage a, IlgpuStorage b, IlgpuStorage? bias, int batch, int m, int k, int n,
        bool transA, bool transB, int strideA, int strideB, int strideC, bool accumulate)
    {
        if (batch == 0 || m == 0 || n == 0) return;
        int flags = (transA ? 1 : 0) | (transB ? 2 : 0) | (accumulate ? 4 : 0) | (bias is not null ? 8 : 0);
        int p = _groupSide, tile = KernelsF.Reg * p; // 4p x 4p C tile per p x p group, 4x4 outputs per thread
        var cfg = new KernelConfig(new Index3D((n + tile - 1) / tile, (m + tile - 1) / tile, batch), new Index3D(p, p, 1));
        var biasS = bias ?? c;
        if (c.DType == DType.Float32)
            _f.MatMul(cfg, a.Raw<float>(), b.Raw<float>(), c.Raw<float>(), biasS.Raw<float>(), m, n, k, flags, strideA, strideB, strideC, p);
        else
            _d.MatMul(cfg, a.Raw<double>(), b.Raw<double>(), c.Raw<double>(), biasS.Raw<double>(), m, n, k, flags, strideA, strideB, strideC, p);
    }

    // ------------------------------------------------------------ in place
    /// <inheritdoc/>
    public void AxpyInPlace(Storage dst, Storage src, double alpha)
    {
        SameType(dst, src, "Axpy");
        var d = S(dst); var s = S(src);
        if (d.Length == 0) return;
        if (d.DType == DType.Float32) _f.Axpy(d.Length, d.View<float>(), s.View<float>(), (float)alpha);
        else _d.Axpy(d.Length, d.View<double>(), s.View<double>(), alpha);
        Sync();
    }

    /// <inheritdoc/>
    public void FillInPlace(Storage dst, double value)
    {
        var d = S(dst);
        if (d.Length == 0) return;
        if (d.DType == DType.Float32) _f.Fill(d.Length, d.View<float>(), (float)value);
        else _d.Fill(d.Length, d.View<double>(), value);
        Sync();
    }

    /// <inheritdoc/>
    public void CopyInPlace(Storage dst, Storage src)
    {
        SameType(dst, src, "Copy");
        var d = S(dst); var s = S(src);
        if (d.Length == 0) return;
        if (d.DType == DType.Float32) d.View<float>().CopyFrom(s.View<float>()); else d.View<double>().CopyFrom(s.View<double>());
        Sync();
    }

    /// <inheritdoc/>
    public void ScaleInPlace(Storage dst, double alpha)
    {
        var d = S(dst);
        if (d.Length == 0) return;
        if (d.DType == DType.Float32) _f.Scale(d.Length, d.View<float>(), (float)alpha);
        else _d.Scale(d.Length, d.View<double>(), alpha);
        Sync();
    }

    // ------------------------------------------------------------ fused
    /// <inheritdoc/>
    public Storage LogSoftmax(Storage x, int rows, int cols)
    {
        var g = S(x);
        var o = New(g.DType, g.Length);
        if (rows == 0 || cols == 0) return o;
        if (g.DType == DType.Float32) _f.LogSoftmax(rows, g.View<float>(), o.View<float>(), cols);
        else _d.LogSoftmax(rows, g.View<double>(), o.View<double>(), cols);
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
        if (gy.DType == DType.Float32) _f.LogSoftmaxBackward(rows, gy.View<float>(), gg.View<float>(), o.View<float>(), cols);
        else _d.LogSoftmaxBackward(rows, gy.View<double>(), gg.View<double>(), o.View<double>(), cols);
        Sync();
        return o;
    }

    /// <inheritdoc/>
    public Storage Linear(Storage x, Storage w, Storage? bias, int rows, int inF, int outF)
    {
        SameType(x, w, "Linear");
        var y = New(x.DType, rows * outF);
        Gemm(y, S(x), S(w), bias is null ? null : S(bias), 1, rows, inF, outF, false, true, 0, 0, 0, accumulate: false);
        Sync();
        return y;
    }

    /// <inheritdoc/>
    public double SumSquares(Storage x) => SumSquaresEach([x])[0];

    // Partial sums of 256 elements each (in double, in a fixed order) for every storage, written side by side into
    // one pooled buffer; one wait and one copy back, then each storage's partials summed in order on the host.
    /// <inheritdoc/>
    public double[] SumSquaresEach(IReadOnlyList<Storage> xs)
    {
        var starts = new int[xs.Count + 1];
        for (int i = 0; i < xs.Count; i++) starts[i + 1] = starts[i] + (S(xs[i]).Length + 255) / 256;
        var r = new double[xs.Count];
        int total = starts[^1];
        if (total == 0) return r;
        var buffer = (MemoryBuffer1D<double, Stride1D.Dense>)Pool.Rent(DType.Float64, total);
        for (int i = 0; i < xs.Count; i++)
        {
            var g = S(xs[i]);
            int chunks = starts[i + 1] - starts[i];
            if (chunks == 0) continue;
            var partial = buffer.View.SubView(starts[i], chunks);
            if (g.DType == DType.Float32) _f.SumSquares(chunks, g.View<float>(), partial, g.Length);
            else _d.SumSquares(chunks, g.View<double>(), partial, g.Length);
        }
        var p = new double[total];
        Wait();
        buffer.View.SubView(0, total).CopyToCPU(p);
        Pool.Return(buffer, DType.Float64);
        for (int i = 0; i < xs.Count; i++)
        {
            double s = 0;
            for (int j = starts[i]; j < starts[i + 1]; j++) s += p[j];
            r[i] = s;
        }
        return r;
    }

    /// <inheritdoc/>
    public double[] L2NormEach(IReadOnlyList<Storage> xs) => Array.ConvertAll(SumSquaresEach(xs), Math.Sqrt);

    // ------------------------------------------------------------ fused maps
    /// <summary>The storages of a fused map checked and viewed (an unused state slot views x: never read, never stored),
    /// the mask of the slots in use and the map's kernel; null for an empty x.</summary>
    private (IlgpuStorage X, IlgpuStorage Y, int Mask, ArrayView<T> V0, ArrayView<T> V1, ArrayView<T> V2, ArrayView<T> V3,
             Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap> Kernel)?
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
        var kernel = (Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>)
            _maps.GetOrAdd(typeof(TMap), _ => LoadMap<TMap, T>());
        return (xs, ys, mask, View(0, states), View(1, states), View(2, states), View(3, states), kernel);
    }

    /// <inheritdoc/>
    public void FusedMap<TMap, T>(in TMap c, Storage x, Storage y, ReadOnlySpan<Storage?> states, PrePass pre = PrePass.None)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Bind<TMap, T>(x, y, states) is not var (xs, ys, mask, v0, v1, v2, v3, kernel)) return;   // empty: nothing to run
        lock (_normGate)
        {
            var reduction = pre == PrePass.L2NormOfY ? SumSquaresOnDevice<T>(ys, ys.Length) : default;
            if (pre != PrePass.L2NormOfY) { EnsureScratch(1); reduction = _normScratch!.View.SubView(0, 1); }
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
        if (Bind<TMap, T>(x, y, states) is not var (xs, ys, mask, v0, v1, v2, v3, kernel)) return;   // empty: nothing to run
        var counter = (Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>)
            _counts.GetOrAdd(typeof(TCount), _ => LoadCount<TCount, T>());
        lock (_normGate)
        {
            // Counts per chunk (exact small integers in double), then the same in-order tree as the norm: exact.
            int chunks = (xs.Length + FusedKernels.CountChunk - 1) / FusedKernels.CountChunk;
            EnsureScratch(2 * chunks + 8);
            var level = _normScratch!.View.SubView(0, chunks);
            counter(chunks, xs.View<T>(), ys.View<T>(), v0, v1, v2, v3, level, mask, xs.Length, count);
            kernel(xs.Length, xs.View<T>(), ys.View<T>(), v0, v1, v2, v3, SumTree(level, chunks), mask | FusedKernels.FCount, c);
        }
        xs.BumpVersion();
        Sync();
    }

    private Delegate LoadCount<TCount, T>() where T : unmanaged
    {
        var method = typeof(FusedKernels).GetMethod(typeof(T) == typeof(float) ? nameof(FusedKernels.CountF) : nameof(FusedKernels.CountD))!.MakeGenericMethod(typeof(TCount));
        return KernelSet<T>.Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, int, TCount>>(Accelerator, method);
    }

    private Delegate LoadMap<TMap, T>() where T : unmanaged
    {
        var lane = typeof(T) == typeof(float) ? typeof(GpuLaneF) : typeof(GpuLaneD);
        var method = typeof(FusedKernels).GetMethod(nameof(FusedKernels.Map))!.MakeGenericMethod(typeof(TMap), typeof(T), lane);
        return KernelSet<T>.Auto<Action<Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<double>, int, TMap>>(Accelerator, method);
    }

    private void EnsureScratch(int length)
    {
        if (_normScratch is not null && _normScratch.Length >= length) return;
        _normScratch?.Dispose();
        _normScratch = Accelerator.Allocate1D<double>(Math.Max(length, 1024));
    }

    // ||g||^2 without atomics: fixed chunks of 256 summed in double, then a tree of in-order sums of 32 (its shape
    // depends on n only), each level written after the previous one in the scratch buffer; returns the 1-element total.
    private ArrayView<double> SumSquaresOnDevice<T>(IlgpuStorage g, int n) where T : unmanaged
    {
        int chunks = (n + 255) / 256;
        EnsureScratch(2 * chunks + 8);
        var level = _normScratch!.View.SubView(0, chunks);
        if (typeof(T) == typeof(float)) _f.SumSquares(chunks, g.View<float>(), level, n);
        else _d.SumSquares(chunks, g.View<double>(), level, n);
        return SumTree(level, chunks);
    }

    // Sums the partials in level (at the start of the scratch buffer) in a tree of in-order groups of 32, each level
    // written after the previous one from scratch offset at; returns the 1-element total.
    private ArrayView<double> SumTree(ArrayView<double> level, long at)
    {
        do
        {
            int count = (int)level.Length, next = (count + KernelsF.PartialFan - 1) / KernelsF.PartialFan;
            var up = _normScratch!.View.SubView(at, next);
            _f.SumPartials(next, level, up, count);
            level = up;
            at += next;
        } while (level.Length > 1);
        return level;
    }
}
