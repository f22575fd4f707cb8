// Lookahead: the wrapper keys on every registered optimizer (spec, JSON, errors), the reference's numbers by hand,
// its state dict (slow weights and la_step) and a step that allocates nothing. Its trajectories against the reference
// code are golden cases of optim_golden_lit3.json (OptimGoldenTests).
using System.Text.Json;
using NUnit.Framework;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Tests.Optim;

public sealed class LookaheadTests
{
    [TestCaseSource(typeof(RegistryTests), nameof(RegistryTests.Names))]
    public void EveryOptimizerTakesTheLookaheadKeys(string name)
    {
        var info = Optimizers.Info(name);
        Assert.That(info.Keys, Has.None.StartsWith("lookahead"), "the wrapper keys are not the optimizer's own options");
        var p = Tensor.FromArray(new[] { 1.0, -2.0, 3.0 }, 3);
        p.RequiresGrad = true;
        var opt = Optimizers.Create(name, [p], new Dictionary<string, string> { ["lookahead-k"] = "3", ["lookahead_alpha"] = "0.5" });
        Assert.That(opt, Is.TypeOf<Lookahead>());
        var la = (Lookahead)opt;
        Assert.That((la.K, la.Alpha, la.Inner.GetType()), Is.EqualTo((3, 0.5, Optimizers.Create(name, [p], new Dictionary<string, string>()).GetType())));
        Assert.That(opt.ParamGroups[0].Options, Is.EqualTo(info.Defaults with { LookaheadK = 3, LookaheadAlpha = 0.5 }));
        var before = p.ToDoubleArray();
        for (int k = 0; k < 4; k++) { opt.ZeroGrad(); (p * p).Sum().Backward(); opt.Step(); }
        Assert.That(la.StepsSinceSync, Is.EqualTo(1));
        Assert.That(p.ToDoubleArray(), Is.Not.EqualTo(before));
        Assert.That(la.SlowWeights(p).ToDoubleArray(), Is.Not.EqualTo(before), "synchronised at step 3");
        Assert.That(opt.StateBytes, Is.EqualTo(la.Inner.StateBytes + 3 * 8));

        // The spec writes the wrapper keys after the optimizer's own; JSON of the options carries them; OptimizerSpec builds it.
        string spec = Optimizers.Format(name, new Dictionary<string, string> { ["lookahead_alpha"] = "0.25", ["lr"] = "0.5", ["lookahead_k"] = "7" });
        Assert.That(spec, Is.EqualTo($"{name}:lr=0.5,lookahead_k=7,lookahead_alpha=0.25"));
        var (n, args) = Optimizers.Parse(spec.Replace("lookahead_k", "LOOKAHEAD-K"));
        Assert.That((n, string.Join(",", args.Select(kv => kv.Key + "=" + kv.Value))), Is.EqualTo((name, "lr=0.5,lookahead_k=7,lookahead_alpha=0.25")));
        var o = Optimizers.Options(name, args);
        Assert.That((o.LookaheadK, o.LookaheadAlpha, Optimizers.Get(o, "lookahead_k")), Is.EqualTo((7, 0.25, (object)7)));
        var json = JsonSerializer.Serialize(o);
        Assert.That(json, Does.EndWith(",\"lookahead_k\":7,\"lookahead_alpha\":0.25}"));
        Assert.That(JsonSerializer.Deserialize<OptimizerOptions>(json), Is.EqualTo(o));
        Assert.That(JsonSerializer.Serialize(info.Defaults), Does.Not.Contain("lookahead"), "off: not written");
        Assert.That(OptimizerSpec.Parse($"{name}:lookahead_k=2").Create([p], 0.01), Is.TypeOf<Lookahead>());
        Assert.That(Optimizers.Create(name, [p], new Dictionary<string, string> { ["lookahead_k"] = "0" }), Is.Not.TypeOf<Lookahead>());
    }

    [Test]
    public void BadValuesAndPerGroupKeysAreRejected()
    {
        string Message(Action a) => Assert.Throws<ArgumentException>(() => a())!.Message;
        var p = Tensor.Zeros(2);
        Assert.That(Message(() => Optimizers.Options("adam", new Dictionary<string, string> { ["lookahead_k"] = "-1" })), Does.Contain("Invalid lookahead_k: -1"));
        Assert.That(Message(() => Optimizers.Options("adam", new Dictionary<string, string> { ["lookahead_alpha"] = "1.5" })), Does.Contain("Invalid lookahead_alpha: 1.5"));
        Assert.That(Message(() => OptimizerSpec.Parse("adam:lookahead_alpha=-0.5")), Does.Contain("Invalid lookahead_alpha: -0.5"));
        Assert.That(Message(() => Optimizers.Parse("adam:lookahead_k=2.5")), Does.Contain("not an integer"));
        Assert.That(Message(() => new Lookahead(new Sgd([p], 0.1), 0)), Does.Contain("Invalid lookahead_k: 0"));
        Assert.That(Message(() => Optimizers.Create("sgd", Optimizers.Options("sgd", new Dictionary<string, string> { ["lookahead_k"] = "5" }),
                                                     [([p], new Dictionary<string, string> { ["lookahead_alpha"] = "0.5" })])),
                    Does.Contain("apply to the whole optimizer, not to one param group"));
    }

