// TorchNorm: the L2 norm and the sum of squares of a tensor summed in PyTorch 1.13's order (CPU, AVX2 build), so what
// is computed here matches torch's g.norm(2) and g.pow(2).sum() bit for bit.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tiny.Cpu;

/// <summary>L2 norms and sums of squares summed in PyTorch 1.13's CPU order.</summary>
public static class TorchNorm
{
    /// <summary>||x||_2. float64: one sequential FMA sum of squares. float32: torch's vectorised reduction, eight
    /// FMA accumulators (lane j sums x[8k+j]^2), added lane by lane, then the n % 8 tail elements: with 4 or more,
    /// the first four as unfused x*x added in order, the rest (all of a tail of 1..3) by sequential FMA. Matches
    /// torch 1.13's g.norm(2) bit for bit on every length tried (1..300 x 5 seeds, up to 1M + 3).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static T L2<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        int i = 0;
        if (typeof(T) == typeof(float))
        {
            const int lanes = 8;
            Span<T> acc = stackalloc T[lanes];
            if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)   // the same eight lanes, in one register
            {
                var xf = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x);
                var va = System.Runtime.Intrinsics.Vector256<float>.Zero;
                for (; i + lanes <= xf.Length; i += lanes)
                {
                    var v = System.Runtime.Intrinsics.Vector256.Create(xf.Slice(i, lanes));
                    va = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(v, v, va);
                }
                va.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(acc));
            }
            for (; i + lanes <= x.Length; i += lanes)
                for (int j = 0; j < lanes; j++) acc[j] = T.FusedMultiplyAdd(x[i + j], x[i + j], acc[j]);
            sum = acc[0];
            for (int j = 1; j < lanes; j++) sum += acc[j];
            // The tail loop as GCC compiled torch's: with 4..7 elements left, their first four squares are
            // computed together (a vector multiply) and added one by one; the others are fused into the sum.
            if (x.Length - i >= 4)
                for (int end = i + 4; i < end; i++) { T sq = x[i] * x[i]; sum += sq; }
        }
        for (; i < x.Length; i++) sum = T.FusedMultiplyAdd(x[i], x[i], sum);
        return T.Sqrt(sum);
    }

    /// <summary>x.pow(2).sum() in PyTorch 1.13's CPU order (AVX2 build: cascade_sum's vectorized_inner_sum with 8 float /
    /// 4 double lanes, each lane summed by row_sum's four interleaved rows and multi_row_sum's cascade levels; the
    /// n % lanes tail first, then the lanes in order; fewer elements than lanes: row_sum over the scalars).</summary>
    public static T SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = typeof(T) == typeof(float) ? 8 : 4, n = x.Length;
        if (n < w) return RowSum(x, 0, 1, n);
        int vectors = n / w;
        T acc = T.Zero;
        for (int k = vectors * w; k < n; k++) acc += x[k] * x[k];
        for (int j = 0; j < w; j++) acc += RowSum(x, j, w, vectors);
        return acc;
    }

    /// <summary>torch's row_sum over `size` squares x[offset + i*stride]^2: four interleaved rows, their tail into row 0.</summary>
    private static T RowSum<T>(ReadOnlySpan<T> x, int offset, int stride, int size) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int ilp = 4, levels = 4;
        int rows = size / ilp;
        Span<T> acc = stackalloc T[levels * ilp];   // acc[level * ilp + k]
        acc.Clear();
        int ceilLog2 = rows <= 2 ? 1 : 64 - BitOperations.LeadingZeroCount((ulong)rows - 1);
        int levelPower = Math.Max(4, ceilLog2 / levels), levelStep = 1 << levelPower, levelMask = levelStep - 1;
        int i = 0;
        while (i + levelStep <= rows)
        {
            for (int j = 0; j < levelStep; j++, i++)
                for (int k = 0; k < ilp; k++) acc[k] += Sq(x, offset + (i * ilp + k) * stride);
            for (int j = 1; j < levels; j++)
            {
                for (int k = 0; k < ilp; k++) { acc[j * ilp + k] += acc[(j - 1) * ilp + k]; acc[(j - 1) * ilp + k] = T.Zero; }
                if ((i & (levelMask << (j * levelPower))) != 0) break;
            }
        }
        for (; i < rows; i++)
            for (int k = 0; k < ilp; k++) acc[k] += Sq(x, offset + (i * ilp + k) * stride);
        for (int j = 1; j < levels; j++)
            for (int k = 0; k < ilp; k++) acc[k] += acc[j * ilp + k];
        for (int e = rows * ilp; e < size; e++) acc[0] += Sq(x, offset + e * stride);
        for (int k = 1; k < ilp; k++) acc[0] += acc[k];
        return acc[0];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static T Sq<T>(ReadOnlySpan<T> x, int i) where T : unmanaged, IFloatingPointIeee754<T> => x[i] * x[i];
}
