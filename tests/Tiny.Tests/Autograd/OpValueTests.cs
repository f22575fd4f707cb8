// OpValueTests: each op's values against a plain scalar reference, in float32 and float64.
using NUnit.Framework;

namespace Tiny.Tests.Autograd;

public sealed class OpValueTests
{
    public sealed record Unary(string Name, Func<Tensor, Tensor> Op, Func<double, double> Reference, double Low, double High)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<TestCaseData> UnaryCases()
    {
        var cases = new Unary[]
        {
            new("neg", x => x.Neg(), v => -v, -3, 3),
            new("exp", x => x.Exp(), Math.Exp, -5, 5),
            new("log", x => x.Log(), Math.Log, 0.01, 10),
            new("sqrt", x => x.Sqrt(), Math.Sqrt, 0, 10),
            new("abs", x => x.Abs(), Math.Abs, -3, 3),
            new("tanh", x => x.Tanh(), Math.Tanh, -5, 5),
            new("sigmoid", x => x.Sigmoid(), v => 1 / (1 + Math.Exp(-v)), -8, 8),
            new("relu", x => x.Relu(), v => Math.Max(v, 0), -3, 3),
            new("square", x => x.Square(), v => v * v, -3, 3),
            new("reciprocal", x => x.Reciprocal(), v => 1 / v, 0.1, 4),
            new("sin", x => x.Sin(), Math.Sin, -4, 4),
            new("cos", x => x.Cos(), Math.Cos, -4, 4),
            new("pow2.5", x => x.Pow(2.5), v => Math.Pow(v, 2.5), 0, 3),
            new("clamp", x => x.Clamp(-0.5, 0.25), v => Math.Clamp(v, -0.5, 0.25), -2, 2),
            new("add_scalar", x => x + 1.25, v => v + 1.25, -3, 3),
            new("mul_scalar", x => x * -0.5, v => v * -0.5, -3, 3),
            new("rsub_scalar", x => 2 - x, v => 2 - v, -3, 3),
            new("sign", x => x.Sign(), v => Math.Sign(v), -3, 3),
        };
        foreach (var c in cases)
            foreach (var dt in new[] { DType.Float32, DType.Float64 })
                yield return new TestCaseData(c, dt).SetName($"Unary_{c.Name}_{dt}");
    }

    [TestCaseSource(nameof(UnaryCases))]
    public void UnaryMatchesScalarReference(Unary c, DType dtype)
    {
        var x = Tensor.Uniform([37], c.Low, c.High, new Rng(5), dtype);   // 37: exercises vector tails
        var y = c.Op(x).ToDoubleArray();
        var xs = x.ToDoubleArray();
        double tol = dtype == DType.Float32 ? 2e-6 : 1e-14;
        for (int i = 0; i < xs.Length; i++)
        {
            double r = c.Reference(xs[i]);
            if (dtype == DType.Float32) r = (float)r;
            Assert.That(y[i], Is.EqualTo(r).Within(tol * Math.Max(1, Math.Abs(r))), $"{c.Name}({xs[i]})");
        }
    }

    public static IEnumerable<TestCaseData> BinaryCases()
    {
        var ops = new (string, Func<Tensor, Tensor, Tensor>, Func<double, double, double>)[]
        {
            ("add", (a, b) => a + b, (a, b) => a + b),
            ("sub", (a, b) => a - b, (a, b) => a - b),
            ("mul", (a, b) => a * b, (a, b) => a * b),
            ("div", (a, b) => a / b, (a, b) => a / b),
            ("max", (a, b) => a.Maximum(b), Math.Max),
            ("min", (a, b) => a.Minimum(b), Math.Min),
            ("pow", (a, b) => a.Abs().Pow(b), (a, b) => Math.Pow(Math.Abs(a), b)),
            ("gt", (a, b) => a.Gt(b), (a, b) => a > b ? 1 : 0),
            ("le", (a, b) => a.Le(b), (a, b) => a <= b ? 1 : 0),
            ("eq", (a, b) => a.Eq(b), (a, b) => a == b ? 1 : 0),
        };
        var shapes = new (int[], int[])[] { ([3, 4], [3, 4]), ([3, 4], [4]), ([3, 1, 5], [2, 1]), ([2, 3], []), ([1], [4, 9]), ([2, 1, 3], [2, 4, 1]) };
        foreach (var (name, op, r) in ops)
            foreach (var (sa, sb) in shapes)
                yield return new TestCaseData(name, op, r, sa, sb).SetName($"Binary_{name}_[{string.Join(",", sa)}]x[{string.Join(",", sb)}]");
    }

