// The lane abstraction of fused elementwise code: one source written over ILane runs as CPU SIMD (Vector512 or
// Vector256 lanes plus a scalar tail) and as one ILGPU thread per element (GpuLanes.cs).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tiny;

/// <summary>
/// A lane type: one element (a GPU thread, the CPU's scalar tail) or a SIMD vector of T. Fused maps
/// (<see cref="IFusedMap{TSelf, T}"/>) are written once over L : ILane, the way TensorPrimitives writes an operator
/// once for every width. Every operation rounds as its scalar IEEE counterpart does, lane by lane.
/// </summary>
public interface ILane<TSelf, T> where TSelf : struct, ILane<TSelf, T> where T : unmanaged
{
    /// <summary>Every lane holds x.</summary>
    static abstract TSelf Splat(T x);
    /// <summary>Every lane holds x rounded to T.</summary>
    static abstract TSelf FromDouble(double x);
    /// <summary>Lane-wise a + b.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);
    /// <summary>Lane-wise a - b.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);
    /// <summary>Lane-wise a * b.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);
    /// <summary>Lane-wise a / b.</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);
    /// <summary>Lane-wise -a.</summary>
    static abstract TSelf operator -(TSelf a);
    /// <summary>a*b + c rounded once (CPU lanes; GPU lanes round the product too: ILGPU 1.5.3 has no FMA intrinsic).</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
    /// <summary>Lane-wise sqrt(a), correctly rounded (NaN for a &lt; 0).</summary>
    static abstract TSelf Sqrt(TSelf a);
    /// <summary>Lane-wise |a|.</summary>
    static abstract TSelf Abs(TSelf a);
    /// <summary>IEEE maximum (NaN propagates), as T.Max.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    /// <summary>IEEE minimum (NaN propagates), as T.Min.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>tanh: torch's own SLEEF u10 algorithm on the CPU (bit-equal to torch), the device's tanh on a GPU.</summary>
    static abstract TSelf Tanh(TSelf a);
    /// <summary>-1, 0 or 1 per lane: (a &gt; 0) - (a &lt; 0), so +0 for ±0 and for NaN, as torch.sign.</summary>
    static abstract TSelf Sign(TSelf a);
    /// <summary>Per lane a &gt; b ? ifGreater : otherwise (false for NaN).</summary>
    static abstract TSelf IfGreater(TSelf a, TSelf b, TSelf ifGreater, TSelf otherwise);
}

/// <summary>A flag in a fused map's constants: an int on the device (ILGPU arguments must be blittable), a bool in code.</summary>
public readonly struct Flag
{
    private readonly int _on;
    private Flag(bool on) => _on = on ? 1 : 0;
    /// <summary>True when the flag is set.</summary>
    public static implicit operator bool(Flag f) => f._on != 0;
    /// <summary>A flag set when b is true.</summary>
    public static implicit operator Flag(bool b) => new(b);
}

