// Tensor.Engine: the autograd graph (nodes, grad mode, version checks) and Backward().
namespace Tiny;

public sealed partial class Tensor
{
    private sealed class Node
    {
        public required string Op;
        public required Tensor[] Parents;
        public required int[] Versions;
        public required Action<Tensor> Backward;
        public bool Freed;
    }

    [ThreadStatic] private static bool _gradDisabled;
    private Node? _node;
    private Tensor? _pending;
    private bool _retainGrad;
    private int _outVersion;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope.</summary>
    public static bool IsGradEnabled => !_gradDisabled;

    /// <summary>Turns gradient recording off until disposed: <c>using (Tensor.NoGrad()) { ... }</c>.</summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Turns gradient recording on until disposed (inside a NoGrad scope).</summary>
    public static GradModeScope EnableGrad() => new(true);

    /// <summary>Restores the previous grad mode when disposed.</summary>
    public readonly struct GradModeScope : IDisposable
    {
        private readonly bool _previousDisabled;
        internal GradModeScope(bool enabled) { _previousDisabled = _gradDisabled; _gradDisabled = !enabled; }
        /// <summary>Restores the grad mode that was in force when this scope was opened.</summary>
        public void Dispose() => _gradDisabled = _previousDisabled;
    }

    /// <summary>True for tensors created by the user (not by an op that recorded a graph).</summary>
    public bool IsLeaf => _node is null;

    /// <summary>The name of the op that made this tensor, or null for leaves.</summary>
    public string? GradFn => _node?.Op;

    /// <summary>Keeps the gradient of a non-leaf in <see cref="Grad"/> after Backward.</summary>
    public Tensor RetainGrad() { _retainGrad = true; return this; }

    /// <summary>Attaches a backward rule to a freshly computed result when any parent requires grad.</summary>
    internal static Tensor Record(Tensor result, string op, Action<Tensor> backward, params Tensor[] parents)
    {
        if (_gradDisabled) return result;
        bool any = false;
        foreach (var p in parents) any |= p._requiresGrad;
        if (!any) return result;
        var versions = new int[parents.Length];
        for (int i = 0; i < parents.Length; i++) versions[i] = parents[i].Storage.Version;
        result._requiresGrad = true;
        result._outVersion = result.Storage.Version;
        result._node = new Node { Op = op, Parents = parents, Versions = versions, Backward = backward };
        return result;
    }

    /// <summary>Adds g (this tensor's shape) to the gradient flowing into this tensor during Backward.</summary>
    internal void AccumulateGrad(Tensor g)
    {
        if (!_requiresGrad) return;
        if (g.Shape != Shape) g = g.Reshape(Shape.ToArray());
        if (_pending is null) _pending = g;
        else
        {
            var sum = new Tensor(Backend.Binary(BinaryOp.Add, _pending.Storage, Shape, g.Storage, Shape, Shape), Shape);
            _pending = sum;
        }
    }