    [TestCaseSource(nameof(BinaryCases))]
    public void BinaryBroadcastMatchesScalarReference(string name, Func<Tensor, Tensor, Tensor> op, Func<double, double, double> reference, int[] sa, int[] sb)
    {
        var a = Tensor.Uniform(sa, -2, 2, new Rng(1), DType.Float64);
        var b = Tensor.Uniform(sb, 0.5, 2, new Rng(2), DType.Float64);
        if (sb.Length == 0) b = b.Reshape();
        var y = op(a, b);
        var os = Shape.Broadcast(a.Shape, b.Shape, "test");
        Assert.That(y.Shape, Is.EqualTo(os));
        var av = a.ToDoubleArray(); var bv = b.ToDoubleArray(); var yv = y.ToDoubleArray();
        var idx = new int[os.Rank];
        for (int i = 0; i < os.Numel; i++)
        {
            int rem = i;
            for (int d = os.Rank - 1; d >= 0; d--) { idx[d] = rem % os[d]; rem /= os[d]; }
            double r = reference(av[Offset(a.Shape, idx)], bv[Offset(b.Shape, idx)]);
            Assert.That(yv[i], Is.EqualTo(r).Within(1e-14 * Math.Max(1, Math.Abs(r))), $"{name} at {i}");
        }
    }

    private static int Offset(Shape s, int[] outIdx)
    {
        int off = 0, stride = 1;
        for (int d = s.Rank - 1; d >= 0; d--)
        {
            int od = outIdx[outIdx.Length - s.Rank + d];
            off += (s[d] == 1 ? 0 : od) * stride;
            stride *= s[d];
        }
        return off;
    }

    [Test]
    public void ReductionsMatchLoops()
    {
        var x = Tensor.Uniform([3, 4, 5], -1, 1, new Rng(3), DType.Float64);
        var v = x.ToDoubleArray();
        double At(int i, int j, int k) => v[(i * 4 + j) * 5 + k];
        var s1 = x.Sum(1).ToDoubleArray();
        var m2 = x.Max(2).ToDoubleArray();
        var am0 = x.ArgMax(0).ToDoubleArray();
        var mn1 = x.Min(1, keepDim: true);
        Assert.That(mn1.Shape.ToArray(), Is.EqualTo(new[] { 3, 1, 5 }));
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++)
            {
                double s = 0, mn = double.MaxValue;
                for (int j = 0; j < 4; j++) { s += At(i, j, k); mn = Math.Min(mn, At(i, j, k)); }
                Assert.That(s1[i * 5 + k], Is.EqualTo(s).Within(1e-14));
                Assert.That(mn1.ToDoubleArray()[i * 5 + k], Is.EqualTo(mn));
            }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.That(m2[i * 4 + j], Is.EqualTo(Enumerable.Range(0, 5).Max(k => At(i, j, k))));
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 5; k++)
            {
                int best = 0;
                for (int i = 1; i < 3; i++) if (At(i, j, k) > At(best, j, k)) best = i;
                Assert.That(am0[j * 5 + k], Is.EqualTo(best));
            }
        Assert.That(x.Sum().Item(), Is.EqualTo(v.Sum()).Within(1e-12));
        Assert.That(x.Mean().Item(), Is.EqualTo(v.Average()).Within(1e-14));
        Assert.That(x.Max().Item(), Is.EqualTo(v.Max()));
        Assert.That(x.ArgMax(), Is.EqualTo(Array.IndexOf(v, v.Max())));
    }

    [Test]
    public void CreationAndMovement()
    {
        Assert.That(Tensor.Arange(0, 5).ToArray(), Is.EqualTo(new float[] { 0, 1, 2, 3, 4 }));
        Assert.That(Tensor.Arange(1, 2, 0.25).ToArray(), Is.EqualTo(new float[] { 1, 1.25f, 1.5f, 1.75f }));
        Assert.That(Tensor.Eye(3).ToArray(), Is.EqualTo(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }));
        Assert.That(Tensor.Full([2, 2], 7).ToArray(), Is.All.EqualTo(7f));
        var m = Tensor.From(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.That(m.T.ToArray(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
        Assert.That(m.Reshape(3, -1).Shape.ToArray(), Is.EqualTo(new[] { 3, 2 }));
        Assert.That(m.Narrow(1, 1, 2).ToArray(), Is.EqualTo(new float[] { 2, 3, 5, 6 }));
        Assert.That(Tensor.Cat([m, m], 0).Shape.ToArray(), Is.EqualTo(new[] { 4, 3 }));
        Assert.That(Tensor.Stack([m, m], 1).Shape.ToArray(), Is.EqualTo(new[] { 2, 2, 3 }));
        Assert.That(m.Expand(2, 2, 3).ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6 }));
        Assert.That(m.IndexSelect(1, [2, 0]).ToArray(), Is.EqualTo(new float[] { 3, 1, 6, 4 }));
        Assert.That(m.MatMul(m.T).ToArray(), Is.EqualTo(new float[] { 14, 32, 32, 77 }));
        Assert.That(m.ToString(), Does.Contain("[[1.0000, 2.0000, 3.0000],"));
        var a = new Rng(4); var b = new Rng(4);
        Assert.That(Tensor.Randn([5], a).ToArray(), Is.EqualTo(Tensor.Randn([5], b).ToArray()));
    }
}
