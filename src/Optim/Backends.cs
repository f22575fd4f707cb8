// Backends: a backend primitive over many tensors, called once when they share a backend (one wait for a device).
namespace Tiny.Optim;

internal static class Backends
{
    /// <summary>each over the tensors' storages, results in the tensors' order: one call when they share a backend, else
    /// one call per tensor.</summary>
    public static TOut[] Each<TOut>(IReadOnlyList<Tensor> ts, Func<IBackend, IReadOnlyList<Storage>, TOut[]> each) =>
        Each(ts, t => t.Backend, (b, group) => each(b, group.Select(t => t.Storage).ToList()));

    /// <summary>each over items on the backend backendOf names, results in the items' order: one call when all share a
    /// backend, else one call per item.</summary>
    public static TOut[] Each<TIn, TOut>(IReadOnlyList<TIn> items, Func<TIn, IBackend> backendOf, Func<IBackend, IReadOnlyList<TIn>, TOut[]> each)
    {
        if (items.Count == 0) return [];
        var b = backendOf(items[0]);
        for (int i = 1; i < items.Count; i++)
            if (!ReferenceEquals(backendOf(items[i]), b)) return items.Select(x => each(backendOf(x), [x])[0]).ToArray();
        return each(b, items);
    }
}
