// Each optimizer's own internals (its Internals override) against a direct computation: torch 1.13's optimizers from
// torch's state after every step of a small run (internals_golden.json, gen_internals_golden.py), the others in
// float64 from their buffers and from what the update did (the per-element step as the update over its direction).
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;
using static Tiny.Tests.Optim.InternalsTests;

namespace Tiny.Tests.Optim;

public sealed class InternalsOptimizerTests
{
    // ---- torch's optimizers, against torch's state.

    private static string GoldenFile => Path.Combine(AppContext.BaseDirectory, "data", "internals_golden.json");

    public static IEnumerable<string> GoldenNames() =>
        JsonDocument.Parse(File.ReadAllText(GoldenFile)).RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();

    [TestCaseSource(nameof(GoldenNames))]
    public void TheInternalsOfTorchsOptimizersAreTheOnesTorchsStateGives(string name)
    {
        var c = JsonDocument.Parse(File.ReadAllText(GoldenFile)).RootElement.EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        bool f32 = c.GetProperty("dtype").GetString() == "float32";
        Tensor Make(double[] data, int[] shape) => f32 ? Tensor.FromArray(Array.ConvertAll(data, x => (float)x), shape) : Tensor.FromArray(data, shape);
        var ps = c.GetProperty("start").EnumerateObject().Select(p =>
        {
            var (shape, data) = Golden.T(p.Value);
            var t = Make(data, shape);
            t.Name = p.Name;
            t.RequiresGrad = true;
            return t;
        }).ToList();
        var opt = Optimizers.Create(c.GetProperty("optimizer").GetString()!, ps, Golden.Opts(c.GetProperty("options")));
        using var rec = new InternalsRecorder(opt, every: 1);
        var grads = c.GetProperty("grads").EnumerateArray().ToList();
        var expected = c.GetProperty("internals").EnumerateArray().ToList();
        for (int k = 0; k < grads.Count; k++)
        {
            foreach (var p in ps) p.Grad = Make(grads[k].GetProperty(p.Name!).EnumerateArray().Select(x => x.GetDouble()).ToArray(), p.Shape.ToArray());
            opt.Step();
            foreach (var p in ps)
            {
                var own = rec.Rows.Where(r => r.Step == k + 1 && r.Tensor == p.Name).Skip(5).ToList();   // past the generic five
                var want = expected[k].GetProperty(p.Name!).EnumerateObject().ToList();
                Assert.That(own.Select(r => r.Metric), Is.EquivalentTo(want.Select(w => w.Name)), $"{name} step {k + 1} {p.Name}: the metrics");
                foreach (var w in want)
                {
                    double got = own.Single(r => r.Metric == w.Name).Value, x = w.Value.GetDouble();
                    // Adadelta's step is recovered from its acc_delta after the update, torch's comes from the one before:
                    // as exact as the state, so to float rounding (~1e-7) in float32.
                    double tol = f32 && c.GetProperty("optimizer").GetString() == "adadelta" && w.Name.StartsWith("step_", StringComparison.Ordinal) ? 1e-6 : 1e-10;
                    Assert.That(got, Is.EqualTo(x).Within(tol * Math.Abs(x) + 1e-300), $"{name} step {k + 1} {p.Name} {w.Name}");
                }
            }
        }
    }

    // ---- The others, in float64 from their buffers and their updates.

    /// <summary>A float64 [rows, cols] weight and [cols] bias, named w and b.</summary>
    private static List<Tensor> Params(int seed, int rows = 8, int cols = 12)
    {
        var rng = new Rng(seed);
        var w = Tensor.Randn([rows, cols], rng, DType.Float64); w.RequiresGrad = true; w.Name = "w";
        var b = Tensor.Randn([cols], rng, DType.Float64); b.RequiresGrad = true; b.Name = "b";
        return [w, b];
    }

    private static void SetGrads(List<Tensor> ps, Rng rng, double scale) =>
        ps.ForEach(p => p.Grad = Tensor.Normal(p.Shape.ToArray(), 0, scale, rng, DType.Float64));

