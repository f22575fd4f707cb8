// ConvTests: Conv2d and pooling gradients against finite differences and against PyTorch 1.13 (conv_golden.json).
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Tests.Autograd;

namespace Tiny.Tests.Nn;

public sealed class ConvTests
{
    // (batch, inC, outC, H, W, kernel, stride, padding)
    private static readonly int[][] Geometries =
    [
        [1, 1, 2, 5, 5, 3, 1, 0],
        [2, 2, 3, 7, 6, 3, 2, 1],
        [2, 3, 2, 4, 4, 1, 1, 0],
        [1, 2, 2, 6, 5, 2, 2, 0],
        [3, 1, 1, 5, 7, 4, 3, 2],
    ];

    public static IEnumerable<TestCaseData> Cases() => Geometries.Select(g => new TestCaseData((object)g).SetName($"Conv2d_gradcheck_[{string.Join(",", g)}]"));

    [TestCaseSource(nameof(Cases))]
    public void Conv2dGradientMatchesFiniteDifferences(int[] g)
    {
        var conv = new Conv2d(g[1], g[2], g[5], new Rng(1), stride: g[6], padding: g[7], dtype: DType.Float64);
        var x = Tensor.Uniform([g[0], g[1], g[3], g[4]], -1, 1, new Rng(2), DType.Float64);
        GradCheck.Check(t => conv.Forward(t[0]), [x]);   // input gradient = col2im (the scatter-add of the gather)
    }

    // Conv2d (the backend's im2col + GEMM op) and the same convolution composed from differentiable ops (a gather of
    // the padded patches, Linear, a permute) give the same output and gradients.
    public static IEnumerable<TestCaseData> Im2ColCases() => Geometries.Select(g => new TestCaseData((object)g).SetName($"Conv2d_op_vs_composed_gather_[{string.Join(",", g)}]"));

