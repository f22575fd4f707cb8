// IlgpuBackend: IBackend on one ILGPU accelerator (CUDA, OpenCL or ILGPU's CPU accelerator): setup, the queue and its
// waits, storages, creation and host transfer. The ops are in IlgpuBackend.Elementwise.cs, .Gemm.cs and .Reductions.cs.
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

/// <summary>IBackend on one ILGPU accelerator; semantics identical to CpuBackend (the tests hold them equal).</summary>
public sealed partial class IlgpuBackend : IBackend, IDisposable
{
    private readonly KernelSet<float> _f;
    private readonly KernelSet<double> _d;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int> _sumPartials;
    internal readonly BufferPool Pool;
    private readonly IntBuffers _ints;

    internal IlgpuBackend(Accelerator accelerator, Device device, string name)
    {
        Accelerator = accelerator;
        Device = device;
        Name = name;
        Pool = new BufferPool(accelerator, name);
        _ints = new IntBuffers(accelerator);
        _f = new KernelSet<float, GpuLaneF>(accelerator);
        _d = new KernelSet<double, GpuLaneD>(accelerator);
        _sumPartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int>(Kernels.SumPartials);
        _groupSide = Kernels.MaxThreads;
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
    public long DeviceAllocations => Pool.Allocations + _ints.Allocations;

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

    // Outside a Tensor.Scope every op waits for its kernels before returning: the GC may free an unscoped storage's
    // buffer as soon as the caller drops it. Inside a scope the ops' storages are only recycled through the pool, in
    // stream order, so launches are queued without waiting (launch overhead is the GPU's enemy for RL's small nets);
    // host reads (ToFloatArray, GetItem, SumSquares) always wait.
    private void Sync()
    {
        Interlocked.Increment(ref _ops);
        if (SyncEachOp || ScopeStack.Depth == 0) Wait();
    }

    /// <summary>Frees the pooled buffers (tensor data and cached launch metadata) after waiting for the device.</summary>
    public void TrimPool()
    {
        Accelerator.Synchronize();
        Pool.Clear();
        _ints.Clear();
    }

    /// <summary>Frees the pooled buffers and the ILGPU accelerator; storages of this backend are unusable afterwards.</summary>
    public void Dispose()
    {
        _scratch?.Dispose();
        Accelerator.Dispose();
    }

    /// <summary>Hands a storage's buffer back to this backend's pool for reuse; the storage must not be used again.</summary>
    public void Release(Storage s) => Pool.Return(S(s).Buffer, s.DType);

    private IlgpuStorage S(Storage s) => s is IlgpuStorage g && ReferenceEquals(g.Backend, this) ? g
        : throw new ArgumentException($"{Name} backend: storage lives on {s.Backend.Name}, not {Name} (move tensors with To(device) first)");

    /// <summary>The kernels of a dtype.</summary>
    private KernelSet K(DType dtype) => dtype == DType.Float32 ? _f : _d;

    /// <summary>The kernels of T (float or double), with its fused-map loaders.</summary>
    private KernelSet<T> K<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (KernelSet<T>)(object)_f : (KernelSet<T>)(object)_d;

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
    public Storage FromArray(float[] data) => Upload<float>(data);

    /// <inheritdoc/>
    public Storage FromArray(double[] data) => Upload<double>(data);

    private IlgpuStorage Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var s = New(typeof(T) == typeof(float) ? DType.Float32 : DType.Float64, data.Length);
        if (data.Length > 0) s.View<T>().CopyFromCPU(data);
        return s;
    }

    /// <inheritdoc/>
    public float[] ToFloatArray(Storage s) => Download<float>(s, DType.Float32);

    /// <inheritdoc/>
    public double[] ToDoubleArray(Storage s) => Download<double>(s, DType.Float64);

    private T[] Download<T>(Storage s, DType dtype) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var g = S(s);
        if (g.DType != dtype) g = S(Cast(g, dtype));
        var r = new T[g.Length];
        CopyToHost<T>(g, r);
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
        if (g.DType == dtype) CopyView(o, g);
        else if (dtype == DType.Float64) _f.ToDouble(g, o);   // float32 widened
        else _f.FromDouble(g, o);                             // float64 rounded to float32
        Sync();
        return o;
    }

    // Random numbers come from Tiny.Rng on the host, then are uploaded: same seed, same numbers as the CPU backend.
    /// <inheritdoc/>
    public Storage Uniform(DType dtype, int length, double low, double high, Rng rng) => Upload(Tiny.Cpu.CpuBackend.Instance.Uniform(dtype, length, low, high, rng));
    /// <inheritdoc/>
    public Storage Normal(DType dtype, int length, double mean, double std, Rng rng) => Upload(Tiny.Cpu.CpuBackend.Instance.Normal(dtype, length, mean, std, rng));

    private IlgpuStorage Upload(Storage host) => host.DType == DType.Float32 ? Upload<float>(host.AsSpan<float>()) : Upload<double>(host.AsSpan<double>());
}
