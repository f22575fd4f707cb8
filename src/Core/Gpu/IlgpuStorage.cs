// IlgpuStorage: a tensor's elements in one ILGPU device buffer, handed back to its backend's pool when a scope releases it.
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