    /// <summary>
    /// Computes gradients of this tensor with respect to every leaf that requires grad, adding them into their
    /// <see cref="Grad"/>. Without a gradient argument the tensor must hold one element.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!_requiresGrad)
            throw new InvalidOperationException($"Backward: tensor of shape {Shape} does not require grad (no input had RequiresGrad = true, or it was made under NoGrad)");
        if (gradient is null)
        {
            if (Numel != 1) throw new InvalidOperationException($"Backward: output of shape {Shape} is not a scalar; pass a gradient of shape {Shape}");
            gradient = OnesLike();
        }
        else
        {
            if (gradient.Shape != Shape) throw new ArgumentException($"Backward: gradient shape {gradient.Shape} does not match output shape {Shape}");
            if (gradient.DType != DType) throw new ArgumentException($"Backward: gradient dtype {gradient.DType.Name()} does not match output dtype {DType.Name()}");
        }
        var topo = TopoSort();
        using var _ = NoGrad();
        _pending = gradient;
        for (int i = topo.Count - 1; i >= 0; i--)
        {
            var t = topo[i];
            var g = t._pending;
            t._pending = null;
            if (g is null) continue;
            if (t._node is null || t._retainGrad)
            {
                if (t.Grad is null) t.Grad = new Tensor(t.Backend.Unary(UnaryOp.Copy, g.Storage), t.Shape);
                else { t.Backend.AxpyInPlace(t.Grad.Storage, g.Storage, 1); t.Grad.Storage.BumpVersion(); }
            }
            var node = t._node;
            if (node is null) continue;
            if (node.Freed)
                throw new InvalidOperationException($"Backward: the graph through {node.Op} was already freed by an earlier Backward; pass retainGraph: true the first time");
            for (int p = 0; p < node.Parents.Length; p++)
                if (node.Parents[p].Storage.Version != node.Versions[p])
                    throw new InvalidOperationException($"Backward: an input of {node.Op} (shape {node.Parents[p].Shape}) was modified in place after it was used; its values are needed for the gradient");
            if (t.Storage.Version != t._outVersion)
                throw new InvalidOperationException($"Backward: the output of {node.Op} (shape {t.Shape}) was modified in place after it was computed");
            node.Backward(g);
            if (!retainGraph) node.Freed = true;
        }
        RecycleTopo(topo);
    }

    // The walk's collections, reused by the next Backward on this thread (taken while in use).
    [ThreadStatic] private static List<Tensor>? _topoOrder;
    [ThreadStatic] private static HashSet<Tensor>? _topoVisited;
    [ThreadStatic] private static Stack<(Tensor, int)>? _topoStack;

    private List<Tensor> TopoSort()
    {
        var order = _topoOrder ?? [];
        var visited = _topoVisited ?? new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = _topoStack ?? new Stack<(Tensor, int)>();
        _topoOrder = null; _topoVisited = null; _topoStack = null;
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var parents = t._node?.Parents;
            if (parents is not null && next < parents.Length)
            {
                stack.Push((t, next + 1));
                var p = parents[next];
                if (p._requiresGrad && visited.Add(p)) stack.Push((p, 0));
            }
            else order.Add(t);
        }
        visited.Clear();
        _topoVisited = visited;
        _topoStack = stack;
        return order;
    }

    /// <summary>Hands the order list back for the next Backward on this thread.</summary>
    private static void RecycleTopo(List<Tensor> order)
    {
        order.Clear();
        _topoOrder = order;
    }

    /// <summary>A tensor sharing this one's data, cut from the graph.</summary>
    public Tensor Detach() => new(Storage, Shape);

    /// <summary>A copy of the data (gradients flow through).</summary>
    public Tensor Clone()
    {
        var r = new Tensor(Backend.Unary(UnaryOp.Copy, Storage), Shape);
        return Record(r, "Clone", g => AccumulateGrad(g), this);
    }

    // ---------------------------------------------------------------- in place
    private void CheckInPlace(string op)
    {
        if (_gradDisabled) return;
        if (_requiresGrad && IsLeaf) throw new InvalidOperationException($"{op}: a leaf tensor that requires grad (shape {Shape}) is used in an in-place operation; wrap it in Tensor.NoGrad()");
        if (_requiresGrad) throw new InvalidOperationException($"{op}: in-place operations on tensors that are part of a graph are not supported (shape {Shape})");
    }

    /// <summary>this += alpha * other (same shape and dtype). Not recorded by autograd.</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        CheckInPlace("AddInPlace");
        if (other.Shape != Shape) throw new ArgumentException($"AddInPlace: shapes {Shape} and {other.Shape} differ");
        CheckSameDevice(other, "AddInPlace");
        Backend.AxpyInPlace(Storage, other.Storage, alpha);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>this *= alpha. Not recorded by autograd.</summary>
    public Tensor MulInPlace(double alpha)
    {
        CheckInPlace("MulInPlace");
        Backend.ScaleInPlace(Storage, alpha);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>Copies other's values into this tensor (same shape). Not recorded by autograd.</summary>
    public Tensor CopyFrom(Tensor other)
    {
        CheckInPlace("CopyFrom");
        if (other.Shape.Numel != Shape.Numel) throw new ArgumentException($"CopyFrom: shapes {Shape} and {other.Shape} differ");
        if (other.DType != DType) other = other.Detach().To(DType);
        if (other.Device != Device) other = other.Detach().To(Device);
        Backend.CopyInPlace(Storage, other.Storage);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>Overwrites the values with data from the host (Numel elements; a float32 tensor). Not recorded by autograd.</summary>
    public Tensor CopyFrom(ReadOnlySpan<float> data) => CopyFromHost(data);

    /// <summary>Overwrites the values with data from the host (Numel elements; a float64 tensor). Not recorded by autograd.</summary>
    public Tensor CopyFrom(ReadOnlySpan<double> data) => CopyFromHost(data);

    private Tensor CopyFromHost<T>(ReadOnlySpan<T> data) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckInPlace("CopyFrom");
        Backend.CopyFromHost(Storage, data);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>Sets every element to value. Not recorded by autograd.</summary>
    public Tensor FillInPlace(double value)
    {
        CheckInPlace("FillInPlace");
        Backend.FillInPlace(Storage, value);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>Sets every element to zero.</summary>
    public Tensor ZeroInPlace() => FillInPlace(0);

    /// <summary>Marks a write done directly through <see cref="DataF"/>/<see cref="DataD"/> (optimizers).</summary>
    public void MarkModified() => Storage.BumpVersion();

    /// <summary>Moves this tensor's data to another device in place (parameters keep their identity).</summary>
    internal void MoveTo(Device device)
    {
        if (device == Device) return;
        var b = device.Backend;
        Storage = DType == DType.Float32 ? b.FromArray(ToArray()) : b.FromArray(ToDoubleArray());
        Storage.Keep();
        Grad = null;
    }

    /// <summary>Converts this tensor's data to another dtype in place.</summary>
    internal void ConvertTo(DType dtype)
    {
        if (dtype == DType) return;
        Storage = Backend.Cast(Storage, dtype);
        Storage.Keep();
        Grad = null;
    }

    /// <summary>Replaces the data with a storage of the same length (checkpoint loading).</summary>
    internal void ReplaceStorage(Storage s)
    {
        if (s.Length != Numel) throw new ArgumentException($"ReplaceStorage: {s.Length} elements for shape {Shape}");
        s.Keep();
        Storage = s;
    }

    internal void CheckSameDevice(Tensor other, string op)
    {
        if (other.Device != Device) throw new ArgumentException($"{op}: tensors are on different devices ({Device} and {other.Device}); move one with To(device)");
        if (other.DType != DType) throw new ArgumentException($"{op}: dtype mismatch {DType.Name()} vs {other.DType.Name()} (shapes {Shape} and {other.Shape}); convert with To(DType)");
    }
}
