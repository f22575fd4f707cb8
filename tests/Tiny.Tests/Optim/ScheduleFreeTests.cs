// Schedule-free Train()/Eval(): the reference's train/eval sequences bit for bit (data/schedulefree_switch_golden.json,
// gen_golden_lit3.py), what the evaluation point is, the mode and the group-level scalars in the state dict, and Step
// in eval mode. The steps themselves are golden cases of optim_golden_lit3.json (OptimGoldenTests).
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

public sealed class ScheduleFreeTests
{
    private static readonly Lazy<List<JsonElement>> Switches = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "schedulefree_switch_golden.json")))
            .RootElement.EnumerateArray().ToList());

    public static IEnumerable<string> SwitchNames() => Switches.Value.Select(c => c.GetProperty("name").GetString()!);

    private static Tensor Make(bool f32, int[] shape, double[] data) =>
        f32 ? Tensor.FromArray(Array.ConvertAll(data, x => (float)x), shape) : Tensor.FromArray((double[])data.Clone(), shape);

    /// <summary>The reference's sequence of steps (torch's gradients), eval() and train() on the MLP's parameters
    /// (SIMD lanes and tails): every parameter after every op, bit for bit.</summary>
    [TestCaseSource(nameof(SwitchNames))]
    public void TrainEvalSequenceMatchesTheReference(string name)
    {
        var c = Switches.Value.Single(e => e.GetProperty("name").GetString() == name);
        bool f32 = c.GetProperty("dtype").GetString() == "float32";
        var ps = c.GetProperty("start").EnumerateObject().Select(p =>
        {
            var (shape, data) = Golden.T(p.Value);
            var t = Make(f32, shape, data);
            t.Name = p.Name;
            t.RequiresGrad = true;
            return t;
        }).ToList();
        var opt = Optimizers.Create(c.GetProperty("optimizer").GetString()!, ps, Golden.Opts(c.GetProperty("options")));
        int k = 0;
        foreach (var op in c.GetProperty("ops").EnumerateArray())
        {
            string what = op.GetProperty("op").GetString()!;
            switch (what)
            {
                case "step":
                    foreach (var p in ps)
                        p.Grad = Make(f32, p.Shape.ToArray(), op.GetProperty("grads").GetProperty(p.Name!).EnumerateArray().Select(x => x.GetDouble()).ToArray());
                    opt.Step();
                    break;
                case "eval": opt.Eval(); break;
                case "train": opt.Train(); break;
            }
            foreach (var p in ps)
            {
                var want = op.GetProperty("params").GetProperty(p.Name!).EnumerateArray().Select(x => x.GetDouble()).ToArray();
                var got = p.ToDoubleArray();
                int wrong = Enumerable.Range(0, want.Length).Count(i => f32 ? (float)got[i] != (float)want[i] : got[i] != want[i]);
                Assert.That(wrong, Is.Zero, $"{name}: op {k} ({what}), {p.Name}: {wrong} of {want.Length} elements differ");
            }
            k++;
        }
    }

    /// <summary>With a constant lr and r = 0, x is the plain average of the z iterates after steps 1..t.</summary>
    [Test]
    public void EvalPointIsTheAverageOfTheZIterates()
    {
        var p = Tensor.FromArray(new[] { 1.0, -2.0, 3.0 }, 3);
        p.RequiresGrad = true;
        var opt = new ScheduleFreeSgd([p], lr: 0.1);
        var sum = new double[3];
        const int steps = 6;
        for (int k = 0; k < steps; k++)
        {
            opt.ZeroGrad();
            (p * p * p).Sum().Backward();
            opt.Step();
            var z = opt.StateOf(p)!.Buffers["z"].ToDoubleArray();
            for (int i = 0; i < 3; i++) sum[i] += z[i];
        }
        var y = p.ToDoubleArray();
        opt.Eval();
        var x = p.ToDoubleArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.That(x[i], Is.EqualTo(sum[i] / steps).Within(1e-12 * Math.Abs(sum[i] / steps)), $"x[{i}]");
            Assert.That(x[i], Is.Not.EqualTo(y[i]), "Eval moved the parameter");
        }
    }

    [Test]
    public void StepInEvalModeThrowsAndTrainResumes()
    {
        foreach (var name in new[] { "schedulefree-adamw", "schedulefree-sgd" })
        {
            var p = Tensor.FromArray(new[] { 1.0, -2.0 }, 2);
            p.RequiresGrad = true;
            var opt = Optimizers.Create(name, [p], new Dictionary<string, string> { ["lr"] = "0.1" });
            opt.Train();                                          // a fresh optimizer is in train mode already: nothing moves
            Assert.That(p.ToDoubleArray(), Is.EqualTo(new[] { 1.0, -2.0 }));
            opt.Eval();                                           // no z yet: nothing to move
            Assert.That(p.ToDoubleArray(), Is.EqualTo(new[] { 1.0, -2.0 }));
            p.Grad = Tensor.FromArray(new[] { 0.5, 0.25 }, 2);
            Assert.That(() => opt.Step(), Throws.InvalidOperationException.With.Message.Contains("not in train mode"), name);
            opt.Train();
            opt.Step();
            Assert.That(opt.ParamGroups[0].Scalars["k"], Is.EqualTo(1), name);
            opt.Eval();
            opt.Eval();                                           // twice: the second is a no-op, as in the reference
            var x = p.ToDoubleArray();
            opt.Train();
            opt.Eval();
            Assert.That(p.ToDoubleArray(), Is.EqualTo(x).Within(1e-15), $"{name}: eval, train, eval comes back to x (round-off)");
        }
    }

    [Test]
    public void OtherOptimizersIgnoreTrainAndEval()
    {
        var p = Tensor.FromArray(new[] { 1.0, -2.0 }, 2);
        p.Grad = Tensor.FromArray(new[] { 0.5, 0.25 }, 2);
        var opt = new Adam([p], lr: 0.1);
        opt.Step();
        var before = p.ToDoubleArray();
        opt.Eval();
        opt.Step();                                               // no mode: steps in any
        opt.Train();
        Assert.That(p.ToDoubleArray(), Is.Not.EqualTo(before));
    }

    /// <summary>Saved in eval mode (a checkpoint at x) and loaded into a fresh optimizer over the saved parameters: the
    /// mode and the group-level k, lr_max, weight_sum come back, Train() returns to y, and the run continues bit for bit.</summary>
    [TestCase(false), TestCase(true)]
    public void StateDictInEvalModeResumesBitIdentically(bool f32)
    {
        var rng = new Rng(5);
        List<Tensor> Params() => [.. new[] { Tensor.Randn([7, 9], new Rng(1)), Tensor.Randn([5], new Rng(2)) }.Select(t => f32 ? t : t.To(DType.Float64))];
        var grads = Enumerable.Range(0, 14).Select(_ => new[] { Tensor.Randn([7, 9], rng), Tensor.Randn([5], rng) }).ToList();
        Optimizer Make(List<Tensor> ps) => new ScheduleFreeAdamW(
            [new GroupSpec<ScheduleFreeAdamWOptions>([ps[0]], o => o with { Lr = 0.02, InnerMomentum = 0.9 }), new GroupSpec<ScheduleFreeAdamWOptions>([ps[1]])],
            new ScheduleFreeAdamWOptions(0.01) { WarmupSteps = 5, WeightDecay = 0.01, R = 0.5 });
        void Run(Optimizer o, List<Tensor> ps, int from, int to)
        {
            for (int s = from; s < to; s++)
            {
                for (int i = 0; i < ps.Count; i++) ps[i].Grad = grads[s][i].To(ps[i].DType);
                o.Step();
            }
        }
        var pa = Params(); var a = Make(pa);
        Run(a, pa, 0, 8);
        a.Eval();
        var saved = JsonSerializer.Deserialize<OptimizerStateDict>(JsonSerializer.Serialize(a.StateDict()))!;
        Assert.That(saved.Groups[0].Scalars.Keys, Is.EquivalentTo(new[] { "k", "lr_max", "weight_sum", "scheduled_lr", "train_mode" }));
        Assert.That((saved.Groups[0].Scalars["k"], saved.Groups[0].Scalars["train_mode"]), Is.EqualTo((8.0, 0.0)));
        var pb = pa.Select(p => p.Detach().Clone()).ToList();   // the checkpoint's parameters: x
        var b = Make(pb);
        b.LoadStateDict(saved);
        foreach (var p in pb) p.Grad = Tensor.Zeros(p.Shape.ToArray(), p.DType);
        Assert.That(() => b.Step(), Throws.InvalidOperationException, "loaded in eval mode");
        a.Train(); b.Train();
        Run(a, pa, 8, 14); Run(b, pb, 8, 14);
        a.Eval(); b.Eval();
        for (int i = 0; i < pa.Count; i++) Assert.That(pb[i].ToDoubleArray(), Is.EqualTo(pa[i].ToDoubleArray()), $"param {i}");
        Assert.That(JsonSerializer.Serialize(b.StateDict()), Is.EqualTo(JsonSerializer.Serialize(a.StateDict())));
    }

    [Test]
    public void OptionsChecksAndState()
    {
        Assert.That(() => new ScheduleFreeSgd([Tensor.Zeros(2)], momentum: 1.0), Throws.ArgumentException.With.Message.Contains("Momentum must be between 0 and 1 exclusive: 1.0"));
        Assert.That(() => new ScheduleFreeSgd([Tensor.Zeros(2)], lr: -1), Throws.ArgumentException.With.Message.Contains("Invalid learning rate: -1.0"));
        Assert.That(Optimizers.Info("schedulefree-adamw").Keys,
            Is.EqualTo(new[] { "lr", "beta1", "beta2", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power", "inner_momentum" }));
        Assert.That(Optimizers.Info("schedulefree-sgd").Keys, Is.EqualTo(new[] { "lr", "momentum", "weight_decay", "warmup_steps", "r", "weight_lr_power" }));
        Assert.That((Optimizers.Info("schedulefree-adamw").Defaults.Lr, Optimizers.Info("schedulefree-sgd").Defaults.Lr), Is.EqualTo((0.0025, 1.0)));
        var p = Tensor.Zeros(10); p.Grad = Tensor.Ones(10);
        long[] bytes = new Optimizer[] { new ScheduleFreeSgd([p]), new ScheduleFreeAdamW([p]), new ScheduleFreeAdamW([p], innerMomentum: 0.9) }
            .Select(o => { o.Step(); return o.StateBytes; }).ToArray();
        Assert.That(bytes, Is.EqualTo(new long[] { 40, 80, 120 }));
    }
}
