// FusedKernels: the one generic kernel that runs any IFusedMap on a GPU (one element per thread), and its counting pre-pass.
using ILGPU;
using ILGPU.Algorithms;

namespace Tiny.Gpu;

/// <summary>The generic kernels of every fused map.</summary>
public static class FusedKernels
{
    /// <summary>Flags of <see cref="Map"/>: bit k (k &lt; 4) marks state slot k in use; FReduction: r = sqrt(reduction[0]);
    /// FCount: r = reduction[0] (a count).</summary>
    public const int FReduction = 16, FCount = 32;

    /// <summary>Elements per thread of <see cref="Count"/>.</summary>
    public const int CountChunk = 256;

    /// <summary>One thread per element: lanes in, TMap.Apply, lanes out (x and the states in use).
    /// reduction[0] holds ||y||^2 when flags has <see cref="FReduction"/>.</summary>
    public static void Map<TMap, T, L>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<T> s0, ArrayView<T> s1, ArrayView<T> s2, ArrayView<T> s3,
                                       ArrayView<double> reduction, int flags, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, IGpuLane<L, T>
    {
        L r = default;
        if ((flags & FReduction) != 0) r = L.FromDouble(XMath.Sqrt(reduction[0]));   // ||y||_2 rounded to T
        else if ((flags & FCount) != 0) r = L.FromDouble(reduction[0]);               // a count rounded to T
        L xi = L.Splat(x[i]), yi = L.Splat(y[i]);
        L a0 = (flags & 1) != 0 ? L.Splat(s0[i]) : default, a1 = (flags & 2) != 0 ? L.Splat(s1[i]) : default;
        L a2 = (flags & 4) != 0 ? L.Splat(s2[i]) : default, a3 = (flags & 8) != 0 ? L.Splat(s3[i]) : default;
        TMap.Apply(c, r, ref xi, yi, ref a0, ref a1, ref a2, ref a3);
        x[i] = L.Value(xi);
        if ((flags & 1) != 0) s0[i] = L.Value(a0);
        if ((flags & 2) != 0) s1[i] = L.Value(a1);
        if ((flags & 4) != 0) s2[i] = L.Value(a2);
        if ((flags & 8) != 0) s3[i] = L.Value(a3);
    }

    /// <summary>The counting pre-pass: one thread per chunk of <see cref="CountChunk"/> elements runs TMap over copies of
    /// the lanes (nothing stored, r = 0) and writes how many leave x &gt; 0 to partial[i].</summary>
    public static void Count<TMap, T, L>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<T> s0, ArrayView<T> s1, ArrayView<T> s2,
                                         ArrayView<T> s3, ArrayView<double> partial, int flags, int length, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, IGpuLane<L, T>
    {
        int n = 0, end = XMath.Min(length, (i + 1) * CountChunk);
        for (int j = i * CountChunk; j < end; j++)
        {
            L xi = L.Splat(x[j]), yi = L.Splat(y[j]);
            L a0 = (flags & 1) != 0 ? L.Splat(s0[j]) : default, a1 = (flags & 2) != 0 ? L.Splat(s1[j]) : default;
            L a2 = (flags & 4) != 0 ? L.Splat(s2[j]) : default, a3 = (flags & 8) != 0 ? L.Splat(s3[j]) : default;
            TMap.Apply(c, default, ref xi, yi, ref a0, ref a1, ref a2, ref a3);
            if (xi > L.FromDouble(0) && !L.IsNaN(xi)) n++;   // NaN is not > 0 (POCL's compiled compare said it was)
        }
        partial[i] = n;
    }
}
