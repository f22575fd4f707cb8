// Tensor.Elementwise: arithmetic, unary math and comparisons, each with its backward rule right below it.
namespace Tiny;

public sealed partial class Tensor
{
    private static Tensor Bin(BinaryOp op, Tensor a, Tensor b, string name)
    {
        a.CheckSameDevice(b, name);
        var os = Shape.Broadcast(a.Shape, b.Shape, name);
        return new Tensor(a.Backend.Binary(op, a.Storage, a.Shape, b.Storage, b.Shape, os), os);
    }

    private Tensor Un(UnaryOp op, double a = 0, double b = 0) => new(Backend.Unary(op, Storage, a, b), Shape);

    /// <summary>Sums a broadcast gradient back to this tensor's shape and accumulates it.</summary>
    private void AccumulateReduced(Tensor g)
    {
        if (!_requiresGrad) return;
        if (g.Shape == Shape) { AccumulateGrad(g); return; }
        AccumulateGrad(new Tensor(Backend.SumToShape(g.Storage, g.Shape, Shape), Shape));
    }

    private Tensor ScalarLike(double v) => Scalar(v, DType, Device);

    // ---------------------------------------------------------------- binary
    /// <summary>this + b with broadcasting.</summary>
    public Tensor Add(Tensor b)
    {
        var a = this;
        return Record(Bin(BinaryOp.Add, a, b, "Add"), "Add", g => { a.AccumulateReduced(g); b.AccumulateReduced(g); }, a, b);
    }

    /// <summary>this - b with broadcasting.</summary>
    public Tensor Sub(Tensor b)
    {
        var a = this;
        return Record(Bin(BinaryOp.Sub, a, b, "Sub"), "Sub", g => { a.AccumulateReduced(g); if (b._requiresGrad) b.AccumulateReduced(g.Neg()); }, a, b);
    }

    /// <summary>this * b with broadcasting.</summary>
    public Tensor Mul(Tensor b)
    {
        var a = this;
        return Record(Bin(BinaryOp.Mul, a, b, "Mul"), "Mul", g =>
        {
            if (a._requiresGrad) a.AccumulateReduced(g.Mul(b));
            if (b._requiresGrad) b.AccumulateReduced(g.Mul(a));
        }, a, b);
    }

    /// <summary>this / b with broadcasting.</summary>
    public Tensor Div(Tensor b)
    {
        var a = this;
        return Record(Bin(BinaryOp.Div, a, b, "Div"), "Div", g =>
        {
            if (a._requiresGrad) a.AccumulateReduced(g.Div(b));
            if (b._requiresGrad) b.AccumulateReduced(g.Mul(a).Div(b.Mul(b)).Neg());   // d(a/b)/db = -a/b^2
        }, a, b);
    }

    /// <summary>this ^ b elementwise with broadcasting.</summary>
    public Tensor Pow(Tensor b)
    {
        var a = this;
        var y = Bin(BinaryOp.Pow, a, b, "Pow");
        return Record(y, "Pow", g =>
        {
            if (a._requiresGrad) a.AccumulateReduced(g.Mul(b).Mul(a.Pow(b.Sub(b.ScalarLike(1)))));   // b*a^(b-1)
            if (b._requiresGrad) b.AccumulateReduced(g.Mul(y).Mul(a.Log()));                         // a^b*ln a
        }, a, b);
    }

    /// <summary>Elementwise maximum; ties split the gradient evenly, as PyTorch does.</summary>
    public Tensor Maximum(Tensor b) => MinMax(b, BinaryOp.Max, BinaryOp.Gt, "Maximum");

    /// <summary>Elementwise minimum; ties split the gradient evenly, as PyTorch does.</summary>
    public Tensor Minimum(Tensor b) => MinMax(b, BinaryOp.Min, BinaryOp.Lt, "Minimum");

    private Tensor MinMax(Tensor b, BinaryOp op, BinaryOp win, string name)
    {
        var a = this;
        return Record(Bin(op, a, b, name), name, g =>
        {
            // weight for a: 1 where a wins, 0.5 on ties
            var wa = Bin(win, a, b, name).Add(Bin(BinaryOp.Eq, a, b, name).Mul(a.ScalarLike(0.5)));
            if (a._requiresGrad) a.AccumulateReduced(g.Mul(wa));
            if (b._requiresGrad) b.AccumulateReduced(g.Mul(wa.Neg().Add(a.ScalarLike(1))));
        }, a, b);
    }