    private static double[] A(Tensor t) => t.ToDoubleArray();
    private static double[] Buf(Optimizer opt, Tensor p, string name) => A(opt.StateOf(p)!.Buffers[name]);
    private static IEnumerable<string> Own(InternalsRecorder r, string tensor) =>
        r.Rows.Where(x => x.Step == r.Rows[^1].Step && x.Tensor == tensor).Skip(5).Select(x => x.Metric);

    /// <summary>The recorded step_p5/p50/p95 of tensor are the percentiles of steps (relative tolerance tol).</summary>
    private static void AssertSteps(InternalsRecorder rec, string tensor, IReadOnlyCollection<double> steps, double tol, string what)
    {
        foreach (var q in new[] { 5, 50, 95 })
        {
            double want = Percentile(steps, q);
            Assert.That(Value(rec, tensor, $"step_p{q}"), Is.EqualTo(want).Within(tol * Math.Abs(want)), $"{what} {tensor} p{q}");
        }
    }

    /// <summary>The per-element step as the update did it: -delta_i / direction_i.</summary>
    private static double[] Ratio(double[] before, double[] after, double[] direction) =>
        before.Select((x, i) => (x - after[i]) / direction[i]).ToArray();

    [TestCase(false, true, true), TestCase(true, false, true), TestCase(true, false, false)]
    public void AdaBeliefsStepIsWhatItsUpdateDidOnEachBranch(bool rectify, bool amsgrad, bool degeneratedToSgd)
    {
        var ps = Params(40);
        var opt = new AdaBelief(ps, lr: 0.01, eps: 1e-12, amsgrad: amsgrad, rectify: rectify, degeneratedToSgd: degeneratedToSgd);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(41);
        for (int t = 1; t <= 8; t++)
        {
            SetGrads(ps, rng, t % 3 == 0 ? 5 : 0.2);
            var before = ps.Select(A).ToList();
            opt.Step();
            double bc1 = 1 - Math.Pow(0.9, t), bc2 = 1 - Math.Pow(0.999, t);
            double rhoT = 2 / (1 - 0.999) - 1 - 2 * t * Math.Pow(0.999, t) / bc2;
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                var mHat = Buf(opt, p, "exp_avg").Select(m => m / bc1).ToArray();
                AssertSteps(rec, p.Name!, Ratio(before[i], A(p), mHat), 1e-9, $"step {t}");
                Assert.That(Value(rec, p.Name!, "bias_correction1"), Is.EqualTo(bc1).Within(1e-15));
                Assert.That(Value(rec, p.Name!, "bias_correction2"), Is.EqualTo(bc2).Within(1e-15));
                Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(Buf(opt, p, "exp_avg"))).Within(1e-12).Percent);
                if (!rectify) { Assert.That(Own(rec, p.Name!), Does.Not.Contain("rho_t")); continue; }
                Assert.That(Value(rec, p.Name!, "rho_t"), Is.EqualTo(rhoT).Within(1e-9));
                Assert.That(Value(rec, p.Name!, "rectified"), Is.EqualTo(rhoT >= 5 ? 1 : 0), $"step {t}");
            }
        }
        if (rectify) Assert.That(rec.Rows.Where(r => r.Metric == "rectified").Select(r => r.Value).Distinct(), Is.EquivalentTo(new[] { 0.0, 1.0 }), "both branches ran");
    }

    [Test]
    public void AdEMAMixsStepMultipliesItsMixAndItsSchedulesAreTheReferences()
    {
        var ps = Params(42);
        var opt = new AdEMAMix(ps, lr: 0.01, alpha: 5, beta3Warmup: 6, alphaWarmup: 6);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(43);
        static double F(double beta) => Math.Log(0.5) / Math.Log(beta + 1e-8) - 1;   // the reference's half-life of beta
        for (int t = 1; t <= 8; t++)
        {
            SetGrads(ps, rng, t % 2 == 0 ? 3 : 0.3);
            var before = ps.Select(A).ToList();
            opt.Step();
            double bc1 = 1 - Math.Pow(0.9, t), alpha = t < 6 ? 5.0 * t / 6 : 5;
            double beta3 = t < 6 ? Math.Pow(0.5, 1 / ((1 - t / 6.0) * F(0.9) + t / 6.0 * F(0.9999) + 1)) : 0.9999;
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] m1 = Buf(opt, p, "exp_avg_fast"), m2 = Buf(opt, p, "exp_avg_slow");
                AssertSteps(rec, p.Name!, Ratio(before[i], A(p), m1.Select((m, k) => m / bc1 + alpha * m2[k]).ToArray()), 1e-9, $"step {t}");
                Assert.That(Value(rec, p.Name!, "alpha"), Is.EqualTo(alpha).Within(1e-12));
                Assert.That(Value(rec, p.Name!, "beta3"), Is.EqualTo(beta3).Within(1e-12));
                Assert.That(Value(rec, p.Name!, "bias_correction1"), Is.EqualTo(bc1).Within(1e-15));
                Assert.That(Value(rec, p.Name!, "slow_ema_norm"), Is.EqualTo(Norm(m2)).Within(1e-12).Percent);
                Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(m1)).Within(1e-12).Percent);
            }
        }
    }

    [Test]
    public void AdansStepMultipliesBothItsMomentaAndItRecordsItsThreeMomentsAndTheClip()
    {
        var ps = Params(44);
        var opt = new Adan(ps, lr: 0.01, maxGradNorm: 1.0);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(45);
        for (int t = 1; t <= 6; t++)
        {
            SetGrads(ps, rng, t == 3 ? 0.001 : 1);   // step 3: under the clip norm
            double clip = Math.Min(1, 1.0 / (Math.Sqrt(ps.Sum(p => A(p.Grad!).Sum(x => x * x))) + 1e-8));
            var before = ps.Select(A).ToList();
            opt.Step();
            double bc1 = 1 - Math.Pow(0.98, t), bc2 = 1 - Math.Pow(0.92, t), bc3 = 1 - Math.Pow(0.99, t);
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] m = Buf(opt, p, "exp_avg"), diff = Buf(opt, p, "exp_avg_diff"), n = Buf(opt, p, "exp_avg_sq");
                AssertSteps(rec, p.Name!, Ratio(before[i], A(p), m.Select((x, k) => x / bc1 + 0.92 * diff[k] / bc2).ToArray()), 1e-8, $"step {t}");
                Assert.That(Value(rec, p.Name!, "bias_correction3"), Is.EqualTo(bc3).Within(1e-15));
                Assert.That(Value(rec, p.Name!, "momentum_norm"), Is.EqualTo(Norm(m)).Within(1e-12).Percent);
                Assert.That(Value(rec, p.Name!, "diff_norm"), Is.EqualTo(Norm(diff)).Within(1e-12).Percent);
                Assert.That(Value(rec, p.Name!, "second_moment_norm"), Is.EqualTo(Norm(n)).Within(1e-12).Percent);
                Assert.That(Value(rec, p.Name!, "grad_clip"), Is.EqualTo(clip).Within(1e-6), $"step {t}: float32 sums, as the reference");
            }
        }
        Assert.That(rec.Rows.Where(r => r.Metric == "grad_clip").Select(r => r.Value), Has.Some.EqualTo(1.0).And.Some.LessThan(0.5));
    }

    [TestCase(true, false), TestCase(false, true), TestCase(true, true)]
    public void LaPropsStepIsHowTheGradientEntersItsMomentum(bool centered, bool amsgrad)
    {
        var ps = Params(46);
        var opt = new LaProp(ps, lr: 0.01, eps: 1e-12, centered: centered, amsgrad: amsgrad);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(47);
        for (int t = 1; t <= 13; t++)   // the centered second moment from step 11 on
        {
            SetGrads(ps, rng, t % 4 == 0 ? 4 : 0.5);
            var mBefore = ps.Select(p => opt.StateOf(p) is { } s ? A(s.Buffers["exp_avg"]) : new double[p.Numel]).ToList();
            opt.Step();
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] m = Buf(opt, p, "exp_avg"), g = A(p.Grad!);
                // m = b1*m' + (1-b1)*lr*g/denom: the step lr/denom is (m - b1*m')/((1-b1)*g).
                AssertSteps(rec, p.Name!, m.Select((x, k) => (x - 0.9 * mBefore[i][k]) / (0.1 * g[k])).ToArray(), 1e-8, $"step {t}");
                Assert.That(Value(rec, p.Name!, "bias_correction1"), Is.EqualTo(1 - Math.Pow(0.9, t)).Within(1e-12));
                Assert.That(Value(rec, p.Name!, "bias_correction2"), Is.EqualTo(1 - Math.Pow(0.999, t)).Within(1e-12));
            }
        }
    }

    [Test]
    public void GramsRecordsWhereItsMomentumAgreesWithTheGradientAndItsStep()
    {
        var ps = Params(48);
        var opt = new Grams(ps, lr: 0.01);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(49);
        for (int t = 1; t <= 5; t++)
        {
            SetGrads(ps, rng, 1);
            var before = ps.Select(A).ToList();
            opt.Step();
            double bc1 = 1 - Math.Pow(0.9, t);
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] m = Buf(opt, p, "exp_avg"), g = A(p.Grad!);
                AssertSteps(rec, p.Name!, Ratio(before[i], A(p), m.Select((x, k) => Math.Sign(g[k]) * Math.Abs(x) / bc1).ToArray()), 1e-9, $"step {t}");
                double agree = m.Where((x, k) => x * g[k] > 0).Count() / (double)m.Length;
                Assert.That(Value(rec, p.Name!, "momentum_agree"), Is.EqualTo(agree), $"step {t}");
                if (t == 1) Assert.That(agree, Is.EqualTo(1), "m = (1-b1)*g at first");
            }
        }
        Assert.That(Value(rec, "w", "momentum_agree"), Is.LessThan(1), "later the momentum disagrees somewhere: Grams re-signs it there");
    }

    [Test]
    public void CautiousAdamWsMaskedShareIsWhereItsUpdateIsZero()
    {
        var ps = Params(50);
        var opt = new CAdamW(ps, lr: 0.01);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(51);
        for (int t = 1; t <= 5; t++)
        {
            SetGrads(ps, rng, 1);
            var before = ps.Select(A).ToList();
            opt.Step();
            double bc1 = 1 - Math.Pow(0.9, t), stepSize = 0.01 * Math.Sqrt(1 - Math.Pow(0.999, t)) / bc1;
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] m = Buf(opt, p, "exp_avg"), v = Buf(opt, p, "exp_avg_sq"), after = A(p);
                AssertSteps(rec, p.Name!, v.Select(x => stepSize * bc1 / (Math.Sqrt(x) + 1e-6)).ToList(), 1e-12, $"step {t}");
                double still = after.Where((x, k) => x == before[i][k]).Count() / (double)after.Length;
                Assert.That(Value(rec, p.Name!, "masked"), Is.EqualTo(still).Within(1e-15), $"step {t}: the elements the update left alone");
                Assert.That(Value(rec, p.Name!, "mask_scale"), Is.EqualTo(1 / Math.Max(1 - still, 1e-3)).Within(1e-12));
                if (t > 1) Assert.That(still, Is.GreaterThan(0));
            }
        }
    }

    [Test]
    public void AdoptsStepIsTheNextUpdatesDivisorAndItsClipTheSchedule()
    {
        var ps = Params(52);
        var opt = new Adopt(ps, lr: 0.01, eps: 1e-3);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(53);
        for (int t = 1; t <= 4; t++)
        {
            SetGrads(ps, rng, t == 1 ? 1e-4 : 1);   // v = g^2 at first: sqrt(v) under eps, the floor divides
            opt.Step();
            foreach (var p in ps)
            {
                AssertSteps(rec, p.Name!, Buf(opt, p, "exp_avg_sq").Select(x => 0.01 / Math.Max(Math.Sqrt(x), 1e-3)).ToList(), 1e-12, $"step {t}");
                Assert.That(Value(rec, p.Name!, "clip"), Is.EqualTo(Math.Pow(t - 1, 0.25)).Within(1e-15), "step s counted from 0");
            }
        }
    }

    [TestCase("schedulefree-adamw"), TestCase("schedulefree-sgd")]
    public void ScheduleFreeRecordsItsAveragingWeightAndHowFarTheAverageIsFromZ(string name)
    {
        var ps = Params(54);
        var opt = Optimizers.Create(name, ps, new Dictionary<string, string> { ["lr"] = "0.05", ["warmup_steps"] = "3" });
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(55);
        double weightSum = 0, lrMax = -1;
        for (int k = 0; k < 6; k++)
        {
            SetGrads(ps, rng, 1);
            var zBefore = ps.Select(p => opt.StateOf(p) is { } s ? A(s.Buffers["z"]) : A(p)).ToList();   // z starts as p
            opt.Step();
            double lr = 0.05 * (k < 3 ? (k + 1) / 3.0 : 1);
            lrMax = Math.Max(lr, lrMax);
            weightSum += lrMax * lrMax;
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                Assert.That(Value(rec, p.Name!, "ckp1"), Is.EqualTo(lrMax * lrMax / weightSum).Within(1e-12), $"step {k}");
                Assert.That(Value(rec, p.Name!, "lr"), Is.EqualTo(lr).Within(1e-15));
                double[] z = Buf(opt, p, "z");
                if (name == "schedulefree-adamw")   // z = z - lr*g/denom: the step is (z' - z)/g
                    AssertSteps(rec, p.Name!, Ratio(zBefore[i], z, A(p.Grad!)), 1e-9, $"step {k}");
            }
            // x itself: Eval moves the parameters there.
            var recorded = ps.Select(p => Value(rec, p.Name!, "x_z_distance")).ToList();
            opt.Eval();
            foreach (var (p, i) in ps.Select((p, i) => (p, i)))
            {
                double[] x = A(p), z = Buf(opt, p, "z");
                Assert.That(recorded[i], Is.EqualTo(Math.Sqrt(x.Select((v, j) => (v - z[j]) * (v - z[j])).Sum())).Within(1e-9).Percent, $"step {k} {p.Name}");
            }
            opt.Train();
        }
        Assert.That(Value(rec, "w", "x_z_distance"), Is.GreaterThan(0));
    }

    [Test]
    public void CenteredRmsPropsStepOfALargeTensorPairsEachSampledElementsTwoBuffers()
    {
        var ps = Params(56, 60, 50);   // 3000 elements: a sample of 2048, v and ga at the same elements
        var opt = new RmsProp(ps, lr: 0.01, alpha: 0.5, centered: true);
        using var rec = new InternalsRecorder(opt, every: 1);
        var rng = new Rng(57);
        for (int t = 0; t < 3; t++) { SetGrads(ps, rng, 1); ps[0].Grad = ps[0].Grad! + 2.0; opt.Step(); }   // mean 2: v - ga^2 << v
        double[] v = Buf(opt, ps[0], "square_avg"), ga = Buf(opt, ps[0], "grad_avg");
        var steps = v.Select((x, i) => 0.01 / (Math.Sqrt(x - ga[i] * ga[i]) + 1e-8)).ToList();
        foreach (var q in new[] { 5, 50, 95 })   // within a few standard errors of rank of the whole's (see InternalsTests)
            Assert.That(Value(rec, "w", $"step_p{q}"), Is.InRange(Percentile(steps, Math.Max(0, q - 4)), Percentile(steps, Math.Min(100, q + 4))), $"p{q}");
        Assert.That(Value(rec, "w", "step_p50") / Percentile(v.Select(x => 0.01 / (Math.Sqrt(x) + 1e-8)), 50), Is.GreaterThan(1.5),
                    "centered: the variance, not the raw second moment (a misaligned pair would not be)");
    }
}
