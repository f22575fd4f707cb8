// GpuLanes: the element types as GPU code sees them (one element per thread), the only per-type code of the kernels.
using System.Runtime.CompilerServices;
using ILGPU.Algorithms;

namespace Tiny.Gpu;

/// <summary>
/// A GPU lane: <see cref="ILane{TSelf, T}"/> (what fused maps use) plus the math, comparisons and conversions the
/// tensor kernels need. Every kernel is written once over (T, L) and compiled for (float, GpuLaneF) and
/// (double, GpuLaneD); these two structs are the only place the element type picks ILGPU's XMath overload.
/// </summary>
public interface IGpuLane<TSelf, T> : ILane<TSelf, T> where TSelf : struct, IGpuLane<TSelf, T> where T : unmanaged
{
    /// <summary>The element.</summary>
    static abstract T Value(TSelf a);
    /// <summary>The element widened (or kept) to double.</summary>
    static abstract double ToDouble(TSelf a);
    /// <summary>e^a.</summary>
    static abstract TSelf Exp(TSelf a);
    /// <summary>ln a.</summary>
    static abstract TSelf Log(TSelf a);
    /// <summary>sin a.</summary>
    static abstract TSelf Sin(TSelf a);
    /// <summary>cos a.</summary>
    static abstract TSelf Cos(TSelf a);
    /// <summary>a ^ b.</summary>
    static abstract TSelf Pow(TSelf a, TSelf b);
    /// <summary>a is NaN.</summary>
    static abstract bool IsNaN(TSelf a);
    /// <summary>a is +inf or -inf.</summary>
    static abstract bool IsInfinity(TSelf a);
    /// <summary>a == b (false when either is NaN).</summary>
    static abstract bool Equal(TSelf a, TSelf b);
    /// <summary>a &gt; b (false when either is NaN).</summary>
    static abstract bool operator >(TSelf a, TSelf b);
    /// <summary>a &lt; b (false when either is NaN).</summary>
    static abstract bool operator <(TSelf a, TSelf b);
    /// <summary>a &gt;= b (false when either is NaN).</summary>
    static abstract bool operator >=(TSelf a, TSelf b);
    /// <summary>a &lt;= b (false when either is NaN).</summary>
    static abstract bool operator <=(TSelf a, TSelf b);
}

/// <summary>A float32 GPU thread's lane: ILGPU's XMath. Fma is a*b + c (ILGPU 1.5.3 has no FMA intrinsic; a driver
/// may contract it).</summary>
public struct GpuLaneF : IGpuLane<GpuLaneF, float>
{
    /// <summary>The element.</summary>
    public float V;
    /// <inheritdoc/>
    public static GpuLaneF Splat(float x) => new() { V = x };
    /// <inheritdoc/>
    public static GpuLaneF FromDouble(double x) => new() { V = (float)x };
    /// <inheritdoc/>
    public static float Value(GpuLaneF a) => a.V;
    /// <inheritdoc/>
    public static double ToDouble(GpuLaneF a) => a.V;
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
    public static bool operator >(GpuLaneF a, GpuLaneF b) => a.V > b.V;
    /// <inheritdoc/>
    public static bool operator <(GpuLaneF a, GpuLaneF b) => a.V < b.V;
    /// <inheritdoc/>
    public static bool operator >=(GpuLaneF a, GpuLaneF b) => a.V >= b.V;
    /// <inheritdoc/>
    public static bool operator <=(GpuLaneF a, GpuLaneF b) => a.V <= b.V;
    /// <inheritdoc/>
    public static bool Equal(GpuLaneF a, GpuLaneF b) => a.V == b.V;
    /// <inheritdoc/>
    public static bool IsNaN(GpuLaneF a) => XMath.IsNaN(a.V);
    /// <inheritdoc/>
    public static bool IsInfinity(GpuLaneF a) => XMath.IsInfinity(a.V);
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
    public static GpuLaneF Exp(GpuLaneF a) => new() { V = XMath.Exp(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Log(GpuLaneF a) => new() { V = XMath.Log(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Sin(GpuLaneF a) => new() { V = XMath.Sin(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Cos(GpuLaneF a) => new() { V = XMath.Cos(a.V) };
    /// <inheritdoc/>
    public static GpuLaneF Pow(GpuLaneF a, GpuLaneF b) => new() { V = XMath.Pow(a.V, b.V) };
    /// <inheritdoc/>
    public static GpuLaneF Sign(GpuLaneF a) => new() { V = a.V > 0f ? 1f : a.V < 0f ? -1f : 0f };
    /// <inheritdoc/>
    public static GpuLaneF IfGreater(GpuLaneF a, GpuLaneF b, GpuLaneF ifGreater, GpuLaneF otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>A float64 GPU thread's lane (see <see cref="GpuLaneF"/>).</summary>
public struct GpuLaneD : IGpuLane<GpuLaneD, double>
{
    /// <summary>The element.</summary>
    public double V;
    /// <inheritdoc/>
    public static GpuLaneD Splat(double x) => new() { V = x };
    /// <inheritdoc/>
    public static GpuLaneD FromDouble(double x) => new() { V = x };
    /// <inheritdoc/>
    public static double Value(GpuLaneD a) => a.V;
    /// <inheritdoc/>
    public static double ToDouble(GpuLaneD a) => a.V;
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
    public static bool operator >(GpuLaneD a, GpuLaneD b) => a.V > b.V;
    /// <inheritdoc/>
    public static bool operator <(GpuLaneD a, GpuLaneD b) => a.V < b.V;
    /// <inheritdoc/>
    public static bool operator >=(GpuLaneD a, GpuLaneD b) => a.V >= b.V;
    /// <inheritdoc/>
    public static bool operator <=(GpuLaneD a, GpuLaneD b) => a.V <= b.V;
    /// <inheritdoc/>
    public static bool Equal(GpuLaneD a, GpuLaneD b) => a.V == b.V;
    /// <inheritdoc/>
    public static bool IsNaN(GpuLaneD a) => XMath.IsNaN(a.V);
    /// <inheritdoc/>
    public static bool IsInfinity(GpuLaneD a) => XMath.IsInfinity(a.V);
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
    public static GpuLaneD Exp(GpuLaneD a) => new() { V = XMath.Exp(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Log(GpuLaneD a) => new() { V = XMath.Log(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Sin(GpuLaneD a) => new() { V = XMath.Sin(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Cos(GpuLaneD a) => new() { V = XMath.Cos(a.V) };
    /// <inheritdoc/>
    public static GpuLaneD Pow(GpuLaneD a, GpuLaneD b) => new() { V = XMath.Pow(a.V, b.V) };
    /// <inheritdoc/>
    public static GpuLaneD Sign(GpuLaneD a) => new() { V = a.V > 0 ? 1 : a.V < 0 ? -1 : 0 };
    /// <inheritdoc/>
    public static GpuLaneD IfGreater(GpuLaneD a, GpuLaneD b, GpuLaneD ifGreater, GpuLaneD otherwise) => a.V > b.V ? ifGreater : otherwise;
}