    /// <summary>a + b elementwise with broadcasting (differentiable; see <see cref="Add(Tensor)"/>).</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    /// <summary>a - b elementwise with broadcasting (differentiable).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    /// <summary>a * b elementwise with broadcasting (differentiable; not a matrix product, see MatMul).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>a / b elementwise with broadcasting (differentiable).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    /// <summary>-a elementwise (differentiable).</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>a + s for every element (differentiable in a).</summary>
    public static Tensor operator +(Tensor a, double s) => a.Add(s);
    /// <summary>s + a for every element (differentiable in a).</summary>
    public static Tensor operator +(double s, Tensor a) => a.Add(s);
    /// <summary>a - s for every element (differentiable in a).</summary>
    public static Tensor operator -(Tensor a, double s) => a.Add(-s);
    /// <summary>s - a for every element (differentiable in a).</summary>
    public static Tensor operator -(double s, Tensor a) => a.Neg().Add(s);
    /// <summary>a * s for every element (differentiable in a).</summary>
    public static Tensor operator *(Tensor a, double s) => a.Mul(s);
    /// <summary>s * a for every element (differentiable in a).</summary>
    public static Tensor operator *(double s, Tensor a) => a.Mul(s);
    /// <summary>a * (1/s) for every element (differentiable in a; the reciprocal is taken once, as a double).</summary>
    public static Tensor operator /(Tensor a, double s) => a.Mul(1.0 / s);
    /// <summary>s / a for every element, computed as s * (1/a) (differentiable in a).</summary>
    public static Tensor operator /(double s, Tensor a) => a.Reciprocal().Mul(s);

    // ---------------------------------------------------------------- with a scalar
    /// <summary>this + s.</summary>
    public Tensor Add(double s) => Record(Un(UnaryOp.AddScalar, s), "AddScalar", g => AccumulateGrad(g), this);

    /// <summary>this * s.</summary>
    public Tensor Mul(double s) => Record(Un(UnaryOp.MulScalar, s), "MulScalar", g => AccumulateGrad(g.Mul(s)), this);

    /// <summary>this ^ p.</summary>
    public Tensor Pow(double p)
    {
        var x = this;
        return Record(Un(UnaryOp.PowScalar, p), "PowScalar", g => x.AccumulateGrad(g.Mul(x.Pow(p - 1)).Mul(p)), x);   // p*x^(p-1)
    }

    // ---------------------------------------------------------------- unary
    /// <summary>-this.</summary>
    public Tensor Neg() => Record(Un(UnaryOp.Neg), "Neg", g => AccumulateGrad(g.Neg()), this);

    /// <summary>e^this.</summary>
    public Tensor Exp()
    {
        var y = Un(UnaryOp.Exp);
        return Record(y, "Exp", g => AccumulateGrad(g.Mul(y)), this);   // dy = y
    }

    /// <summary>Natural log.</summary>
    public Tensor Log() => Record(Un(UnaryOp.Log), "Log", g => AccumulateGrad(g.Div(this)), this);   // 1/x

    /// <summary>Square root.</summary>
    public Tensor Sqrt()
    {
        var y = Un(UnaryOp.Sqrt);
        return Record(y, "Sqrt", g => AccumulateGrad(g.Div(y).Mul(0.5)), this);   // 1/(2 sqrt x)
    }

    /// <summary>x^2.</summary>
    public Tensor Square() => Record(Un(UnaryOp.Square), "Square", g => AccumulateGrad(g.Mul(this).Mul(2)), this);

    /// <summary>1/x.</summary>
    public Tensor Reciprocal()
    {
        var y = Un(UnaryOp.Reciprocal);
        return Record(y, "Reciprocal", g => AccumulateGrad(g.Mul(y).Mul(y).Neg()), this);   // -1/x^2
    }

    /// <summary>|x| (gradient sign(x), 0 at 0).</summary>
    public Tensor Abs() => Record(Un(UnaryOp.Abs), "Abs", g => AccumulateGrad(g.Mul(Un(UnaryOp.Sign))), this);

    /// <summary>sign(x) (no gradient).</summary>
    public Tensor Sign() => Un(UnaryOp.Sign);

    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh()
    {
        var y = Un(UnaryOp.Tanh);
        return Record(y, "Tanh", g => AccumulateGrad(new Tensor(Backend.Binary(BinaryOp.TanhBackward, y.Storage, Shape, g.Storage, Shape, Shape), Shape)), this);   // 1 - y^2
    }

