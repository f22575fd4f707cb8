// The device side of IFusedMap: the GPU lanes (one element per thread) and the one generic kernel that runs any map.
using ILGPU;
using ILGPU.Algorithms;

namespace Tiny.Gpu;

/// <summary>A float32 GPU thread's lane: ILGPU's XMath. Fma is a*b + c (ILGPU 1.5.3 has no FMA intrinsic; a driver
/// may contract it).</summary>
public struct GpuLaneF : ILane<GpuLaneF, float>
{
    /// <summary>The element.</summary>
    public float V;
    /// <inheritdoc/>
    public static GpuLaneF Splat(float x) => new() { V = x };
    /// <inheritdoc/>
    public static GpuLaneF FromDouble(double x) => new() { V = (float)x };
    /// <inheritdoc/>
    public static GpuLaneF operator +(GpuLaneF a, GpuLaneF b) => new() { V = a.V + b.V };
    /// <inheritdoc/>
    public static GpuLaneF operator -(GpuLaneF a, GpuLaneF b) => new() { V = a.V - b.V };
    /// <inheritdoc/>
    public static GpuLaneF operator *(GpuLaneF a, GpuLaneF b) => new() { V = a.V * b.V };
    /// <inheritdoc/>
    public static GpuLaneF operator /(GpuLaneF a, GpuLaneF b) => new() { V = a.V / b.V };
    /// <inheritdoc/>
    public static GpuLaneF operator -(GpuLaneF a) => new() { V = -a.V };
    /// <inheritdoc/>
    public static GpuLaneF Fma(GpuLaneF a, GpuLaneF b, GpuLaneF c) => new() { V = a.V * b.V + c.V };
    /// <inheritdoc/>
    public static GpuLaneF Sqrt(GpuLaneF a) => new() { V = XMath.Sqrt(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Abs(GpuLaneF a) => new() { V = XMath.Abs(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Max(GpuLaneF a, GpuLaneF b) => new() { V = XMath.IsNaN(a.V) || a.V > b.V ? a.V : b.V };
    /// <inheritdoc/>
    public static GpuLaneF Min(GpuLaneF a, GpuLaneF b) => new() { V = XMath.IsNaN(a.V) || a.V < b.V ? a.V : b.V };
    /// <inheritdoc/>
    public static GpuLaneF Tanh(GpuLaneF a) => new() { V = XMath.Tanh(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Sign(GpuLaneF a) => new() { V = a.V > 0f ? 1f : a.V < 0f ? -1f : 0f };
    /// <inheritdoc/>
    public static GpuLaneF IfGreater(GpuLaneF a, GpuLaneF b, GpuLaneF ifGreater, GpuLaneF otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>A float64 GPU thread's lane (see <see cref="GpuLaneF"/>).</summary>
public struct GpuLaneD : ILane<GpuLaneD, double>
{
    /// <summary>The element.</summary>
    public double V;
    /// <inheritdoc/>
    public static GpuLaneD Splat(double x) => new() { V = x };
    /// <inheritdoc/>
    public static GpuLaneD FromDouble(double x) => new() { V = x };
    /// <inheritdoc/>
    public static GpuLaneD operator +(GpuLaneD a, GpuLaneD b) => new() { V = a.V + b.V };
    /// <inheritdoc/>
    public static GpuLaneD operator -(GpuLaneD a, GpuLaneD b) => new() { V = a.V - b.V };
    /// <inheritdoc/>
    public static GpuLaneD operator *(GpuLaneD a, GpuLaneD b) => new() { V = a.V * b.V };
    /// <inheritdoc/>
    public static GpuLaneD operator /(GpuLaneD a, GpuLaneD b) => new() { V = a.V / b.V };
    /// <inheritdoc/>
    public static GpuLaneD operator -(GpuLaneD a) => new() { V = -a.V };
    /// <inheritdoc/>
    public static GpuLaneD Fma(GpuLaneD a, GpuLaneD b, GpuLaneD c) => new() { V = a.V * b.V + c.V };
    /// <inheritdoc/>
    public static GpuLaneD Sqrt(GpuLaneD a) => new() { V = XMath.Sqrt(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Abs(GpuLaneD a) => new() { V = XMath.Abs(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Max(GpuLaneD a, GpuLaneD b) => new() { V = XMath.IsNaN(a.V) || a.V > b.V ? a.V : b.V };
    /// <inheritdoc/>
    public static GpuLaneD Min(GpuLaneD a, GpuLaneD b) => new() { V = XMath.IsNaN(a.V) || a.V < b.V ? a.V : b.V };
    /// <inheritdoc/>
    public static GpuLaneD Tanh(GpuLaneD a) => new() { V = XMath.Tanh(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Sign(GpuLaneD a) => new() { V = a.V > 0 ? 1 : a.V < 0 ? -1 : 0 };
    /// <inheritdoc/>
    public static GpuLaneD IfGreater(GpuLaneD a, GpuLaneD b, GpuLaneD ifGreater, GpuLaneD otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>The generic kernel of every fused map.</summary>
public static class FusedKernels
{
    /// <summary>Flags of <see cref="Map"/>: bit k (k &lt; 4) marks state slot k in use; FReduction: r = sqrt(reduction[0]);
    /// FCount: r = reduction[0] (a count).</summary>
    public const int FReduction = 16, FCount = 32;

    /// <summary>Elements per thread of <see cref="CountF"/> / <see cref="CountD"/>.</summary>
    public const int CountChunk = 256;

    /// <summary>One thread per element: lanes in, TMap.Apply, lanes out (x and the states in use).
    /// reduction[0] holds ||y||^2 when flags has <see cref="FReduction"/>.</summary>
    public static void Map<TMap, T, L>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<T> s0, ArrayView<T> s1, ArrayView<T> s2, ArrayView<T> s3,
                                       ArrayView<double> reduction, int flags, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        L r = default;
        if ((flags & FReduction) != 0) r = L.FromDouble(XMath.Sqrt(reduction[0]));   // ||y||_2 rounded to T
        else if ((flags & FCount) != 0) r = L.FromDouble(reduction[0]);               // a count rounded to T
        L xi = Lane<T, L>(x[i]), yi = Lane<T, L>(y[i]);
        L a0 = (flags & 1) != 0 ? Lane<T, L>(s0[i]) : default, a1 = (flags & 2) != 0 ? Lane<T, L>(s1[i]) : default;
        L a2 = (flags & 4) != 0 ? Lane<T, L>(s2[i]) : default, a3 = (flags & 8) != 0 ? Lane<T, L>(s3[i]) : default;
        TMap.Apply(c, r, ref xi, yi, ref a0, ref a1, ref a2, ref a3);
        x[i] = Elem<T, L>(xi);
        if ((flags & 1) != 0) s0[i] = Elem<T, L>(a0);
        if ((flags & 2) != 0) s1[i] = Elem<T, L>(a1);
        if ((flags & 4) != 0) s2[i] = Elem<T, L>(a2);
        if ((flags & 8) != 0) s3[i] = Elem<T, L>(a3);
    }

    /// <summary>The counting pre-pass (float32): one thread per chunk of <see cref="CountChunk"/> elements runs TMap over
    /// copies of the lanes (nothing stored, r = 0) and writes how many leave x &gt; 0 to partial[i].</summary>
    public static void CountF<TMap>(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> s0, ArrayView<float> s1, ArrayView<float> s2,
                                    ArrayView<float> s3, ArrayView<double> partial, int flags, int length, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, float>
    {
        int n = 0, end = XMath.Min(length, (i + 1) * CountChunk);
        for (int j = i * CountChunk; j < end; j++)
        {
            float v = Probe<TMap, float, GpuLaneF>(j, x, y, s0, s1, s2, s3, flags, c).V;
            if (v > 0f && !XMath.IsNaN(v)) n++;   // NaN is not > 0 (POCL's compiled compare said it was)
        }
        partial[i] = n;
    }

    /// <summary>The counting pre-pass (float64): see <see cref="CountF"/>.</summary>
    public static void CountD<TMap>(Index1D i, ArrayView<double> x, ArrayView<double> y, ArrayView<double> s0, ArrayView<double> s1, ArrayView<double> s2,
                                    ArrayView<double> s3, ArrayView<double> partial, int flags, int length, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, double>
    {
        int n = 0, end = XMath.Min(length, (i + 1) * CountChunk);
        for (int j = i * CountChunk; j < end; j++)
        {
            double v = Probe<TMap, double, GpuLaneD>(j, x, y, s0, s1, s2, s3, flags, c).V;
            if (v > 0 && !XMath.IsNaN(v)) n++;   // NaN is not > 0 (POCL's compiled compare said it was)
        }
        partial[i] = n;
    }

    /// <summary>TMap.Apply over copies of element j's lanes (r = 0); returns the x lane it leaves.</summary>
    private static L Probe<TMap, T, L>(int j, ArrayView<T> x, ArrayView<T> y, ArrayView<T> s0, ArrayView<T> s1, ArrayView<T> s2, ArrayView<T> s3, int flags, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        L xi = Lane<T, L>(x[j]), yi = Lane<T, L>(y[j]);
        L a0 = (flags & 1) != 0 ? Lane<T, L>(s0[j]) : default, a1 = (flags & 2) != 0 ? Lane<T, L>(s1[j]) : default;
        L a2 = (flags & 4) != 0 ? Lane<T, L>(s2[j]) : default, a3 = (flags & 8) != 0 ? Lane<T, L>(s3[j]) : default;
        TMap.Apply(c, default, ref xi, yi, ref a0, ref a1, ref a2, ref a3);
        return xi;
    }

    private static L Lane<T, L>(T v) where T : unmanaged where L : struct, ILane<L, T> => L.Splat(v);
    private static T Elem<T, L>(L v) where T : unmanaged where L : struct => System.Runtime.CompilerServices.Unsafe.As<L, T>(ref v);
}
