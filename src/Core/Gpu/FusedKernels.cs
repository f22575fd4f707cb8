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
    public static GpuLaneF Splat(float x) => new() { V = x };
    public static GpuLaneF FromDouble(double x) => new() { V = (float)x };
    public static GpuLaneF operator +(GpuLaneF a, GpuLaneF b) => new() { V = a.V + b.V };
    public static GpuLaneF operator -(GpuLaneF a, GpuLaneF b) => new() { V = a.V - b.V };
    public static GpuLaneF operator *(GpuLaneF a, GpuLaneF b) => new() { V = a.V * b.V };
    public static GpuLaneF operator /(GpuLaneF a, GpuLaneF b) => new() { V = a.V / b.V };
    public static GpuLaneF operator -(GpuLaneF a) => new() { V = -a.V };
    public static GpuLaneF Fma(GpuLaneF a, GpuLaneF b, GpuLaneF c) => new() { V = a.V * b.V + c.V };
    public static GpuLaneF Sqrt(GpuLaneF a) => new() { V = XMath.Sqrt(a.V) };
    public static GpuLaneF Abs(GpuLaneF a) => new() { V = XMath.Abs(a.V) };
    public static GpuLaneF Max(GpuLaneF a, GpuLaneF b) => new() { V = XMath.IsNaN(a.V) || a.V > b.V ? a.V : b.V };
    public static GpuLaneF Min(GpuLaneF a, GpuLaneF b) => new() { V = XMath.IsNaN(a.V) || a.V < b.V ? a.V : b.V };
    public static GpuLaneF Tanh(GpuLaneF a) => new() { V = XMath.Tanh(a.V) };
    public static GpuLaneF Sign(GpuLaneF a) => new() { V = a.V > 0f ? 1f : a.V < 0f ? -1f : 0f };
    public static GpuLaneF IfGreater(GpuLaneF a, GpuLaneF b, GpuLaneF ifGreater, GpuLaneF otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>A float64 GPU thread's lane (see <see cref="GpuLaneF"/>).</summary>
public struct GpuLaneD : ILane<GpuLaneD, double>
{
    /// <summary>The element.</summary>
    public double V;
    public static GpuLaneD Splat(double x) => new() { V = x };
    public static GpuLaneD FromDouble(double x) => new() { V = x };
    public static GpuLaneD operator +(GpuLaneD a, GpuLaneD b) => new() { V = a.V + b.V };
    public static GpuLaneD operator -(GpuLaneD a, GpuLaneD b) => new() { V = a.V - b.V };
    public static GpuLaneD operator *(GpuLaneD a, GpuLaneD b) => new() { V = a.V * b.V };
    public static GpuLaneD operator /(GpuLaneD a, GpuLaneD b) => new() { V = a.V / b.V };
    public static GpuLaneD operator -(GpuLaneD a) => new() { V = -a.V };
    public static GpuLaneD Fma(GpuLaneD a, GpuLaneD b, GpuLaneD c) => new() { V = a.V * b.V + c.V };
    public static GpuLaneD Sqrt(GpuLaneD a) => new() { V = XMath.Sqrt(a.V) };
    public static GpuLaneD Abs(GpuLaneD a) => new() { V = XMath.Abs(a.V) };
    public static GpuLaneD Max(GpuLaneD a, GpuLaneD b) => new() { V = XMath.IsNaN(a.V) || a.V > b.V ? a.V : b.V };
    public static GpuLaneD Min(GpuLaneD a, GpuLaneD b) => new() { V = XMath.IsNaN(a.V) || a.V < b.V ? a.V : b.V };
    public static GpuLaneD Tanh(GpuLaneD a) => new() { V = XMath.Tanh(a.V) };
    public static GpuLaneD Sign(GpuLaneD a) => new() { V = a.V > 0 ? 1 : a.V < 0 ? -1 : 0 };
    public static GpuLaneD IfGreater(GpuLaneD a, GpuLaneD b, GpuLaneD ifGreater, GpuLaneD otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>The generic kernel of every fused map.</summary>
public static class FusedKernels
{
    /// <summary>Flags of <see cref="Map"/>: bit k (k &lt; 4) marks state slot k in use; FReduction: r = sqrt(reduction[0]).</summary>
    public const int FReduction = 16;

    /// <summary>One thread per element: lanes in, TMap.Apply, lanes out (x and the states in use).
    /// reduction[0] holds ||y||^2 when flags has <see cref="FReduction"/>.</summary>
    public static void Map<TMap, T, L>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<T> s0, ArrayView<T> s1, ArrayView<T> s2, ArrayView<T> s3,
                                       ArrayView<double> reduction, int flags, TMap c)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        L r = default;
        if ((flags & FReduction) != 0) r = L.FromDouble(XMath.Sqrt(reduction[0]));   // ||y||_2 rounded to T
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

    private static L Lane<T, L>(T v) where T : unmanaged where L : struct, ILane<L, T> => L.Splat(v);
    private static T Elem<T, L>(L v) where T : unmanaged where L : struct => System.Runtime.CompilerServices.Unsafe.As<L, T>(ref v);
}