    /// <summary>Logistic sigmoid 1/(1+e^-x).</summary>
    public Tensor Sigmoid()
    {
        var y = Un(UnaryOp.Sigmoid);
        return Record(y, "Sigmoid", g => AccumulateGrad(new Tensor(Backend.Binary(BinaryOp.SigmoidBackward, y.Storage, Shape, g.Storage, Shape, Shape), Shape)), this);   // y(1-y)
    }

    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Record(Un(UnaryOp.Relu), "Relu", g => AccumulateGrad(new Tensor(Backend.Binary(BinaryOp.ReluBackward, Storage, Shape, g.Storage, Shape, Shape), Shape)), this);   // 1[x>0]

    /// <summary>Sine.</summary>
    public Tensor Sin() => Record(Un(UnaryOp.Sin), "Sin", g => AccumulateGrad(g.Mul(Un(UnaryOp.Cos))), this);

    /// <summary>Cosine.</summary>
    public Tensor Cos() => Record(Un(UnaryOp.Cos), "Cos", g => AccumulateGrad(g.Mul(Un(UnaryOp.Sin)).Neg()), this);

    /// <summary>clamp(x, min, max); the gradient passes where min &lt;= x &lt;= max.</summary>
    public Tensor Clamp(double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (min > max) throw new ArgumentException($"Clamp: min {min} > max {max}");
        return Record(Un(UnaryOp.Clamp, min, max), "Clamp", g => AccumulateGrad(g.Mul(Un(UnaryOp.InRange, min, max))), this);
    }

    // ---------------------------------------------------------------- comparisons (no gradient): 1 where true, else 0
    /// <summary>1 where this == b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Eq(Tensor b) => Bin(BinaryOp.Eq, this, b, "Eq");
    /// <summary>1 where this != b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Ne(Tensor b) => Bin(BinaryOp.Ne, this, b, "Ne");
    /// <summary>1 where this &gt; b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Gt(Tensor b) => Bin(BinaryOp.Gt, this, b, "Gt");
    /// <summary>1 where this &gt;= b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Ge(Tensor b) => Bin(BinaryOp.Ge, this, b, "Ge");
    /// <summary>1 where this &lt; b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Lt(Tensor b) => Bin(BinaryOp.Lt, this, b, "Lt");
    /// <summary>1 where this &lt;= b, else 0, with broadcasting (no gradient).</summary>
    public Tensor Le(Tensor b) => Bin(BinaryOp.Le, this, b, "Le");
    /// <summary>1 where this == s, else 0 (no gradient).</summary>
    public Tensor Eq(double s) => Eq(ScalarLike(s));
    /// <summary>1 where this &gt; s, else 0 (no gradient).</summary>
    public Tensor Gt(double s) => Gt(ScalarLike(s));
    /// <summary>1 where this &gt;= s, else 0 (no gradient).</summary>
    public Tensor Ge(double s) => Ge(ScalarLike(s));
    /// <summary>1 where this &lt; s, else 0 (no gradient).</summary>
    public Tensor Lt(double s) => Lt(ScalarLike(s));
    /// <summary>1 where this &lt;= s, else 0 (no gradient).</summary>
    public Tensor Le(double s) => Le(ScalarLike(s));

    /// <summary>cond ? a : b elementwise with broadcasting (cond nonzero = true).</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        a.CheckSameDevice(b, "Where");
        var os = Shape.Broadcast(Shape.Broadcast(cond.Shape, a.Shape, "Where"), b.Shape, "Where");
        var r = new Tensor(a.Backend.Where(cond.Storage, cond.Shape, a.Storage, a.Shape, b.Storage, b.Shape, os), os);
        return Record(r, "Where", g =>
        {
            var zero = g.ZerosLike();
            if (a._requiresGrad) a.AccumulateReduced(Where(cond, g, zero));
            if (b._requiresGrad) b.AccumulateReduced(Where(cond, zero, g));
        }, a, b);
    }

    /// <summary>True if any element is NaN or infinite.</summary>
    public bool HasNonFinite()
    {
        foreach (var v in ToDoubleArray()) if (!double.IsFinite(v)) return true;
        return false;
    }
}
