// CpuArrays: the CPU backend's per-thread pool of the arrays closed Tensor.Scopes hand back, and its storages' birth.
namespace Tiny.Cpu;

/// <summary>
/// Inside a <see cref="ScopeStack"/> scope the CPU backend rents its output arrays here (one stack per dtype and
/// exact length) and registers their storages in the scope; a closed scope returns each array it released
/// (<see cref="CpuStorage"/>'s Recycle). With no scope open, arrays come from the GC.
/// </summary>
internal static class CpuArrays
{
    [ThreadStatic] private static Dictionary<int, Stack<float[]>>? _floats;
    [ThreadStatic] private static Dictionary<int, Stack<double[]>>? _doubles;

    /// <summary>An array of n elements: pooled inside a scope (zeroed when asked), from the GC otherwise.</summary>
    public static T[] Rent<T>(int n, bool zero)
    {
        if (ScopeStack.Depth == 0 || n == 0) return zero ? new T[n] : GC.AllocateUninitializedArray<T>(n);
        T[]? a = null;
        if (typeof(T) == typeof(float))
        {
            if (_floats is not null && _floats.TryGetValue(n, out var st) && st.TryPop(out var f)) a = (T[])(object)f;
        }
        else if (_doubles is not null && _doubles.TryGetValue(n, out var st) && st.TryPop(out var d)) a = (T[])(object)d;
        if (a is null) return zero ? new T[n] : GC.AllocateUninitializedArray<T>(n);
        if (zero) Array.Clear(a);
        return a;
    }

    /// <summary>A storage over array; registered in the innermost scope when one is open.</summary>
    public static CpuStorage Wrap<T>(T[] array)
    {
        var s = CpuStorage.Of(array);
        ScopeStack.Register(s);
        return s;
    }

    /// <summary>Takes back the array of a storage a closing scope released, for the next Rent of its length.</summary>
    public static void Return(Array a)
    {
        if (a is float[] f)
        {
            var map = _floats ??= [];
            if (!map.TryGetValue(f.Length, out var st)) map[f.Length] = st = new Stack<float[]>();
            st.Push(f);
        }
        else
        {
            var d = (double[])a;
            var map = _doubles ??= [];
            if (!map.TryGetValue(d.Length, out var st)) map[d.Length] = st = new Stack<double[]>();
            st.Push(d);
        }
    }

    /// <summary>Drops every pooled array of this thread (they go back to the GC).</summary>
    public static void Clear()
    {
        _floats?.Clear();
        _doubles?.Clear();
    }
}
