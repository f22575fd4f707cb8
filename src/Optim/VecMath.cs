// Vector<T> helpers for the fused optimizer passes: per lane the same IEEE operations as the scalar code.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

internal static class VecMath
{
    /// <summary>a*b + c rounded once, per lane (float and double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector.As<float, T>(Vector.FusedMultiplyAdd(Vector.As<T, float>(a), Vector.As<T, float>(b), Vector.As<T, float>(c)));
        return Vector.As<double, T>(Vector.FusedMultiplyAdd(Vector.As<T, double>(a), Vector.As<T, double>(b), Vector.As<T, double>(c)));
    }

    /// <summary>Whether the vector loops run (they produce the same bits as the scalar ones).</summary>
    public static bool On => Vector.IsHardwareAccelerated;
}
