// DeviceMemory: the device buffers a backend reuses: tensor buffers by size, launch metadata by content, index arrays.
using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace Tiny.Gpu;

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

/// <summary>
/// The int buffers of launches: shape/stride metadata repeats step after step, so it is uploaded once and cached by
/// content (never written by kernels); index arrays (Gather/ScatterAdd) change every call and use pooled buffers.
/// </summary>
internal sealed class IntBuffers(Accelerator accelerator)
{
    private readonly object _gate = new();
    private readonly Dictionary<IntsKey, MemoryBuffer1D<int, Stride1D.Dense>> _meta = new();
    private readonly Dictionary<int, Stack<MemoryBuffer1D<int, Stride1D.Dense>>> _free = new();
    private long _allocations;
    private const int MaxCachedMeta = 4096;

    /// <summary>Device allocations made so far (metadata not yet cached, index buffers the pool could not serve).</summary>
    public long Allocations => Interlocked.Read(ref _allocations);

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
    public ArrayView<int> Meta(int[] data)
    {
        lock (_gate)
        {
            var key = new IntsKey(data);
            if (_meta.TryGetValue(key, out var b)) return b.View;
            if (_meta.Count >= MaxCachedMeta)
            {
                accelerator.Synchronize();
                foreach (var old in _meta.Values) old.Dispose();
                _meta.Clear();
            }
            b = accelerator.Allocate1D<int>(Math.Max(data.Length, 1));
            _allocations++;
            if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);
            _meta[key] = b;
            return b.View;
        }
    }

    /// <summary>An index array uploaded into a pooled buffer; hand it back with <see cref="ReturnIndex"/> after the launch.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> RentIndex(int[] data)
    {
        int n = Math.Max(data.Length, 1);
        MemoryBuffer1D<int, Stride1D.Dense>? b = null;
        lock (_gate)
        {
            if (_free.TryGetValue(n, out var st)) st.TryPop(out b);
            if (b is null) _allocations++;
        }
        b ??= accelerator.Allocate1D<int>(n);
        if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);   // waits for queued work first
        return b;
    }

    /// <summary>Takes back an index buffer after its launch was queued (the next user's work runs after it, in stream order).</summary>
    public void ReturnIndex(MemoryBuffer1D<int, Stride1D.Dense> b)
    {
        lock (_gate)
        {
            int n = (int)b.Length;
            if (!_free.TryGetValue(n, out var st)) _free[n] = st = new Stack<MemoryBuffer1D<int, Stride1D.Dense>>();
            st.Push(b);
        }
    }

    /// <summary>Frees the cached metadata and pooled index buffers (the caller has waited for the device).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            foreach (var b in _meta.Values) b.Dispose();
            _meta.Clear();
            foreach (var st in _free.Values) while (st.TryPop(out var b)) b.Dispose();
        }
    }
}
