// Tests of Tensor.Scope: release, nesting, Keep, parameters and grads, bit-identical results, steady-state
// allocation of a training step, and per-thread scopes.
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Tests.Core;

public sealed class ScopeTests
{
    [Test]
    public void ReleasedTensorThrowsAClearError()
    {
        Tensor y;
        using (Tensor.Scope())
        {
            y = Tensor.Ones(3, 4) * 2;
            Assert.That(y.IsReleased, Is.False);
        }
        Assert.That(y.IsReleased, Is.True);
        var e = Assert.Throws<InvalidOperationException>(() => y.ToArray());
        Assert.That(e!.Message, Does.Contain("released by a Tensor.Scope"));
        Assert.Throws<InvalidOperationException>(() => _ = y + 1);
        Assert.Throws<InvalidOperationException>(() => _ = y.Reshape(12).Sum());
    }

    [Test]
    public void TensorsMadeOutsideAScopeAreUntouched()
    {
        var a = Tensor.Ones(5);
        var view = a.Reshape(1, 5);
        using (Tensor.Scope())
        {
            var b = a.Detach() * 3;
            Assert.That(b.ToArray(), Is.EqualTo(new float[] { 3, 3, 3, 3, 3 }));
        }
        Assert.That(a.IsReleased || view.IsReleased, Is.False);
        Assert.That(view.ToArray(), Is.EqualTo(new float[] { 1, 1, 1, 1, 1 }));
    }

    [Test]
    public void NestedScopesReleaseOnlyTheirOwn()
    {
        using (Tensor.Scope())
        {
            var outer = Tensor.Full([4], 2.0);
            Tensor inner;
            using (Tensor.Scope())
            {
                inner = outer * 3;
                Assert.That(inner.ToArray(), Is.EqualTo(new float[] { 6, 6, 6, 6 }));
            }
            Assert.That(inner.IsReleased, Is.True);
            Assert.That(outer.IsReleased, Is.False);
            // A new tensor of the same size reuses the pooled array: the old one must not see it.
            var again = outer + 1;
            Assert.That(again.ToArray(), Is.EqualTo(new float[] { 3, 3, 3, 3 }));
            Assert.That(outer.ToArray(), Is.EqualTo(new float[] { 2, 2, 2, 2 }));
            Assert.Throws<InvalidOperationException>(() => inner.ToArray());
        }
    }

    [Test]
    public void DisposingOutOfOrderThrows()
    {
        var outer = Tensor.Scope();
        var inner = Tensor.Scope();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
    }

    [Test]
    public void KeepSurvivesAndViewsShareIt()
    {
        Tensor kept, view;
        using (Tensor.Scope())
        {
            kept = (Tensor.Ones(2, 3) * 5).Keep();
            view = kept.Reshape(6);
            using (Tensor.Scope()) { _ = Tensor.Ones(2, 3) * 7; }   // pooled arrays recycled inside
            _ = Tensor.Ones(2, 3) * 9;
        }
        Assert.That(kept.IsReleased, Is.False);
        Assert.That(view.ToArray(), Is.All.EqualTo(5f));
        using (Tensor.Scope()) { _ = Tensor.Ones(2, 3) * 11; }
        Assert.That(kept.ToArray(), Is.All.EqualTo(5f));
    }

    [Test]
    public void ZerosFromThePoolAreZero()
    {
        using (Tensor.Scope()) { _ = Tensor.Full([16], 3.0); }   // leaves a dirty array of 16 in the pool
        using (Tensor.Scope()) Assert.That(Tensor.Zeros(16).ToArray(), Is.All.EqualTo(0f));
    }

    [Test]
    public void ParametersAndTheirGradsSurvive()
    {
        var rng = new Rng(3);
        Sequential net;
        Tensor hidden;
        using (Tensor.Scope())
        {
            net = Mlp.Create([3, 8, 2], () => new Tanh(), rng);   // made inside: parameters are kept
            var x = Tensor.Randn([5, 3], rng);
            hidden = net.Forward(x);
            hidden.Sum().Backward();
        }
        Assert.That(hidden.IsReleased, Is.True);
        foreach (var p in net.Parameters())
        {
            Assert.That(p.IsReleased, Is.False);
            Assert.That(p.Grad!.IsReleased, Is.False);
        }
        var before = net.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        using (Tensor.Scope()) { net.Forward(Tensor.Ones(5, 3)).Sum().Backward(); }   // accumulates in place
        var ps = net.Parameters().ToList();
        for (int i = 0; i < ps.Count; i++) Assert.That(ps[i].Grad!.ToArray(), Is.Not.EqualTo(before[i]));
    }

