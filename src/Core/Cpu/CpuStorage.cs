// CpuStorage: a managed array (float[] or double[]) owned by the CPU backend.
using System.Runtime.CompilerServices;

namespace Tiny.Cpu;

/// <summary>Storage in a managed array: float[] for float32, double[] for float64.</summary>
public sealed class CpuStorage : Storage
{
    /// <summary>The array: float[] or double[] according to <see cref="Storage.DType"/>.</summary>
    public readonly Array Data;

    /// <summary>A float32 storage over data (not copied: the storage owns the array from now on).</summary>
    public CpuStorage(float[] data) : base(DType.Float32, data.Length) => Data = data;
    /// <summary>A float64 storage over data (not copied: the storage owns the array from now on).</summary>
    public CpuStorage(double[] data) : base(DType.Float64, data.Length) => Data = data;

    /// <summary>The CPU backend, the owner of every CpuStorage.</summary>
    public override IBackend Backend => CpuBackend.Instance;

    /// <summary>The float32 array (only when DType is Float32).</summary>
    public float[] F => DType == DType.Float32 ? Unsafe.As<float[]>(Data) : throw new InvalidOperationException("storage is float64, not float32");

    /// <summary>The float64 array (only when DType is Float64).</summary>
    public double[] D => DType == DType.Float64 ? Unsafe.As<double[]>(Data) : throw new InvalidOperationException("storage is float32, not float64");

    /// <summary>A closing Tensor.Scope released this storage: its array goes back to the thread's pool.</summary>
    internal override void Recycle() => CpuArrays.Return(Data);

    /// <inheritdoc/>
    public override Span<T> AsSpan<T>() => Data is T[] a ? a
        : throw new InvalidOperationException($"storage is {DType.Name()}, not {(typeof(T) == typeof(float) ? "float32" : typeof(T) == typeof(double) ? "float64" : typeof(T).Name)}");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal T[] Get<T>() => Unsafe.As<T[]>(Data);

    internal static CpuStorage Of<T>(T[] data) => typeof(T) == typeof(float)
        ? new CpuStorage(Unsafe.As<float[]>(data))
        : new CpuStorage(Unsafe.As<double[]>(data));
}
