// Storage: a flat block of elements owned by one backend.
namespace Tiny;

/// <summary>A flat, contiguous block of elements on one device. Tensors are views over a storage.</summary>
public abstract class Storage
{
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

    /// <summary>Bytes held.</summary>
    public long Bytes => (long)Length * DType.Size();
}
