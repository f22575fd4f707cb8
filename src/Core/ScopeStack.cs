// ScopeStack: the per-thread stack of open Tensor.Scope frames and the storages each owns, for every backend.
namespace Tiny;

/// <summary>
/// While a scope is open on a thread, every backend registers the storages its ops make (<see cref="Register"/>) in
/// the innermost scope; closing that scope marks each storage it still owns released and calls its
/// <see cref="Storage.Recycle"/>, which hands the memory back to its backend's pool (the CPU's per-thread arrays,
/// a device's buffer pool). With no scope open, nothing is registered and memory is the GC's.
/// </summary>
internal static class ScopeStack
{
    private sealed class Frame
    {
        public readonly List<Storage> Owned = [];
        public long Id;
    }

    [ThreadStatic] private static List<Frame>? _frames;
    [ThreadStatic] private static int _depth;
    [ThreadStatic] private static long _nextId;

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

    /// <summary>Closes the scope id, which must be the innermost one: its storages are released and recycled.</summary>
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
            s.Recycle();
        }
        owned.Clear();
        _depth--;
    }

    /// <summary>Registers a fresh storage in the innermost scope, when one is open (an empty one needs no recycling).</summary>
    public static void Register(Storage s)
    {
        if (_depth == 0 || s.Length == 0) return;
        s.Scope = ScopeState.Scoped;
        _frames![_depth - 1].Owned.Add(s);
    }

    /// <summary>Drops the memory closed scopes handed back to this thread's pools (it goes back to the GC).</summary>
    public static void ClearPools() => Cpu.CpuArrays.Clear();
}
