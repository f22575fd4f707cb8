// InternalsRecorder: every optimizer's generic metrics (norms, ratio, cosine) and each optimizer's declared ones,
// each against a direct computation in double from the arrays before and after a step and from its state; a recorded
// run is bit for bit the run without the recorder.
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

public sealed class InternalsTests
{
    /// <summary>A [6,9] weight and a [9] bias with gradients set, all from seed.</summary>
    private static List<Tensor> Params(int seed, int rows = 6, int cols = 9)
    {
        var rng = new Rng(seed);
        var w = Tensor.Randn([rows, cols], rng); w.RequiresGrad = true; w.Name = "w";
        var b = Tensor.Randn([cols], rng); b.RequiresGrad = true; b.Name = "b";
        return [w, b];
    }

    private static void SetGrads(List<Tensor> ps, Rng rng, double scale = 1)
    {
        foreach (var p in ps) p.Grad = Tensor.Normal(p.Shape.ToArray(), 0, scale, rng);
    }

    internal static double Norm(double[] x) => Math.Sqrt(x.Sum(v => v * v));
    private static double Dot(double[] x, double[] y) => x.Zip(y, (a, b) => a * b).Sum();

    /// <summary>The recorded value of metric of tensor at the last record.</summary>
    internal static double Value(InternalsRecorder r, string tensor, string metric) =>
        r.Rows.Last(x => x.Tensor == tensor && x.Metric == metric).Value;

    private static readonly string[] Generic = ["grad_norm", "update_norm", "param_norm", "update_ratio", "update_cos"];

