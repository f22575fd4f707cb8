// TorchNorm: the L2 norm of a tensor summed in PyTorch 1.13's order (CPU, AVX2 build), so norms computed here match torch's g.norm(2).
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tiny.Cpu;

/// <summary>L2 norms summed in PyTorch 1.13's CPU order.</summary>
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
}
