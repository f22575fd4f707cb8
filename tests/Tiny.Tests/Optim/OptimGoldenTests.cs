// Replays every PyTorch golden optimizer trajectory: recorded gradients (2-D functions) and our own autograd (MLP).
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

public sealed class OptimGoldenTests
{
    /// <summary>Steps with the recorded grads; returns the max relative error (float64) or max ulps (float32).</summary>
    public static double ReplayRecordedGrads(GoldenCase c)
    {
        var ps = c.MakeParams();
        var opt = c.MakeOptimizer(ps);
        double worst = 0;
        for (int k = 0; k < c.Steps; k++)
        {
            foreach (var p in ps) p.Grad = c.MakeTensor((p.Shape.ToArray(), c.Grads![k][p.Name!]));
            opt.Step();
            foreach (var p in ps) worst = Math.Max(worst, Error(c, p, c.Trajectory[k][p.Name!]));
        }
        return worst;
    }

    // AlphaGrad's tanh: torch runs SLEEF's vectorised tanh, .NET calls libm's; they differ by an ulp or two, which
    // the trajectories amplify. Its cases are compared relative to max(|want|, 1e-2) (it converges to 0 on the quadratic).
    private static double Error(GoldenCase c, Tensor p, double[] want)
    {
        double worst = 0;
        if (c.Optimizer == "alphagrad")
        {
            for (int i = 0; i < want.Length; i++) worst = Math.Max(worst, Math.Abs(p.At(i) - want[i]) / Math.Max(Math.Abs(want[i]), 1e-2));
            return worst;
        }
        if (c.F32) { var a = p.DataF; for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Golden.Ulps(a[i], (float)want[i])); }
        else { var a = p.DataD; for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Golden.Rel(a[i], want[i])); }
        return worst;
    }

    [TestCaseSource(typeof(Golden), nameof(Golden.Names2D))]
    public void Trajectory2DWithRecordedGrads(string name)
    {
        var c = Golden.Get(name);
        double e = ReplayRecordedGrads(c);
        TestContext.Out.WriteLine($"{name}: max {(c.F32 && c.Optimizer != "alphagrad" ? "ulps" : "rel err")} {Golden.Fmt(e)}");
        if (c.Optimizer == "alphagrad") Assert.That(e, Is.LessThanOrEqualTo(c.F32 ? 1e-4 : 1e-10), "relative error (tanh differs by an ulp)");
        else if (c.F32) Assert.That(e, Is.LessThanOrEqualTo(4), "float32 ulps");
        else Assert.That(e, Is.LessThanOrEqualTo(1e-10), "float64 relative error");
    }

    [TestCase("sgd_momentum_rosenbrock")]
    [TestCase("adam_amsgrad_rosenbrock")]
    [TestCase("adabound_beale")]
    [TestCase("alphagrad_momentum_rosenbrock")]
    [TestCase("adamw_himmelblau_f32")]
    [TestCase("alphagrad_a2_himmelblau_f32")]
    public void Trajectory2DWithOwnAutograd(string name)
    {
        var c = Golden.Get(name);
        var p = c.MakeParams()[0];
        var opt = c.MakeOptimizer([p]);
        double worst = 0;
        for (int k = 0; k < c.Steps; k++)
        {
            opt.ZeroGrad();
            var loss = Golden.Function2D(c.Problem, p);
            Assert.That(Golden.Rel(loss.Item(), c.Loss[k]), Is.LessThanOrEqualTo(c.F32 ? 1e-5 : 1e-9), $"loss at step {k + 1}");
            loss.Backward();
            opt.Step();
            var want = c.Trajectory[k]["p"];
            for (int i = 0; i < 2; i++) worst = Math.Max(worst, Golden.Rel(p.At(i), want[i]));
        }
        TestContext.Out.WriteLine($"{name}: max rel err {Golden.Fmt(worst)}");
        Assert.That(worst, Is.LessThanOrEqualTo(c.F32 ? 1e-5 : 1e-9));
    }

    /// <summary>Steps the MLP with our autograd; returns the max error relative to max(|want|, 1e-2).</summary>
    public static double ReplayMlp(GoldenCase c)
    {
        var ps = c.MakeParams();
        var opt = c.MakeOptimizer(ps);
        var x = c.MakeTensor(c.X);
        var y = c.MakeTensor(c.Y);
        double worst = 0;
        for (int k = 0; k < c.Steps; k++)
        {
            opt.ZeroGrad();
            var loss = Golden.MlpLoss(ps, x, y);
            loss.Backward();
            opt.Step();
            foreach (var p in ps)
            {
                var want = c.Trajectory[k][p.Name!];
                for (int i = 0; i < want.Length; i++)
                    worst = Math.Max(worst, Math.Abs(p.At(i) - want[i]) / Math.Max(Math.Abs(want[i]), 1e-2));
            }
        }
        return worst;
    }

    [TestCaseSource(typeof(Golden), nameof(Golden.NamesMlp))]
    public void MlpTrajectory(string name)
    {
        var c = Golden.Get(name);
        double e = ReplayMlp(c);
        TestContext.Out.WriteLine($"{name}: max rel err {Golden.Fmt(e)}");
        Assert.That(e, Is.LessThanOrEqualTo(c.F32 ? (c.Optimizer == "alphagrad" ? 2e-3 : 1e-4) : 1e-10));   // tanh: see Error
    }

    [Test]
    public void Summary()
    {
        foreach (var grp in Golden.All.GroupBy(c => (c.Optimizer, c.DType, mlp: c.Problem == "mlp")))
        {
            double e = grp.Max(c => grp.Key.mlp ? ReplayMlp(c) : ReplayRecordedGrads(c));
            int exact = grp.Key.mlp ? -1 : grp.Count(c => ReplayRecordedGrads(c) == 0);
            TestContext.Out.WriteLine($"{grp.Key.Optimizer,-10} {grp.Key.DType} {(grp.Key.mlp ? "mlp  " : "2-D  ")} cases {grp.Count()}: max {(!grp.Key.mlp && grp.Key.DType == "float32" && grp.Key.Optimizer != "alphagrad" ? "ulps" : "rel")} {Golden.Fmt(e)}{(exact >= 0 ? $", bit-exact {exact}/{grp.Count()}" : "")}");
        }
    }
}