    [TestCaseSource(nameof(Im2ColCases))]
    public void Conv2dOpMatchesComposedGather(int[] g)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            (double[] Y, double[] Dx, double[] Dw, double[] Db) Run(bool composed)
            {
                var conv = new Conv2d(g[1], g[2], g[5], new Rng(1), stride: g[6], padding: g[7], dtype: dtype);
                var x = Tensor.Uniform([g[0], g[1], g[3], g[4]], -1, 1, new Rng(2), dtype);
                x.RequiresGrad = true;
                var y = composed ? Composed(conv, x) : conv.Forward(x);
                (y * y).Sum().Backward();
                return (y.ToDoubleArray(), x.Grad!.ToDoubleArray(), conv.Weight.Grad!.ToDoubleArray(), conv.Bias!.Grad!.ToDoubleArray());
            }
            var op = Run(false);
            var reference = Run(true);
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
            Assert.That(op.Y, Is.EqualTo(reference.Y).Within(tol), $"{dtype} output");
            Assert.That(op.Dx, Is.EqualTo(reference.Dx).Within(tol), $"{dtype} input gradient");
            Assert.That(op.Dw, Is.EqualTo(reference.Dw).Within(tol), $"{dtype} weight gradient");
            Assert.That(op.Db, Is.EqualTo(reference.Db).Within(tol), $"{dtype} bias gradient");
        }
    }

    /// <summary>conv(x) as [N, Ho*Wo, C*k*k] patches gathered from the zero-padded x, times W^T plus b, permuted to NCHW.</summary>
    private static Tensor Composed(Conv2d conv, Tensor x)
    {
        int n = x.Shape[0], pad = conv.Padding;
        if (pad > 0) x = x.Pad(2, pad, pad).Pad(3, pad, pad);
        (int[] Key, int[] Index, int Ho, int Wo)? cache = null;
        var cols = Unfold.Patches(x, conv.KernelSize, conv.KernelSize, conv.Stride, ref cache, out int ho, out int wo);
        var y = Tensor.Linear(cols, conv.Weight.Reshape(conv.OutChannels, -1), conv.Bias);
        return y.Permute(0, 2, 1).Reshape(n, conv.OutChannels, ho, wo);
    }

    // The composed reference's NHWC -> NCHW step is Permute(0, 2, 1), which the CPU kernel does as blocked 2-D transposes.
    [Test]
    public void BatchedTransposePermuteMatchesIndexing()
    {
        foreach (var (b, r, c) in new[] { (2, 33, 35), (3, 64, 5), (1, 1, 7) })
        {
            var x = Tensor.Uniform([b, r, c], -1, 1, new Rng(3));
            var y = x.Permute(0, 2, 1);
            Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { b, c, r }));
            var xs = x.ToArray(); var ys = y.ToArray();
            for (int n = 0; n < b; n++)
                for (int i = 0; i < r; i++)
                    for (int j = 0; j < c; j++)
                        Assert.That(ys[(n * c + j) * r + i], Is.EqualTo(xs[(n * r + i) * c + j]));
        }
    }

    [Test]
    public void Conv2dParameterGradientsMatchFiniteDifferences()
    {
        var conv = new Conv2d(2, 3, 3, new Rng(1), stride: 2, padding: 1, dtype: DType.Float64);
        var x = Tensor.Uniform([2, 2, 5, 6], -1, 1, new Rng(2), DType.Float64);
        var w = Tensor.Uniform([2, 3, 3, 3], 0.5, 1.5, new Rng(3), DType.Float64);
        (conv.Forward(x) * w).Sum().Backward();
        foreach (var p in new[] { conv.Weight, conv.Bias! })
        {
            var analytic = p.Grad!.ToDoubleArray();
            for (int i = 0; i < p.Numel; i++)
            {
                double orig = p.DataD[i];
                p.DataD[i] = orig + 1e-6;
                double fp; using (Tensor.NoGrad()) fp = (conv.Forward(x) * w).Sum().Item();
                p.DataD[i] = orig - 1e-6;
                double fm; using (Tensor.NoGrad()) fm = (conv.Forward(x) * w).Sum().Item();
                p.DataD[i] = orig;
                double numeric = (fp - fm) / 2e-6;
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-6 + 1e-5 * Math.Abs(numeric)), $"{p.Name}[{i}]");
            }
        }
    }

    [Test]
    public void PoolingGradientsMatchFiniteDifferences()
    {
        var x = Tensor.Uniform([2, 2, 5, 6], -1, 1, new Rng(4), DType.Float64);
        GradCheck.Check(t => new MaxPool2d(2).Forward(t[0]), [x]);
        GradCheck.Check(t => new AvgPool2d(3, 2).Forward(t[0]), [x.Detach().Clone()]);
    }

    [Test]
    public void SmallConvNetMatchesPyTorch()
    {
        using var doc = TestData.Load("conv_golden.json");
        var root = doc.RootElement;
        var inputs = root.GetProperty("inputs");
        var x = TestData.Tensor(inputs.GetProperty("x"), DType.Float64);
        x.RequiresGrad = true;
        var c1 = new Conv2d(2, 3, 3, new Rng(0), stride: 1, padding: 1, dtype: DType.Float64);
        var c2 = new Conv2d(3, 4, 2, new Rng(0), stride: 2, dtype: DType.Float64);
        using (Tensor.NoGrad())
        {
            c1.Weight.CopyFrom(TestData.Tensor(inputs.GetProperty("c1.weight"), DType.Float64));
            c1.Bias!.CopyFrom(TestData.Tensor(inputs.GetProperty("c1.bias"), DType.Float64));
            c2.Weight.CopyFrom(TestData.Tensor(inputs.GetProperty("c2.weight"), DType.Float64));
            c2.Bias!.CopyFrom(TestData.Tensor(inputs.GetProperty("c2.bias"), DType.Float64));
        }
        var a = c2.Forward(new MaxPool2d(2).Forward(c1.Forward(x).Relu())).Flatten(1);
        var b = new AvgPool2d(2, 1).Forward(c1.Forward(x).Tanh()).Flatten(1);
        var outT = Tensor.Cat([a, b], 1);
        GoldenTests.AssertClose(outT.ToDoubleArray(), TestData.Data(root.GetProperty("output")), 1e-12, 1e-14, "output");
        (outT * TestData.Tensor(inputs.GetProperty("w"), DType.Float64)).Sum().Backward();
        var grads = root.GetProperty("grads");
        GoldenTests.AssertClose(x.Grad!.ToDoubleArray(), TestData.Data(grads.GetProperty("x")), 1e-12, 1e-14, "grad x");
        GoldenTests.AssertClose(c1.Weight.Grad!.ToDoubleArray(), TestData.Data(grads.GetProperty("c1.weight")), 1e-12, 1e-14, "grad c1.weight");
        GoldenTests.AssertClose(c1.Bias!.Grad!.ToDoubleArray(), TestData.Data(grads.GetProperty("c1.bias")), 1e-12, 1e-14, "grad c1.bias");
        GoldenTests.AssertClose(c2.Weight.Grad!.ToDoubleArray(), TestData.Data(grads.GetProperty("c2.weight")), 1e-12, 1e-14, "grad c2.weight");
        GoldenTests.AssertClose(c2.Bias!.Grad!.ToDoubleArray(), TestData.Data(grads.GetProperty("c2.bias")), 1e-12, 1e-14, "grad c2.bias");
    }

    [Test]
    public void BadShapesGetClearErrors()
    {
        var conv = new Conv2d(3, 4, 5, new Rng(0));
        Assert.That(Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(1, 2, 8, 8)))!.Message, Does.Contain("has 2 channels, the layer expects 3"));
        Assert.That(Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(1, 3, 4, 8)))!.Message, Does.Contain("kernel 5x5 is larger than the padded input 4x8"));
        Assert.That(Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(3, 8, 8)))!.Message, Does.Contain("must be [N, C, H, W]"));
        Assert.Throws<ArgumentException>(() => new MaxPool2d(3).Forward(Tensor.Zeros(1, 1, 2, 2)));
    }
}
