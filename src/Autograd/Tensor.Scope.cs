// Tensor.Scope: per-thread memory scopes that hand the storage of a step's temporaries back to a pool.
namespace Tiny;

public sealed partial class Tensor
{
    /// <summary>
    /// Opens a memory scope on this thread: <c>using (Tensor.Scope()) { forward; backward; step; }</c>. Every
    /// tensor made while it is open (op results, autograd intermediates, gradients of non-leaves) is released when
    /// it is disposed: its memory goes back to its backend's pool (the CPU's per-thread arrays, a device's buffers)
    /// that the next step's ops rent from, so a training loop allocates (almost) nothing in steady state. Leaves that require grad (parameters) and their
    /// <see cref="Grad"/> are never released; <see cref="Keep"/> saves any other tensor. A released tensor throws
    /// on use. Scopes nest (each releases what was made since it opened) and belong to the thread that opened them.
    /// Without a scope, memory is the GC's as usual.
    /// </summary>
    public static MemoryScope Scope() => new(ScopeStack.Push());

    /// <summary>Detaches this tensor's data from every open <see cref="Scope"/>, so it survives them (the GC owns it).</summary>
    public Tensor Keep()
    {
        Storage.Keep();
        return this;
    }

    /// <summary>Releases the tensors made since <see cref="Scope"/> opened, when disposed.</summary>
    public readonly struct MemoryScope : IDisposable
    {
        private readonly long _id;
        internal MemoryScope(long id) => _id = id;

        /// <summary>Releases every tensor made in this scope and not kept; throws if an inner scope is still open.</summary>
        public void Dispose()
        {
            if (_id == 0) return;   // default(MemoryScope)
            ScopeStack.Pop(_id);
        }
    }

    /// <summary>Drops the arrays pooled by closed scopes on this thread (they go back to the GC).</summary>
    public static void ClearScopePool() => ScopeStack.ClearPools();
}
