// ErrorTests: bad input gets a clear exception naming the op and the shapes; autograd misuse is caught.
using NUnit.Framework;

namespace Tiny.Tests.Autograd;

public sealed class ErrorTests
{
    [Test]
    public void MatMulInnerDimMismatchNamesShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 4).MatMul(Tensor.Zeros(5, 2)));
        Assert.That(e!.Message, Does.Contain("MatMul: [3, 4] x [5, 2]: inner dims 4 != 5"));
    }

    [Test]
    public void BroadcastMismatchNamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = Tensor.Zeros(3, 4) + Tensor.Zeros(3));
        Assert.That(e!.Message, Does.Contain("Add").And.Contain("[3, 4]").And.Contain("[3]"));
    }

    [Test]
    public void DTypeMismatchIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = Tensor.Zeros(2) * Tensor.Zeros([2], DType.Float64));
        Assert.That(e!.Message, Does.Contain("dtype mismatch float32 vs float64"));
    }

    [Test]
    public void ShapeErrors()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, 2))!.Message, Does.Contain("cannot reshape [2, 3]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3))!.Message, Does.Contain("5 values do not fill shape [2, 3]"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(2, 3).Sum(2))!.Message, Does.Contain("Sum: axis 2 is out of range for shape [2, 3]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Tensor.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)))!.Message, Does.Contain("Linear: input [2, 3] x weight [4, 5]"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(2, 3).Gather(1, [0, 3], 2, 1))!.Message, Does.Contain("index 3 is out of range for axis 1 of size 3"));
        Assert.That(Assert.Throws<ArgumentException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1))!.Message, Does.Contain("Cat: shapes [2, 3] and [3, 3] differ outside dim 1"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(4).Narrow(0, 2, 3))!.Message, Does.Contain("Narrow"));
    }

    [Test]
    public void BackwardOnNonScalarNeedsAGradient()
    {
        var x = Tensor.Ones(3); x.RequiresGrad = true;
        var y = x * 2;
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(e!.Message, Does.Contain("output of shape [3] is not a scalar"));
        y.Backward(Tensor.FromArray(new float[] { 1, 2, 3 }, 3));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 2, 4, 6 }));
    }

    [Test]
    public void BackwardWithoutRequiresGradFails()
    {
        Assert.Throws<InvalidOperationException>(() => Tensor.Ones(1).Sum().Backward());
    }

    [Test]
    public void InPlaceChangeOfASavedTensorIsDetected()
    {
        var w = Tensor.Ones(2, 2); w.RequiresGrad = true;
        var x = Tensor.Ones(2, 2);
        var y = x.MatMul(w).Sum();
        using (Tensor.NoGrad()) w.AddInPlace(Tensor.Ones(2, 2));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(e!.Message, Does.Contain("modified in place"));
    }

    [Test]
    public void InPlaceOnLeafRequiringGradOutsideNoGradFails()
    {
        var w = Tensor.Ones(2); w.RequiresGrad = true;
        Assert.That(Assert.Throws<InvalidOperationException>(() => w.MulInPlace(2))!.Message, Does.Contain("leaf tensor that requires grad"));
    }

    [Test]
    public void GraphIsFreedAfterBackwardUnlessRetained()
    {
        var x = Tensor.Ones(2); x.RequiresGrad = true;
        var y = (x * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 4, 4 }), "grads accumulate across calls");
        Assert.That(Assert.Throws<InvalidOperationException>(() => y.Backward())!.Message, Does.Contain("already freed"));
    }

    [Test]
    public void LeafAndNonLeafRules()
    {
        var x = Tensor.Ones(2); x.RequiresGrad = true;
        var h = (x * 3).RetainGrad();
        var z = (h * h).Sum();
        Assert.That(x.IsLeaf, Is.True);
        Assert.That(h.IsLeaf, Is.False);
        Assert.That(z.GradFn, Is.EqualTo("Sum"));
        z.Backward();
        Assert.That(h.Grad!.ToArray(), Is.EqualTo(new float[] { 6, 6 }));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new float[] { 18, 18 }));
        using (Tensor.NoGrad()) Assert.That((x * 2).RequiresGrad, Is.False);
        Assert.That(x.Detach().RequiresGrad, Is.False);
        Assert.Throws<InvalidOperationException>(() => h.RequiresGrad = false);
    }

    [Test]
    public void ItemNeedsOneElement()
    {
        Assert.That(Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2).Item())!.Message, Does.Contain("Item: tensor of shape [2] has 2 elements"));
    }

    [Test]
    public void UnknownDevicesAndDTypesAreNamed()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Device.Parse("tpu"))!.Message, Does.Contain("unknown device 'tpu'"));
        Assert.That(Assert.Throws<ArgumentException>(() => DTypeExtensions.Parse("int8"))!.Message, Does.Contain("unknown dtype 'int8'"));
    }
}
