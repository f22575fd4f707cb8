// Tensor.Reduce: sums, means, max/min, arg-max and log-sum-exp over all elements or one axis.
namespace Tiny;

public sealed partial class Tensor
{
    private int[] KeepDimShape(int axis)
    {
        var d = Shape.ToArray();
        d[axis] = 1;
        return d;
    }

    /// <summary>Sum of all elements (a scalar).</summary>
    public Tensor Sum()
    {
        var flat = new Shape(Numel);
        var r = new Tensor(Backend.Reduce(ReduceOp.Sum, Storage, flat, 0), Shape.Scalar);
        return Record(r, "Sum", g => AccumulateGrad(new Tensor(Backend.Expand(g.Storage, Shape.Scalar, Shape), Shape)), this);
    }

    /// <summary>Sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false)
    {
        if (Rank == 0) return Sum();
        int ax = Shape.NormalizeAxis(axis, "Sum");
        var keep = new Shape(KeepDimShape(ax));
        var r = new Tensor(Backend.Reduce(ReduceOp.Sum, Storage, Shape, ax), keepDim ? keep : Shape.Without(ax));
        return Record(r, "SumAxis", g => AccumulateGrad(new Tensor(Backend.Expand(g.Storage, keep, Shape), Shape)), this);
    }

    /// <summary>Mean of all elements.</summary>
    public Tensor Mean() => Sum().Mul(1.0 / Math.Max(1, Numel));

    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Sum(axis, keepDim).Mul(1.0 / Shape[axis]);

    /// <summary>Maximum of all elements (gradient to the first maximum).</summary>
    public Tensor Max() => Reshape(Numel).Max(0);

    /// <summary>Minimum of all elements (gradient to the first minimum).</summary>
    public Tensor Min() => Reshape(Numel).Min(0);

    /// <summary>Maximum over an axis; the gradient goes to the arg-max, as torch.max(dim).</summary>
    public Tensor Max(int axis, bool keepDim = false) => Extreme(axis, keepDim, ReduceOp.Max, ReduceOp.ArgMax, "Max");

    /// <summary>Minimum over an axis; the gradient goes to the arg-min.</summary>
    public Tensor Min(int axis, bool keepDim = false) => Extreme(axis, keepDim, ReduceOp.Min, ReduceOp.ArgMin, "Min");

    private Tensor Extreme(int axis, bool keepDim, ReduceOp op, ReduceOp argOp, string name)
    {
        if (Numel == 0) throw new ArgumentException($"{name}: cannot reduce an empty tensor of shape {Shape}");
        int ax = Shape.NormalizeAxis(axis, name);
        var keep = new Shape(KeepDimShape(ax));
        var r = new Tensor(Backend.Reduce(op, Storage, Shape, ax), keepDim ? keep : Shape.Without(ax));
        return Record(r, name, g =>
        {
            var idx = ToIndices(Backend.Reduce(argOp, Storage, Shape, ax));
            AccumulateGrad(new Tensor(Backend.ScatterAdd(Shape, DType, ax, idx, keep, g.Storage), Shape));
        }, this);
    }

    private int[] ToIndices(Storage s)
    {
        var d = Backend.ToDoubleArray(s);
        var r = new int[d.Length];
        for (int i = 0; i < d.Length; i++) r[i] = (int)d[i];
        return r;
    }

    /// <summary>Indices of the maxima over an axis (as a float tensor of whole numbers; no gradient).</summary>
    public Tensor ArgMax(int axis, bool keepDim = false)
    {
        int ax = Shape.NormalizeAxis(axis, "ArgMax");
        return new Tensor(Backend.Reduce(ReduceOp.ArgMax, Storage, Shape, ax), keepDim ? new Shape(KeepDimShape(ax)) : Shape.Without(ax));
    }

    /// <summary>Indices of the minima over an axis (no gradient).</summary>
    public Tensor ArgMin(int axis, bool keepDim = false)
    {
        int ax = Shape.NormalizeAxis(axis, "ArgMin");
        return new Tensor(Backend.Reduce(ReduceOp.ArgMin, Storage, Shape, ax), keepDim ? new Shape(KeepDimShape(ax)) : Shape.Without(ax));
    }

    /// <summary>Index of the maximum of all elements.</summary>
    public int ArgMax() => (int)Reshape(Numel).ArgMax(0).Item();

    /// <summary>log(sum(exp(x))) over an axis, computed stably (shift by the detached max).</summary>
    public Tensor LogSumExp(int axis, bool keepDim = false)
    {
        int ax = Shape.NormalizeAxis(axis, "LogSumExp");
        Tensor m;
        using (NoGrad())
        {
            m = Max(ax, keepDim: true);
            m = Where(m.Abs().Lt(double.PositiveInfinity), m, m.ZerosLike());   // an all -inf row stays -inf
        }
        var r = Sub(m).Exp().Sum(ax, keepDim: true).Log().Add(m);
        return keepDim ? r : r.Squeeze(ax);
    }

    /// <summary>log(sum(exp(x))) over all elements.</summary>
    public Tensor LogSumExp() => Reshape(Numel).LogSumExp(0);
}
