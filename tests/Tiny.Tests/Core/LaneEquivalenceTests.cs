// Tests that every ILane operation of the CPU's SIMD lanes gives the scalar lane's bits element by element: what lets a
// fused pass give the same bits whichever elements fall in a vector or in the scalar tail (CpuParallel's split).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NUnit.Framework;

namespace Tiny.Tests.Core;

public sealed class LaneEquivalenceTests
{
    private static readonly string[] OpNames =
        ["a+b", "a-b", "a*b", "a/b", "-a", "Fma(a,b,c)", "Sqrt(a)", "Abs(a)", "Max(a,b)", "Min(a,b)", "Tanh(a)", "Sign(a)",
         "IfGreater(a,b,c,a)", "Splat(c)", "FromDouble(b)"];

    /// <summary>Operands: the specials (±0, ±1, ±inf, NaN, the smallest subnormal and normal, the largest finite),
    /// halfway and tanh-edge values, then uniform draws over sign, exponent and mantissa; b and c are a in other orders.</summary>
    private static (T[] a, T[] b, T[] c) Operands<T>(int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] specials =
        [
            T.Zero, T.NegativeZero, T.One, T.NegativeOne, T.PositiveInfinity, T.NegativeInfinity, T.NaN, T.Epsilon, -T.Epsilon,
            T.CreateTruncating(typeof(T) == typeof(float) ? 1.17549435e-38 : 2.2250738585072014e-308),
            T.CreateTruncating(typeof(T) == typeof(float) ? 3.4028234663852886e38 : double.MaxValue),
            T.CreateTruncating(0.5), T.CreateTruncating(-2.5), T.CreateTruncating(9.0), T.CreateTruncating(1e-4),
            T.CreateTruncating(0.625), T.CreateTruncating(-8.9), T.CreateTruncating(20.0), T.CreateTruncating(1e-30),
        ];
        var rng = new Random(7);
        var a = new T[n];
        for (int i = 0; i < n; i++)
            a[i] = i < specials.Length ? specials[i]
                : T.CreateTruncating((rng.Next(2) == 0 ? -1 : 1) * (0.5 + rng.NextDouble()) * Math.Pow(2, rng.Next(-40, 41)));
        T[] b = new T[n], c = new T[n];
        for (int i = 0; i < n; i++) { b[i] = a[(i * 7 + 3) % n]; c[i] = a[(i * 13 + 5) % n]; }
        b[0] = T.Zero; b[1] = T.Zero;   // 0/0 and -0/0 (NaN), ±0 against ±0 in Max/Min
        b[2] = T.NegativeZero;
        return (a, b, c);
    }

    /// <summary>Every operation over the operands with lane L (width elements at a time), one output array per operation.</summary>
    private static T[][] Run<T, L>(T[] a, T[] b, T[] c, int width)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        int n = a.Length;
        var outs = new T[OpNames.Length][];
        for (int k = 0; k < outs.Length; k++) outs[k] = new T[n];
        for (int i = 0; i < n; i += width)
        {
            L x = Unsafe.As<T, L>(ref a[i]), y = Unsafe.As<T, L>(ref b[i]), z = Unsafe.As<T, L>(ref c[i]);
            L[] r =
            [
                x + y, x - y, x * y, x / y, -x, L.Fma(x, y, z), L.Sqrt(x), L.Abs(x), L.Max(x, y), L.Min(x, y), L.Tanh(x), L.Sign(x),
                L.IfGreater(x, y, z, x), L.Splat(c[i]), L.FromDouble(double.CreateTruncating(b[i])),
            ];
            for (int k = 0; k < r.Length; k++) Unsafe.As<T, L>(ref outs[k][i]) = r[k];
            // Splat and FromDouble take element i's value for the whole vector: the scalar lane's elements i+1.. differ by design.
            if (width > 1) for (int j = 1; j < width; j++) { outs[13][i + j] = T.Zero; outs[14][i + j] = T.Zero; }
        }
        return outs;
    }

    private static void SameBits<T, L>(int width) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        const int n = 4096;
        var (a, b, c) = Operands<T>(n);
        var scalar = Run<T, Lane1<T>>(a, b, c, 1);
        var vector = Run<T, L>(a, b, c, width);
        for (int i = 0; i < n; i += width)
            for (int j = 1; j < width; j++) { scalar[13][i + j] = T.Zero; scalar[14][i + j] = T.Zero; }
        for (int k = 0; k < OpNames.Length; k++)
            for (int i = 0; i < n; i++)
            {
                T s = scalar[k][i], v = vector[k][i];
                // A NaN is a NaN: x86 vector instructions and the scalar code may pick different NaN payloads.
                bool same = T.IsNaN(s) ? T.IsNaN(v) : Bits(s) == Bits(v);
                if (!same) Assert.Fail($"{typeof(L).Name} {OpNames[k]} at a={a[i]}, b={b[i]}, c={c[i]}: vector {v}, scalar {s}");
            }
    }

    private static long Bits<T>(T x) where T : unmanaged =>
        typeof(T) == typeof(float) ? BitConverter.SingleToInt32Bits((float)(object)x) : BitConverter.DoubleToInt64Bits((double)(object)x);

    [Test]
    public void Lane256_EveryOperation_ScalarBits()
    {
        if (!Vector256.IsHardwareAccelerated) Assert.Ignore("no Vector256 on this CPU");
        SameBits<float, Lane256<float>>(Vector256<float>.Count);
        SameBits<double, Lane256<double>>(Vector256<double>.Count);
    }

    [Test]
    public void Lane512_EveryOperation_ScalarBits()
    {
        if (!Vector512.IsHardwareAccelerated) Assert.Ignore("no Vector512 on this CPU");
        SameBits<float, Lane512<float>>(Vector512<float>.Count);
        SameBits<double, Lane512<double>>(Vector512<double>.Count);
    }
}
