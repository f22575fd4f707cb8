// CpuPool: the per-thread stack of open allocation scopes and the per-thread pool of arrays they hand back.
namespace Tiny.Cpu;

/// <summary>
/// While a scope is open on a thread, the CPU backend rents its output arrays here and registers their storages in
/// the innermost scope; closing that scope marks every storage it still owns released and returns its array to the
/// thread's pool (one stack per dtype and exact length). With no scope open, arrays come from the GC as before.
/// Other backends register their storages here too (<see cref="Register"/>); closing the scope calls their
/// <see cref="Storage.Recycle"/> (the ILGPU backend hands the device buffer back to its pool).
/// </summary>
internal static class CpuPool
{
    private sealed class Frame
    {
        public readonly List<Storage> Owned = [];
        public long Id;
    }

    [ThreadStatic] private static List<Frame>? _frames;
    [ThreadStatic] private static int _depth;
    [ThreadStatic] private static long _nextId;
    [ThreadStatic] private static Dictionary<int, Stack<float[]>>? _floats;
    [ThreadStatic] private static Dictionary<int, Stack<double[]>>? _doubles;

    /// <summary>Number of scopes open on this thread.</summary>
    public static int Depth => _depth;

    /// <summary>Opens a scope; returns its id (unique on this thread).</summary>
    public static long Push()
    {
        var frames = _frames ??= [];
        if (frames.Count == _depth) frames.Add(new Frame());
        var f = frames[_depth++];
        f.Id = ++_nextId;
        return f.Id;
    }

    /// <summary>Closes the scope id, which must be the innermost one: its storages are released and their arrays pooled.</summary>
    public static void Pop(long id)
    {
        if (_depth == 0 || _frames![_depth - 1].Id != id)
        {
            bool open = false;
            for (int i = 0; i < _depth; i++) open |= _frames![i].Id == id;
            throw new InvalidOperationException(open
                ? "Tensor.Scope: an inner scope is still open; dispose scopes innermost first"
                : "Tensor.Scope: this scope is not open on this thread (already disposed, or opened on another thread)");
        }
        var owned = _frames[_depth - 1].Owned;
        foreach (var s in owned)
        {
            if (s.Scope != ScopeState.Scoped) continue;   // kept: the GC owns it now
            s.Scope = ScopeState.Released;
            if (s is CpuStorage c) Return(c.Data); else s.Recycle();
        }
        owned.Clear();
        _depth--;
    }

    /// <summary>An array of n elements: pooled inside a scope (zeroed when asked), from the GC otherwise.</summary>
    public static T[] Rent<T>(int n, bool zero)
    {
        if (_depth == 0 || n == 0) return zero ? new T[n] : GC.AllocateUninitializedArray<T>(n);
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
        if (_depth > 0 && array.Length > 0)
        {
            s.Scope = ScopeState.Scoped;
            _frames![_depth - 1].Owned.Add(s);
        }
        return s;
    }

    /// <summary>Registers another backend's fresh storage in the innermost scope, when one is open.</summary>
    public static void Register(Storage s)
    {
        if (_depth == 0 || s.Length == 0) return;
        s.Scope = ScopeState.Scoped;
        _frames![_depth - 1].Owned.Add(s);
    }

    /// <summary>A fresh storage of n elements (zeroed when asked), pooled inside a scope.</summary>
    public static CpuStorage New<T>(int n, bool zero) => Wrap(Rent<T>(n, zero));

    private static void Return(Array a)
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