/// <summary>The CPU's scalar lane (the tail of every SIMD pass).</summary>
public readonly struct Lane1<T>(T v) : ILane<Lane1<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The element.</summary>
    public readonly T V = v;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Splat(T x) => new(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> FromDouble(double x) => new(T.CreateTruncating(x));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> operator +(Lane1<T> a, Lane1<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> operator -(Lane1<T> a, Lane1<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> operator *(Lane1<T> a, Lane1<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> operator /(Lane1<T> a, Lane1<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> operator -(Lane1<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Fma(Lane1<T> a, Lane1<T> b, Lane1<T> c) => new(T.FusedMultiplyAdd(a.V, b.V, c.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Sqrt(Lane1<T> a) => new(T.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Abs(Lane1<T> a) => new(T.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Max(Lane1<T> a, Lane1<T> b) => new(T.Max(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1<T> Min(Lane1<T> a, Lane1<T> b) => new(T.Min(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1<T> Tanh(Lane1<T> a) => typeof(T) == typeof(float)
        ? new((T)(object)Cpu.TorchTanh.Tanh((float)(object)a.V)) : new((T)(object)Cpu.TorchTanh.Tanh((double)(object)a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1<T> Sign(Lane1<T> a) => new(a.V > T.Zero ? T.One : a.V < T.Zero ? -T.One : T.Zero);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1<T> IfGreater(Lane1<T> a, Lane1<T> b, Lane1<T> ifGreater, Lane1<T> otherwise) => a.V > b.V ? ifGreater : otherwise;
}

/// <summary>A Vector256 lane (AVX2 machines).</summary>
public readonly struct Lane256<T>(Vector256<T> v) : ILane<Lane256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The lanes.</summary>
    public readonly Vector256<T> V = v;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> Splat(T x) => new(Vector256.Create(x));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> FromDouble(double x) => Splat(T.CreateTruncating(x));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> operator +(Lane256<T> a, Lane256<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> operator -(Lane256<T> a, Lane256<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> operator *(Lane256<T> a, Lane256<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> operator /(Lane256<T> a, Lane256<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> operator -(Lane256<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane256<T> Fma(Lane256<T> a, Lane256<T> b, Lane256<T> c) => typeof(T) == typeof(float)
        ? new(Vector256.FusedMultiplyAdd(a.V.AsSingle(), b.V.AsSingle(), c.V.AsSingle()).As<float, T>())
        : new(Vector256.FusedMultiplyAdd(a.V.AsDouble(), b.V.AsDouble(), c.V.AsDouble()).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> Sqrt(Lane256<T> a) => new(Vector256.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> Abs(Lane256<T> a) => new(Vector256.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> Max(Lane256<T> a, Lane256<T> b) => new(Vector256.Max(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane256<T> Min(Lane256<T> a, Lane256<T> b) => new(Vector256.Min(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane256<T> Tanh(Lane256<T> a) => typeof(T) == typeof(float)
        ? new(Cpu.TorchTanh.Tanh(a.V.AsSingle()).As<float, T>()) : new(Cpu.TorchTanh.Tanh(a.V.AsDouble()).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane256<T> Sign(Lane256<T> a) => new(Vector256.ConditionalSelect(Vector256.GreaterThan(a.V, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero)
                                                    - Vector256.ConditionalSelect(Vector256.LessThan(a.V, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane256<T> IfGreater(Lane256<T> a, Lane256<T> b, Lane256<T> ifGreater, Lane256<T> otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(a.V, b.V), ifGreater.V, otherwise.V));
}

/// <summary>A Vector512 lane (AVX-512 machines).</summary>
public readonly struct Lane512<T>(Vector512<T> v) : ILane<Lane512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The lanes.</summary>
    public readonly Vector512<T> V = v;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> Splat(T x) => new(Vector512.Create(x));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> FromDouble(double x) => Splat(T.CreateTruncating(x));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> operator +(Lane512<T> a, Lane512<T> b) => new(a.V + b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> operator -(Lane512<T> a, Lane512<T> b) => new(a.V - b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> operator *(Lane512<T> a, Lane512<T> b) => new(a.V * b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> operator /(Lane512<T> a, Lane512<T> b) => new(a.V / b.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> operator -(Lane512<T> a) => new(-a.V);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane512<T> Fma(Lane512<T> a, Lane512<T> b, Lane512<T> c) => typeof(T) == typeof(float)
        ? new(Vector512.FusedMultiplyAdd(a.V.AsSingle(), b.V.AsSingle(), c.V.AsSingle()).As<float, T>())
        : new(Vector512.FusedMultiplyAdd(a.V.AsDouble(), b.V.AsDouble(), c.V.AsDouble()).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> Sqrt(Lane512<T> a) => new(Vector512.Sqrt(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> Abs(Lane512<T> a) => new(Vector512.Abs(a.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> Max(Lane512<T> a, Lane512<T> b) => new(Vector512.Max(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane512<T> Min(Lane512<T> a, Lane512<T> b) => new(Vector512.Min(a.V, b.V));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane512<T> Tanh(Lane512<T> a)
    {
        if (typeof(T) == typeof(float)) return new(Cpu.TorchTanh.Tanh(a.V.AsSingle()).As<float, T>());
        var d = a.V.AsDouble();   // no 512-bit float64 tanh: two 256-bit halves
        return new(Vector512.Create(Cpu.TorchTanh.Tanh(d.GetLower()), Cpu.TorchTanh.Tanh(d.GetUpper())).As<double, T>());
    }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane512<T> Sign(Lane512<T> a) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(a.V, Vector512<T>.Zero), Vector512<T>.One, Vector512<T>.Zero)
                                                    - Vector512.ConditionalSelect(Vector512.LessThan(a.V, Vector512<T>.Zero), Vector512<T>.One, Vector512<T>.Zero));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane512<T> IfGreater(Lane512<T> a, Lane512<T> b, Lane512<T> ifGreater, Lane512<T> otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(a.V, b.V), ifGreater.V, otherwise.V));
}
