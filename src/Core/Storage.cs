// Storage: a flat block of elements owned by one backend.
namespace Tiny;

/// <summary>Where a storage stands with Tensor.Scope: not owned by one, owned by an open one, or handed back.</summary>
internal enum ScopeState : byte { None, Scoped, Released }

/// <summary>A flat, contiguous block of elements on one device. Tensors are views over a storage.</summary>
public abstract class Storage
{
    /// <summary>Records the element type and length; a backend's subclass owns the memory.</summary>
    protected Storage(DType dtype, int length)
    {
        DType = dtype;
        Length = length;
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The backend that owns this storage.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>Bumped by every in-place write, so autograd can detect a saved tensor changed before backward.</summary>
    public int Version { get; internal set; }

    /// <summary>Marks an in-place modification.</summary>
    public void BumpVersion() => Version++;

    /// <summary>Owned by an open Tensor.Scope, released by a closed one, or neither (the GC owns it).</summary>
    internal ScopeState Scope;

    /// <summary>True once a Tensor.Scope has handed this storage's memory back to its pool.</summary>
    public bool IsReleased => Scope == ScopeState.Released;

    /// <summary>Detaches this storage from its scope: the GC owns it from now on.</summary>
    internal void Keep()
    {
        if (Scope == ScopeState.Scoped) Scope = ScopeState.None;
    }

    /// <summary>Called once when a closing Tensor.Scope releases this storage: hand the memory back to the backend's pool.</summary>
    internal virtual void Recycle() { }

    /// <summary>The elements as a span over host memory, for a backend that keeps them there (T is the element type);
    /// a device backend throws: copy its elements with <see cref="IBackend.CopyToHost{T}"/>.</summary>
    public virtual Span<T> AsSpan<T>() where T : unmanaged =>
        throw new InvalidOperationException($"{Backend.Name}: the elements are in device memory, not host memory (copy them out with CopyToHost or ToFloatArray)");

    /// <summary>Bytes held.</summary>
    public long Bytes => (long)Length * DType.Size();
}
