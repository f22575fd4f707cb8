// IFusedMap: a per-element update over up to six buffers, written once over ILane and run by a backend as one
// fused pass (CPU SIMD, or one GPU kernel), optionally after a declared per-tensor reduction (PrePass).
using System.Numerics;

namespace Tiny;

/// <summary>A per-tensor reduction a fused map needs before its pass; the backend computes it and hands every lane
/// the result r (splatted).</summary>
public enum PrePass
{
    /// <summary>No reduction: r is 0.</summary>
    None,
    /// <summary>r = ||y||_2, the L2 norm of the read-only input (on the CPU summed in torch 1.13's order, so float32
    /// matches torch's g.norm(2) bit for bit; on a device a fixed-shape tree in double).</summary>
    L2NormOfY,
}
// A count of an elementwise condition on values the map computes first is not a PrePass value: it needs a second map,
// and is the IBackend.FusedMap overload that takes one (r = the number of elements where that map leaves x > 0).

/// <summary>
/// One fused elementwise map, written once: for every element i the backend runs
/// <c>Apply(c, r, ref x[i], y[i], ref s0[i], ref s1[i], ref s2[i], ref s3[i])</c> with L a CPU SIMD lane, the CPU's
/// scalar lane, or one GPU thread. x and the used s buffers are read and written in place, y is read only. The
/// struct itself holds the pass's constants (already rounded to T on the host) and must be blittable: use
/// <see cref="Flag"/> for switches. A state slot given as null, or past the states given, is unused: its lane is
/// scratch, never stored.
/// </summary>
public interface IFusedMap<TSelf, T> where TSelf : unmanaged, IFusedMap<TSelf, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The update of one lane.</summary>
    static abstract void Apply<L>(in TSelf c, L r, ref L x, L y, ref L s0, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>;
}

/// <summary>The argument checks every backend's FusedMap makes.</summary>
internal static class FusedChecks
{
    public static void Validate<TMap, T>(Storage x, Storage y, ReadOnlySpan<Storage?> states) where T : unmanaged
    {
        var dtype = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64
            : throw new ArgumentException($"FusedMap({typeof(TMap).Name}): element type {typeof(T).Name} is not float or double");
        if (states.Length > 4) throw new ArgumentException($"FusedMap({typeof(TMap).Name}): {states.Length} state buffers, at most 4");
        Check(x, -2); Check(y, -1);
        for (int k = 0; k < states.Length; k++)
            if (states[k] is { } st) Check(st, k);

        void Check(Storage s, int which)   // which: -2 x, -1 y, k state k; the message is built only on failure
        {
            if (s.DType != dtype) throw new ArgumentException($"FusedMap({typeof(TMap).Name}): {What(which)} is {s.DType.Name()}, the map runs on {dtype.Name()}");
            if (s.Length != x.Length) throw new ArgumentException($"FusedMap({typeof(TMap).Name}): {What(which)} has {s.Length} elements, x has {x.Length}");
        }
        static string What(int which) => which == -2 ? "x" : which == -1 ? "y" : $"state {which}";
    }
}
