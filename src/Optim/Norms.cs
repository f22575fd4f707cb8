// The L2 norm of a gradient summed in PyTorch 1.13's order (CPU, AVX2 build), so AlphaGrad and clipping match it.
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tiny.Optim;

internal static class Norms
{
    /// <summary>||x||_2. float64: one sequential FMA sum of squares. float32: torch's vectorised reduction, eight
    /// FMA accumulators (lane j sums x[8k+j]^2), added lane by lane, then the tail by sequential FMA.</summary>
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
        }
        for (; i < x.Length; i++) sum = T.FusedMultiplyAdd(x[i], x[i], sum);
        return T.Sqrt(sum);
    }
}