    /// <summary>The reference (lookahead_pytorch.py around torch.optim.SGD(lr=0.1), la_steps=2, la_alpha=0.5) on
    /// sum(p^2) from [1, -2, 3], as torch 1.13 printed it.</summary>
    [Test]
    public void ReferenceNumbersByHand()
    {
        var p = Tensor.FromArray(new[] { 1.0, -2.0, 3.0 }, 3);
        p.RequiresGrad = true;
        var opt = new Lookahead(new Sgd([p], 0.1), k: 2, alpha: 0.5);
        double[][] want =
        [
            [0.8, -1.6, 2.4], [0.8200000000000001, -1.6400000000000001, 2.46],
            [0.656, -1.312, 1.968], [0.6724000000000001, -1.3448000000000002, 2.0172],
        ];
        foreach (var w in want)
        {
            opt.ZeroGrad(); (p * p).Sum().Backward(); opt.Step();
            Assert.That(p.ToDoubleArray(), Is.EqualTo(w));
        }
    }

    /// <summary>Saved between two synchronisations and loaded into a fresh wrapper over copies of the parameters: the
    /// slow weights and la_step come back and the run continues bit for bit; a plain optimizer's dict loads too.</summary>
    [TestCase(false), TestCase(true)]
    public void StateDictResumesBitIdentically(bool f32)
    {
        var rng = new Rng(9);
        List<Tensor> Params() => [.. new[] { Tensor.Randn([6, 11], new Rng(3)), Tensor.Randn([4], new Rng(4)) }.Select(t => f32 ? t : t.To(DType.Float64))];
        var grads = Enumerable.Range(0, 20).Select(_ => new[] { Tensor.Randn([6, 11], rng), Tensor.Randn([4], rng) }).ToList();
        Optimizer Make(List<Tensor> ps) => Optimizers.FromSpec("adam:lr=0.01,lookahead_k=5,lookahead_alpha=0.5", ps);
        void Run(Optimizer o, List<Tensor> ps, int from, int to)
        {
            for (int s = from; s < to; s++)
            {
                for (int i = 0; i < ps.Count; i++) ps[i].Grad = grads[s][i].To(ps[i].DType);
                o.Step();
            }
        }
        var pa = Params(); var a = Make(pa);
        Run(a, pa, 0, 7);
        var saved = JsonSerializer.Deserialize<OptimizerStateDict>(JsonSerializer.Serialize(a.StateDict()))!;
        Assert.That(saved.Groups[0].Scalars["la_step"], Is.EqualTo(2));
        Assert.That(saved.State.Select(e => string.Join(",", e.Buffers.Keys.Order())), Is.All.EqualTo("cached_params,exp_avg,exp_avg_sq"));
        Assert.That(saved.Groups[0].Options.LookaheadK, Is.EqualTo(5));
        var pb = pa.Select(p => p.Detach().Clone()).ToList();
        var b = Make(pb);
        b.LoadStateDict(saved);
        Assert.That(((Lookahead)b).StepsSinceSync, Is.EqualTo(2));
        Run(a, pa, 7, 20); Run(b, pb, 7, 20);
        for (int i = 0; i < pa.Count; i++) Assert.That(pb[i].ToDoubleArray(), Is.EqualTo(pa[i].ToDoubleArray()), $"param {i}");
        Assert.That(JsonSerializer.Serialize(b.StateDict()), Is.EqualTo(JsonSerializer.Serialize(a.StateDict())));

        // A plain Adam's state dict: the inner state loads, the slow weights stay.
        var pc = Params(); var plain = new Adam(pc, 0.01);
        Run(plain, pc, 0, 3);
        var c = Make(pc.Select(p => p.Detach().Clone()).ToList());
        c.LoadStateDict(plain.StateDict());
        Assert.That(c.StateOf(c.ParamGroups[0].Params[0])!.Step, Is.EqualTo(3));
    }

    [TestCase(false), TestCase(true)]
    public void StepAllocatesNothing(bool f64)
    {
        var rng = new Rng(3);
        var ps = new[] { Tensor.Randn([33, 17], rng), Tensor.Randn([5], rng) }.Select(t => f64 ? t.To(DType.Float64) : t).ToList();
        foreach (var p in ps) p.Grad = Tensor.Randn(p.Shape.ToArray(), rng).Mul(1e-2).To(p.DType);
        var opt = Optimizers.FromSpec("adam:lookahead_k=3", ps);
        for (int i = 0; i < 20; i++) opt.Step();
        long least = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++) opt.Step();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.That(least, Is.Zero, "bytes allocated by 50 steps");
    }
}
