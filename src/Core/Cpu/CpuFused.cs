// The CPU driver of IFusedMap: one pass over memory, Vector512 (or Vector256) lanes then a scalar tail, no allocation;
// a large pass is split over threads (CpuParallel).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tiny.Cpu;

internal static class CpuFused
{
    /// <summary>Runs c over x (in/out), y (in) and the state buffers (in/out; a null entry is an unused slot), the
    /// first n elements of each; a pass of at least <see cref="CpuParallel.MinPerThread"/> elements per thread is split
    /// over threads (the same bits: every element is computed alone).</summary>
    public static void Run<TMap, T>(in TMap c, T r, T[] x, T[] y, int n, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pass = new Pass<TMap, T>(c, r, x, y, State<T>(states, 0), State<T>(states, 1), State<T>(states, 2), State<T>(states, 3));
        CpuParallel.For(n, pass);
    }

    private static T[]? State<T>(ReadOnlySpan<Storage?> states, int k) => k < states.Length && states[k] is { } s ? ((CpuStorage)s).Get<T>() : null;

    /// <summary>One fused pass over arrays, run on elements [lo, hi) by each thread.</summary>
    private readonly struct Pass<TMap, T>(TMap c, T r, T[] x, T[] y, T[]? s0, T[]? s1, T[]? s2, T[]? s3) : IRangeBody
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int lo, int hi)
        {
            // An unused state buffer is a scratch vector written over and over (stride 0), so Apply's code has no branch on it.
            Lane512<T> scratch = default;
            ref T dummy = ref Unsafe.As<Lane512<T>, T>(ref scratch);
            ref T b0 = ref Base(s0, ref dummy), b1 = ref Base(s1, ref dummy), b2 = ref Base(s2, ref dummy), b3 = ref Base(s3, ref dummy);
            int st0 = s0 is null ? 0 : 1, st1 = s1 is null ? 0 : 1, st2 = s2 is null ? 0 : 1, st3 = s3 is null ? 0 : 1;
            ref T bx = ref MemoryMarshal.GetArrayDataReference(x);
            ref T by = ref MemoryMarshal.GetArrayDataReference(y);
            int len = hi - lo, i = lo;
            // lo is a multiple of every vector width (CpuParallel's chunks), so the vector/tail split is that of one pass.
            if (Vector512.IsHardwareAccelerated && len >= Vector512<T>.Count)
                i = Loop<TMap, T, Lane512<T>>(c, r, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, lo, hi - len % Vector512<T>.Count, Vector512<T>.Count);
            else if (Vector256.IsHardwareAccelerated && len >= Vector256<T>.Count)
                i = Loop<TMap, T, Lane256<T>>(c, r, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, lo, hi - len % Vector256<T>.Count, Vector256<T>.Count);
            Loop<TMap, T, Lane1<T>>(c, r, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, i, hi, 1);
        }

        private static ref T Base(T[]? a, ref T dummy) => ref a is null ? ref dummy : ref MemoryMarshal.GetArrayDataReference(a);
    }

    /// <summary>The number of elements where c, run over copies of the lanes of x, y and the states (nothing is stored;
    /// r is 0), leaves x &gt; 0.</summary>
    public static long CountPositive<TMap, T>(in TMap c, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<Storage?> states)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        long count = 0;
        Lane512<T> scratch = default;
        ref T dummy = ref Unsafe.As<Lane512<T>, T>(ref scratch);
        ref T b0 = ref Base(states, 0, ref dummy), b1 = ref Base(states, 1, ref dummy), b2 = ref Base(states, 2, ref dummy), b3 = ref Base(states, 3, ref dummy);
        int st0 = Stride(states, 0), st1 = Stride(states, 1), st2 = Stride(states, 2), st3 = Stride(states, 3);
        ref T bx = ref MemoryMarshal.GetReference(x);
        ref T by = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            i = CountLoop<TMap, T, Lane512<T>>(c, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, 0, n - n % Vector512<T>.Count, Vector512<T>.Count, ref count);
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            i = CountLoop<TMap, T, Lane256<T>>(c, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, 0, n - n % Vector256<T>.Count, Vector256<T>.Count, ref count);
        CountLoop<TMap, T, Lane1<T>>(c, ref bx, ref by, ref b0, st0, ref b1, st1, ref b2, st2, ref b3, st3, i, n, 1, ref count);
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int CountLoop<TMap, T, L>(in TMap c, ref T x, ref T y, ref T s0, int st0, ref T s1, int st1, ref T s2, int st2, ref T s3, int st3,
                                             int start, int end, int width, ref long count)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        var zero = L.Splat(T.Zero);
        long n = 0;
        int i = start;
        for (; i < end; i += width)
        {
            L xi = As<T, L>(ref x, i), a0 = As<T, L>(ref s0, i * st0), a1 = As<T, L>(ref s1, i * st1), a2 = As<T, L>(ref s2, i * st2), a3 = As<T, L>(ref s3, i * st3);
            TMap.Apply(c, zero, ref xi, As<T, L>(ref y, i), ref a0, ref a1, ref a2, ref a3);
            n += Positives<T, L>(xi);
        }
        count += n;
        return i;
    }

    /// <summary>How many lanes of v are &gt; 0 (NaN: not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Positives<T, L>(L v) where T : unmanaged, IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        if (typeof(L) == typeof(Lane512<T>))
            return BitOperations.PopCount(Vector512.GreaterThan(Unsafe.As<L, Lane512<T>>(ref v).V, Vector512<T>.Zero).ExtractMostSignificantBits());
        if (typeof(L) == typeof(Lane256<T>))
            return BitOperations.PopCount(Vector256.GreaterThan(Unsafe.As<L, Lane256<T>>(ref v).V, Vector256<T>.Zero).ExtractMostSignificantBits());
        return Unsafe.As<L, Lane1<T>>(ref v).V > T.Zero ? 1 : 0;
    }

    private static ref T Base<T>(ReadOnlySpan<Storage?> states, int k, ref T dummy) where T : unmanaged =>
        ref k < states.Length && states[k] is { } s ? ref MemoryMarshal.GetArrayDataReference(((CpuStorage)s).Get<T>()) : ref dummy;

    private static int Stride(ReadOnlySpan<Storage?> states, int k) => k < states.Length && states[k] is not null ? 1 : 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot loop: no tier-0 code
    private static int Loop<TMap, T, L>(in TMap c, T r, ref T x, ref T y, ref T s0, int st0, ref T s1, int st1, ref T s2, int st2, ref T s3, int st3,
                                        int start, int end, int width)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T> where L : struct, ILane<L, T>
    {
        var rl = L.Splat(r);
        int i = start;
        // Two lanes per iteration: SGD over 1M floats 196 -> 160 us on one AVX2 core, Adam 849 -> 800 (the loop's own
        // work and the longer reach for the next loads); four: SGD 150, Adam 765, but AlphaGrad 960 -> 1270 (its tanh
        // four times over did not fit the registers).
        for (; i + 2 * width <= end; i += 2 * width)
        {
            Step(c, rl, ref x, ref y, ref s0, st0, ref s1, st1, ref s2, st2, ref s3, st3, i);
            Step(c, rl, ref x, ref y, ref s0, st0, ref s1, st1, ref s2, st2, ref s3, st3, i + width);
        }
        for (; i < end; i += width) Step(c, rl, ref x, ref y, ref s0, st0, ref s1, st1, ref s2, st2, ref s3, st3, i);
        return i;
    }

    /// <summary>Apply on the lane that starts at element i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TMap, T, L>(in TMap c, L rl, ref T x, ref T y, ref T s0, int st0, ref T s1, int st1, ref T s2, int st2, ref T s3, int st3, int i)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T> where L : struct, ILane<L, T> =>
        TMap.Apply(c, rl, ref As<T, L>(ref x, i), As<T, L>(ref y, i),
            ref As<T, L>(ref s0, i * st0), ref As<T, L>(ref s1, i * st1), ref As<T, L>(ref s2, i * st2), ref As<T, L>(ref s3, i * st3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref L As<T, L>(ref T b, int i) => ref Unsafe.As<T, L>(ref Unsafe.Add(ref b, i));
}