    [Test]
    public void RetainedGradOfANonLeafBelongsToTheScope()
    {
        var w = Tensor.Ones(3);
        w.RequiresGrad = true;
        Tensor h;
        using (Tensor.Scope())
        {
            h = (w * 2).RetainGrad();
            h.Sum().Backward();
            Assert.That(h.Grad!.ToArray(), Is.All.EqualTo(1f));
        }
        Assert.That(h.Grad!.IsReleased, Is.True);
        Assert.That(w.Grad!.ToArray(), Is.All.EqualTo(2f));
    }

    private static (List<float[]> Params, List<float> Losses) TrainMlp(bool scoped, int steps)
    {
        var rng = new Rng(7);
        var net = Mlp.Create([4, 32, 32, 2], () => new Tanh(), rng);
        var opt = new Adam(net.Parameters(), lr: 1e-2);
        var x = Tensor.Randn([16, 4], rng);
        var y = Tensor.Randn([16, 2], rng);
        var losses = new List<float>();
        for (int s = 0; s < steps; s++)
        {
            using var memory = scoped ? Tensor.Scope() : default;
            opt.ZeroGrad();
            var loss = F.MseLoss(net.Forward(x), y);
            loss.Backward();
            Clip.GradNorm(net.Parameters(), 0.5);
            opt.Step();
            losses.Add((float)loss.Item());
        }
        return (net.Parameters().Select(p => p.ToArray()).ToList(), losses);
    }

    [Test]
    public void TrainingInAScopeIsBitIdentical()
    {
        var (p0, l0) = TrainMlp(scoped: false, steps: 30);
        var (p1, l1) = TrainMlp(scoped: true, steps: 30);
        Assert.That(l1, Is.EqualTo(l0));
        for (int i = 0; i < p0.Count; i++) Assert.That(p1[i], Is.EqualTo(p0[i]));
    }

    [Test]
    public void SteadyStateTrainStepAllocatesLittle()
    {
        var rng = new Rng(11);
        var net = Mlp.Create([4, 64, 64, 2], () => new Tanh(), rng);
        var opt = new Adam(net.Parameters(), lr: 1e-3);
        var x = Tensor.Randn([64, 4], rng);
        var y = Tensor.Randn([64, 2], rng);
        void Step()
        {
            using var memory = Tensor.Scope();
            opt.ZeroGrad();
            F.MseLoss(net.Forward(x), y).Backward();
            opt.Step();
        }
        for (int i = 0; i < 50; i++) Step();
        const int n = 200;
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < n; i++) Step();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - b0) / n;
        TestContext.Out.WriteLine($"{perStep} bytes/step in a scope");
        Assert.That(perStep, Is.LessThan(32 * 1024));
    }

    [Test]
    public void ScopesArePerThread()
    {
        Tensor mine;
        Tensor? theirs = null;
        using (Tensor.Scope())
        {
            mine = Tensor.Ones(8) * 2;
            // Another thread: no scope open there, so its tensors are the GC's even while ours is open.
            var t = new Thread(() =>
            {
                theirs = Tensor.Ones(8) * 3;
                using (Tensor.Scope()) { _ = Tensor.Ones(8) * 4; }
            });
            t.Start();
            t.Join();
            // Disposing our scope on another thread is refused.
            Exception? fromOther = null;
            var scopeHere = Tensor.Scope();
            var u = new Thread(() => { try { scopeHere.Dispose(); } catch (Exception e) { fromOther = e; } });
            u.Start();
            u.Join();
            Assert.That(fromOther, Is.InstanceOf<InvalidOperationException>());
            scopeHere.Dispose();
        }
        Assert.That(mine.IsReleased, Is.True);
        Assert.That(theirs!.IsReleased, Is.False);
        Assert.That(theirs.ToArray(), Is.All.EqualTo(3f));
    }

    [Test]
    public void ScopedThreadsTrainIndependently()
    {
        var results = new List<float[]>[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() => results[i] = TrainMlp(scoped: true, steps: 10).Params)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var reference = TrainMlp(scoped: false, steps: 10).Params;
        for (int k = 0; k < reference.Count; k++)
        {
            Assert.That(results[0][k], Is.EqualTo(reference[k]));
            Assert.That(results[1][k], Is.EqualTo(reference[k]));
        }
    }
}