    [TestCaseSource(typeof(RegistryTests), nameof(RegistryTests.Names))]
    public void GenericMetricsAreTheNormsAndTheCosineOfTheStep(string name)
    {
        var ps = Params(1);
        var opt = Optimizers.Create(name, ps, new Dictionary<string, string>());
        using var rec = new InternalsRecorder(opt, every: 1, names: [new("layer.weight", ps[0])]);
        var rng = new Rng(2);
        for (int step = 0; step < 3; step++)
        {
            SetGrads(ps, rng);
            var before = ps.Select(p => p.ToDoubleArray()).ToList();
            opt.Step();
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                string t = i == 0 ? "layer.weight" : "b";   // the names given, else the tensor's Name
                double[] g = p.Grad!.ToDoubleArray(), after = p.ToDoubleArray();
                double[] delta = after.Zip(before[i], (a, b) => a - b).ToArray();
                double gn = Norm(g), dn = Norm(delta), pn = Norm(after);
                Assert.That(Value(rec, t, "grad_norm"), Is.EqualTo(gn).Within(1e-12).Percent, $"{name} {t}");
                Assert.That(Value(rec, t, "update_norm"), Is.EqualTo(dn).Within(1e-4).Percent, $"{name} {t}");
                Assert.That(Value(rec, t, "param_norm"), Is.EqualTo(pn).Within(1e-12).Percent, $"{name} {t}");
                Assert.That(Value(rec, t, "update_ratio"), Is.EqualTo(dn / pn).Within(1e-4).Percent, $"{name} {t}");
                if (dn > 0) Assert.That(Value(rec, t, "update_cos"), Is.EqualTo(-Dot(delta, g) / (dn * gn)).Within(1e-5), $"{name} {t}");
            }
        }
        Assert.That(rec.Rows.Select(r => r.Step).Distinct(), Is.EqualTo(new long[] { 1, 2, 3 }), "without a clock: the update's number");
        var first = rec.Rows.Where(r => r.Step == 1 && r.Tensor == "b").Select(r => r.Metric).ToList();
        Assert.That(first.Take(5), Is.EqualTo(Generic), "the generic metrics first, then the optimizer's own");
    }

    [TestCaseSource(typeof(RegistryTests), nameof(RegistryTests.Names))]
    public void ARecordedRunIsTheRunWithoutTheRecorder(string name)
    {
        double[][] Run(bool record)
        {
            var ps = Params(3);
            var opt = Optimizers.Create(name, ps, new Dictionary<string, string>());
            using var rec = record ? new InternalsRecorder(opt, every: 2) : null;
            var rng = new Rng(4);
            for (int k = 0; k < 5; k++) { SetGrads(ps, rng); opt.Step(); }
            return ps.Select(p => p.ToDoubleArray()).ToArray();
        }
        Assert.That(Run(record: true), Is.EqualTo(Run(record: false)));
    }

    [Test]
    public void RecordsFallOnEveryNthUpdateAtTheClocksStepAndContinueAfterASetUpdateCount()
    {
        var ps = Params(5);
        var opt = new Sgd(ps, lr: 0.1);
        long clock = 0;
        var rows = new List<InternalsRow>();
        var rec = new InternalsRecorder(opt, every: 3, sink: rows.Add) { Clock = () => clock };
        var rng = new Rng(6);
        for (int k = 0; k < 7; k++) { clock = 100 * (k + 1); SetGrads(ps, rng); opt.Step(); }
        Assert.That(rows.Select(r => r.Step).Distinct(), Is.EqualTo(new long[] { 100, 400, 700 }), "updates 1, 4 and 7");
        Assert.That(rec.Rows, Is.Empty, "a sink takes the rows");
        Assert.That(() => new InternalsRecorder(opt), Throws.InvalidOperationException);
        rec.Dispose();

        // A resumed run sets the count it had reached: records fall where they would have.
        using var again = new InternalsRecorder(opt, every: 3) { Updates = 7 };
        for (int k = 0; k < 3; k++) { SetGrads(ps, rng); opt.Step(); }
        Assert.That(again.Rows.Select(r => r.Step).Distinct(), Is.EqualTo(new long[] { 10 }), "update 10 = 3*3 + 1");
        Assert.That(() => new InternalsRecorder(opt, every: 0), Throws.ArgumentException);
    }

    [Test]
    public void SgdWithoutMomentumStepsAlongMinusTheGradientAndWithItRecordsTheBuffersNorm()
    {
        var ps = Params(7);
        var opt = new Sgd(ps, lr: 0.05, momentum: 0.9);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(8);
        for (int k = 0; k < 2; k++) { SetGrads(ps, rng); opt.Step(); }
        foreach (var p in ps)
            Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(opt.StateOf(p)!.Buffers["momentum_buffer"].ToDoubleArray())).Within(1e-12).Percent);

        var plain = Params(7);
        var sgd = new Sgd(plain, lr: 0.05);
        using var rec2 = new InternalsRecorder(sgd, every: 1);
        SetGrads(plain, new Rng(9));
        sgd.Step();
        Assert.That(Value(rec2, "w", "update_cos"), Is.EqualTo(1).Within(1e-6));
        Assert.That(Value(rec2, "w", "update_norm") / Value(rec2, "w", "grad_norm"), Is.EqualTo(0.05).Within(1e-4).Percent);
        Assert.That(rec2.Rows.Select(r => r.Metric).Distinct(), Is.EqualTo(Generic), "no momentum: no buffer, nothing more");
    }

    [TestCase(1.0, 0.0), TestCase(5.0, 0.9), TestCase(0.3, 0.0)]
    public void AlphaGradRecordsItsTanhSaturationAndLargestArgument(double alpha, double momentum)
    {
        var ps = Params(10, 20, 30);
        var opt = new AlphaGrad(ps, lr: 0.01, alpha: alpha, momentum: momentum);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(11);
        for (int k = 0; k < 2; k++)
        {
            SetGrads(ps, rng);
            ps[0].Grad!.MulInPlace(0.01);
            opt.Step();
        }
        foreach (var p in ps)
        {
            var g = p.Grad!.ToDoubleArray();
            double scale = Norm(g) + 1e-8;
            double[] squashed = g.Select(x => Math.Tanh(alpha * x / scale)).ToArray();   // the direction the step takes
            Assert.That(Value(rec, p.Name!, "saturated"), Is.EqualTo(squashed.Count(d => Math.Abs(d) > 0.9) / (double)g.Length), p.Name);
            Assert.That(Value(rec, p.Name!, "tanh_arg_max"), Is.EqualTo(alpha * g.Max(Math.Abs) / scale).Within(1e-12).Percent, p.Name);
            if (momentum != 0)
                Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(opt.StateOf(p)!.Buffers["momentum_buffer"].ToDoubleArray())).Within(1e-12).Percent);
        }
        // At alpha 5 a 30-element bias saturates somewhere; at 0.3 nothing does.
        Assert.That(Value(rec, "b", "saturated"), alpha >= 5 ? Is.GreaterThan(0) : Is.EqualTo(0));
    }

    /// <summary>NumPy's percentile (linear): q*(n-1) into the sorted values.</summary>
    internal static double Percentile(IEnumerable<double> values, double q)
    {
        var s = values.OrderBy(x => x).ToArray();
        double pos = q / 100 * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    [TestCase(false), TestCase(true)]
    public void AdamRecordsItsEffectiveStepPercentilesAndBiasCorrections(bool amsgrad)
    {
        var ps = Params(12, 10, 40);
        var opt = new AdamW(ps, lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, amsgrad: amsgrad);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(13);
        for (int k = 0; k < 4; k++) { SetGrads(ps, rng, scale: k == 1 ? 10 : 0.1); opt.Step(); }
        double bc1 = 1 - Math.Pow(0.8, 4), bc2 = 1 - Math.Pow(0.99, 4);
        foreach (var p in ps)
        {
            var s = opt.StateOf(p)!;
            var v = s.Buffers[amsgrad ? "max_exp_avg_sq" : "exp_avg_sq"].ToDoubleArray();
            var steps = v.Select(x => 3e-3 / (Math.Sqrt(x / bc2) + 1e-6)).ToList();   // lr/(sqrt(v_hat) + eps)
            foreach (var q in new[] { 5, 50, 95 })
                Assert.That(Value(rec, p.Name!, $"step_p{q}"), Is.EqualTo(Percentile(steps, q)).Within(1e-12).Percent, $"{p.Name} p{q}");
            Assert.That(Value(rec, p.Name!, "bias_correction1"), Is.EqualTo(bc1).Within(1e-15));
            Assert.That(Value(rec, p.Name!, "bias_correction2"), Is.EqualTo(bc2).Within(1e-15));
            Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(s.Buffers["exp_avg"].ToDoubleArray())).Within(1e-12).Percent);
        }
    }

    [Test]
    public void PercentilesBySelectionAreNumpysLinearPercentilesOfTheValuesOrOfADecreasingMapOfThem()
    {
        var rng = new Rng(24);
        foreach (int n in new[] { 1, 2, 3, 4, 7, 20, 21, 100, 1001, 2048 })
            foreach (bool ties in new[] { false, true })
            {
                var values = Enumerable.Range(0, n).Select(_ => ties ? Math.Floor(rng.NextDouble() * 5) : rng.Normal(0, 1)).ToArray();
                Func<double, double> map = x => 1 / (Math.Exp(x) + 0.5);   // decreasing
                var probe = new InternalsProbe(Tensor.Zeros(1), Tensor.Zeros(1), Tensor.Zeros(1), null, null!);
                probe.AddPercentiles("x", (double[])values.Clone());
                probe.AddPercentiles("y", (double[])values.Clone(), map);
                var got = probe.Metrics.ToDictionary(m => m.Metric, m => m.Value);
                foreach (var q in new[] { 5, 50, 95 })
                {
                    Assert.That(got[$"x_p{q}"], Is.EqualTo(Percentile(values, q)).Within(1e-12), $"n {n} ties {ties} p{q}");
                    Assert.That(got[$"y_p{q}"], Is.EqualTo(Percentile(values.Select(map), q)).Within(1e-12), $"map: n {n} ties {ties} p{q}");
                }
            }
    }

    [Test]
    public void PercentilesOfALargeTensorComeFromAFixedSampleCloseToTheWhole()
    {
        var ps = Params(14, 200, 150);   // 30000 elements: a sample of 2048
        var opt = new Adam(ps, lr: 1e-3);
        using var rec = new InternalsRecorder(opt, every: 1);
        var g = new Rng(15);
        ps[1].Grad = Tensor.Randn([150], g);
        // Gradients of very different scales across the weight's elements: log-uniform over 4 decades.
        ps[0].Grad = Tensor.FromArray(Enumerable.Range(0, 30000).Select(i => (float)Math.Pow(10, -2 + 4 * g.NextDouble())).ToArray(), 200, 150);
        opt.Step();
        var v = opt.StateOf(ps[0])!.Buffers["exp_avg_sq"].ToDoubleArray();
        double bc2 = 1 - 0.999;
        var steps = v.Select(x => 1e-3 / (Math.Sqrt(x / bc2) + 1e-8)).ToList();
        foreach (var q in new[] { 5, 50, 95 })
        {
            // The q-quantile of a sample of 2048 lies within a few standard errors of rank (sqrt(q(1-q)/n) < 1.2%) of the whole's.
            double exact = Percentile(steps, q), recorded = Value(rec, "w", $"step_p{q}");
            Assert.That(recorded, Is.InRange(Percentile(steps, Math.Max(0, q - 4)), Percentile(steps, Math.Min(100, q + 4))), $"p{q}: exact {exact}");
        }
    }

    [TestCase(false), TestCase(true)]
    public void AdaBoundRecordsTheSharesClippedAtEachBoundAndTheBounds(bool amsbound)
    {
        var ps = Params(16, 12, 25);
        var opt = new AdaBound(ps, lr: 1e-3, finalLr: 0.1, gamma: 0.05, amsbound: amsbound);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(17);
        for (int k = 0; k < 6; k++)
        {
            SetGrads(ps, rng);
            ps[0].Grad!.MulInPlace(k % 2 == 0 ? 1e-6 : 1e-4);   // tiny gradients of w: its steps hit the upper bound, b's the lower
            opt.Step();
        }
        int t = 6;
        double bc1 = 1 - Math.Pow(0.9, t), bc2 = 1 - Math.Pow(0.999, t);
        double lower = 0.1 * (1 - 1 / (0.05 * t + 1)), upper = 0.1 * (1 + 1 / (0.05 * t));
        bool someLower = false, someUpper = false;
        foreach (var p in ps)
        {
            var v = opt.StateOf(p)!.Buffers[amsbound ? "max_exp_avg_sq" : "exp_avg_sq"].ToDoubleArray();
            var step = v.Select(x => 1e-3 * Math.Sqrt(bc2) / bc1 / (Math.Sqrt(x) + 1e-8)).ToArray();
            double lo = step.Count(s => s < lower) / (double)v.Length, up = step.Count(s => s > upper) / (double)v.Length;
            Assert.That(Value(rec, p.Name!, "clipped_lower"), Is.EqualTo(lo), p.Name);
            Assert.That(Value(rec, p.Name!, "clipped_upper"), Is.EqualTo(up), p.Name);
            Assert.That(Value(rec, p.Name!, "lower_bound"), Is.EqualTo(lower).Within(1e-14));
            Assert.That(Value(rec, p.Name!, "upper_bound"), Is.EqualTo(upper).Within(1e-14));
            someLower |= lo > 0; someUpper |= up > 0;
        }
        Assert.That((someLower, someUpper), Is.EqualTo((true, true)), "the case exercises both bounds");
    }

    [TestCase(0.0), TestCase(0.5)]
    public void LionRecordsTheShareOfSignsThatAgreeWithTheGradient(double weightDecay)
    {
        var ps = Params(18, 15, 20);
        var opt = new Lion(ps, lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: weightDecay);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(19);
        for (int k = 0; k < 3; k++)
        {
            SetGrads(ps, rng);
            var mOld = ps.Select(p => opt.StateOf(p)?.Buffers["exp_avg"].ToDoubleArray() ?? new double[p.Numel]).ToList();
            opt.Step();
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                var g = p.Grad!.ToDoubleArray();
                var u = mOld[i].Zip(g, (m, x) => 0.9 * m + 0.1 * x).ToArray();   // the step is -lr*sign(u)
                double agree = u.Zip(g, (a, b) => Math.Sign(a) != 0 && Math.Sign(a) == Math.Sign(b)).Count(x => x) / (double)g.Length;
                Assert.That(Value(rec, p.Name!, "sign_agree"), Is.EqualTo(agree), $"{p.Name} step {k}");
                if (k == 0) Assert.That(agree, Is.EqualTo(1), "m = 0 at first: the sign is the gradient's");
            }
        }
        Assert.That(Value(rec, "w", "sign_agree"), Is.LessThan(1), "the momentum overrules some signs later");
    }

    [Test]
    public void CautiousLionsAgreementIsTheShareItsMaskKeeps()
    {
        var ps = Params(20, 15, 20);
        var opt = new CLion(ps, lr: 1e-3);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(21);
        for (int k = 0; k < 3; k++)
        {
            SetGrads(ps, rng);
            var mOld = ps.Select(p => opt.StateOf(p)?.Buffers["exp_avg"].ToDoubleArray() ?? new double[p.Numel]).ToList();
            opt.Step();
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                var g = p.Grad!.ToDoubleArray();
                double kept = mOld[i].Zip(g, (m, x) => Math.Sign(0.95 * m + 0.05 * x) * x > 0).Count(x => x) / (double)g.Length;
                Assert.That(Value(rec, p.Name!, "sign_agree"), Is.EqualTo(kept), $"{p.Name} step {k}");
            }
        }
    }

    [Test]
    public void LookaheadReportsItsInnerOptimizersInternals()
    {
        var ps = Params(22);
        var opt = new Lookahead(new AlphaGrad(ps, lr: 0.01, alpha: 2, momentum: 0.9), k: 2);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(23);
        for (int k = 0; k < 2; k++) { SetGrads(ps, rng); opt.Step(); }
        Assert.That(rec.Rows.Where(r => r.Step == 2 && r.Tensor == "w").Select(r => r.Metric),
                    Is.EqualTo(Generic.Concat(["saturated", "tanh_arg_max", "momentum_norm"])));
    }
}
