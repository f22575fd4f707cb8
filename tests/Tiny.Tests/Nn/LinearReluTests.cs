// Tests of the fused Linear + ReLU (Tensor.LinearRelu, and Sequential's use of it): the same bits as Linear then Relu,
// values and gradients (the gradients themselves are checked against finite differences in GradCheckTests).
using NUnit.Framework;
using Tiny.Nn;

namespace Tiny.Tests.Nn;

public sealed class LinearReluTests
{
    private static int[] Bits(Tensor t) => t.DType == DType.Float32
        ? t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray()
        : t.ToDoubleArray().Select(v => (int)(BitConverter.DoubleToInt64Bits(v) ^ (BitConverter.DoubleToInt64Bits(v) >> 32))).ToArray();

    private static (Tensor Y, Tensor Dx, Tensor Dw, Tensor? Db) Run(bool fused, int rows, int inF, int outF, bool bias, bool nanRow, DType dtype)
    {
        var rng = new Rng(rows * 7 + inF * 3 + outF);
        var x = Tensor.Uniform([rows, inF], -1, 1, rng, dtype);
        if (nanRow && dtype == DType.Float32) { var a = x.ToArray(); a[inF] = float.NaN; x = Tensor.FromArray(a, rows, inF); }
        var w = Tensor.Uniform([outF, inF], -1, 1, rng, dtype);
        var b = bias ? Tensor.Uniform([outF], -0.3, 0.3, rng, dtype) : null;
        var upstream = Tensor.Uniform([rows, outF], -1, 1, rng, dtype);
        x.RequiresGrad = true; w.RequiresGrad = true;
        if (b is not null) b.RequiresGrad = true;
        var y = fused ? Tensor.LinearRelu(x, w, b) : Tensor.Linear(x, w, b).Relu();
        (y * upstream).Sum().Backward();
        return (y, x.Grad!, w.Grad!, b?.Grad);
    }

    // The TD3 layers (400 columns: whole vectors; 300: a scalar tail of 4 in every row), one column (Reduce's other
    // summation order), odd sizes, no bias, a NaN input (its row's pre-activations are NaN: masked to 0 either way).
    [TestCase(256, 4, 400, true, false)]
    [TestCase(256, 400, 300, true, false)]
    [TestCase(7, 5, 1, true, false)]
    [TestCase(13, 9, 11, false, false)]
    [TestCase(6, 3, 37, true, true)]
    public void SameBitsAsLinearThenRelu(int rows, int inF, int outF, bool bias, bool nanRow)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var f = Run(true, rows, inF, outF, bias, nanRow, dtype);
            var u = Run(false, rows, inF, outF, bias, nanRow, dtype);
            Assert.That(Bits(f.Y), Is.EqualTo(Bits(u.Y)), $"y {dtype}");
            Assert.That(Bits(f.Dx), Is.EqualTo(Bits(u.Dx)), $"dx {dtype}");
            Assert.That(Bits(f.Dw), Is.EqualTo(Bits(u.Dw)), $"dW {dtype}");
            if (bias) Assert.That(Bits(f.Db!), Is.EqualTo(Bits(u.Db!)), $"db {dtype}");
            Assert.That(f.Y.ToDoubleArray().Where(v => !double.IsNaN(v)).All(v => v >= 0), "relu output");
        }
    }

    [Test]
    public void SequentialRunsLinearReluFused_TrainingBitsUnchanged()
    {
        var net = Mlp.Create([3, 40, 30, 2], () => new ReLU(), new Rng(3));
        var lin = Enumerable.Range(0, 3).Select(i => (Linear)((Sequential)net)[2 * i]).ToArray();
        var copy = Mlp.Create([3, 40, 30, 2], () => new ReLU(), new Rng(3));
        var linCopy = Enumerable.Range(0, 3).Select(i => (Linear)((Sequential)copy)[2 * i]).ToArray();
        // The unfused composition, written out: what Sequential ran before it fused.
        Tensor Unfused(Tensor x) => Tensor.Linear(Tensor.Linear(Tensor.Linear(x, linCopy[0].Weight, linCopy[0].Bias).Relu(), linCopy[1].Weight, linCopy[1].Bias).Relu(), linCopy[2].Weight, linCopy[2].Bias);
        var x = Tensor.Uniform([64, 3], -2, 2, new Rng(9));
        var target = Tensor.Uniform([64, 2], -1, 1, new Rng(10));
        Assert.That(net.Forward(x).GradFn, Is.EqualTo("Linear"));
        Assert.That(new Sequential(new Linear(3, 4, new Rng(1)), new ReLU()).Forward(x).GradFn, Is.EqualTo("LinearRelu"));
        var opt = new Tiny.Optim.Adam(net.Parameters(), lr: 1e-2);
        var optCopy = new Tiny.Optim.Adam(copy.Parameters(), lr: 1e-2);
        for (int step = 0; step < 5; step++)
        {
            opt.ZeroGrad(); F.MseLoss(net.Forward(x), target).Backward(); opt.Step();
            optCopy.ZeroGrad(); F.MseLoss(Unfused(x), target).Backward(); optCopy.Step();
        }
        Assert.That(net.Parameters().SelectMany(p => Bits(p)), Is.EqualTo(copy.Parameters().SelectMany(p => Bits(p))));
    }
}
