// Optimizer bookkeeping: argument checks, param groups, state dict resume, state bytes, convergence.
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Optim;

public sealed class OptimApiTests
{
    private static Tensor P(params double[] v) { var p = Tensor.FromArray(v, v.Length); p.RequiresGrad = true; return p; }

    [Test]
    public void InvalidHyperparametersThrowWithTorchWording()
    {
        void Throws(TestDelegate f, string message, string param)
        {
            var e = Assert.Throws<ArgumentException>(f)!;
            Assert.That(e.Message, Does.StartWith(message));
            Assert.That(e.ParamName, Is.EqualTo(param));
        }
        var ps = new[] { P(1, 2) };
        Throws(() => new Sgd(ps, lr: -0.1), "Invalid learning rate: -0.1", "lr");
        Throws(() => new Sgd(ps, lr: 0.1, momentum: -1), "Invalid momentum value: -1.0", "momentum");
        Throws(() => new Sgd(ps, lr: 0.1, weightDecay: -1e-8), "Invalid weight_decay value: -1e-08", "weight_decay");
        Throws(() => new Sgd(ps, lr: 0.1, nesterov: true), "Nesterov momentum requires a momentum and zero dampening", "nesterov");
        Throws(() => new Sgd(ps, lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true), "Nesterov momentum requires", "nesterov");
        Throws(() => new Adam(ps, eps: -1), "Invalid epsilon value: -1.0", "eps");
        Throws(() => new Adam(ps, beta1: 1), "Invalid beta parameter at index 0: 1.0", "beta1");
        Throws(() => new AdamW(ps, beta2: -0.5), "Invalid beta parameter at index 1: -0.5", "beta2");
        Throws(() => new AdamW(ps, weightDecay: -1), "Invalid weight_decay value: -1.0", "weight_decay");
        Throws(() => new AdaBound(ps, finalLr: -1), "Invalid final learning rate: -1.0", "final_lr");
        Throws(() => new AdaBound(ps, gamma: 1), "Invalid gamma parameter: 1.0", "gamma");
        Throws(() => new AdaBound(ps, beta2: 1), "Invalid beta parameters: (0.9, 1.0)", "betas");
        Throws(() => new AlphaGrad(ps, alpha: 0), "Invalid alpha: 0.0", "alpha");
        Throws(() => new AlphaGrad(ps, eps: 0), "Invalid eps: 0.0", "eps");
        Throws(() => new AlphaGrad(ps, nesterov: true), "Nesterov momentum requires", "nesterov");
        Assert.Throws<ArgumentException>(() => { var o = new Adam(ps); o.ParamGroups[0].Lr = -1; });
    }

    [Test]
    public void ParamGroupsFillFromDefaultsAndRejectDuplicates()
    {
        var a = P(1, 2); var b = P(3);
        var opt = new Sgd([new(new[] { a }), new(new[] { b }, o => o with { Lr = 0.5, Momentum = 0.9 })], new SgdOptions(0.1) { WeightDecay = 1e-3 });
        var g1 = (SgdOptions)opt.ParamGroups[1].Options;
        Assert.That((opt.ParamGroups[0].Lr, g1.Lr, g1.Momentum, g1.WeightDecay), Is.EqualTo((0.1, 0.5, 0.9, 1e-3)));
        var e = Assert.Throws<ArgumentException>(() => new Adam([new(new[] { a }), new(new[] { b, a })], new AdamOptions()))!;
        Assert.That(e.Message, Does.Contain("more than one parameter group"));
    }

    [Test]
    public void StepSkipsParamsWithoutGradAndZeroGradZeroesInPlace()
    {
        var a = P(1, 2); var b = P(3);
        var opt = new Adam([a, b], lr: 0.1);
        a.Grad = Tensor.FromArray(new double[] { 1, 1 }, 2);
        opt.Step();
        Assert.That(b.At(0), Is.EqualTo(3));
        Assert.That(opt.StateOf(b), Is.Null);
        var g = a.Grad;
        opt.ZeroGrad();
        Assert.That(a.Grad, Is.SameAs(g));
        Assert.That(g.ToDoubleArray(), Is.EqualTo(new double[] { 0, 0 }));
    }

    /// <summary>A step allocates nothing on the CPU once the state exists, for every registered optimizer (the least
    /// of 5 rounds of 50 steps, so a JIT tier-up during one round cannot fail the test).</summary>
    [Test]
    public void StepAllocatesNothingOnTheCpu([ValueSource(typeof(RegistryTests), nameof(RegistryTests.Names))] string name, [Values] bool f64)
    {
        var rng = new Rng(3);
        var ps = new[] { Tensor.Randn([33, 17], rng), Tensor.Randn([5], rng) }.Select(t => f64 ? t.To(DType.Float64) : t).ToList();
        foreach (var p in ps) p.Grad = Tensor.Randn(p.Shape.ToArray(), rng).Mul(1e-2).To(p.DType);
        var opt = Optimizers.Create(name, ps, new Dictionary<string, string>());
        for (int i = 0; i < 20; i++) opt.Step();
        long least = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++) opt.Step();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.That(least, Is.Zero, $"{name}: bytes allocated by 50 steps");
    }

    [Test]
    public void StateBytesCountBuffers()
    {
        Optimizer[] Build(Tensor p) => [new Sgd([p], 0.1), new Sgd([p], 0.1, momentum: 0.9), new Adam([p]), new Adam([p], amsgrad: true),
                                         new AdaBound([p]), new AlphaGrad([p]), new AlphaGrad([p], momentum: 0.9)];
        var p32 = Tensor.Zeros(10); p32.Grad = Tensor.Ones(10);
        long[] bytes = Build(p32).Select(o => { o.Step(); return o.StateBytes; }).ToArray();
        Assert.That(bytes, Is.EqualTo(new long[] { 0, 40, 80, 120, 80, 0, 40 }));
    }

    [TestCase("sgd"), TestCase("sgd_m"), TestCase("adam"), TestCase("adamw_ams"), TestCase("adabound"), TestCase("amsboundw"), TestCase("alphagrad"), TestCase("alphagrad_m")]
    public void StateDictResumesBitIdentically(string which)
    {
        foreach (bool f32 in new[] { false, true })
        {
            var c = Golden.Get(f32 ? "mlp_adam_f32" : "mlp_adam");
            Optimizer Make(List<Tensor> ps) => which switch
            {
                "sgd" => new Sgd(ps, 0.1), "sgd_m" => new Sgd(ps, 0.05, momentum: 0.9, nesterov: true),
                "adam" => new Adam(ps, 0.01), "adamw_ams" => new AdamW(ps, 0.01, amsgrad: true),
                "adabound" => new AdaBound(ps, 0.01), "amsboundw" => new AdaBound(ps, 0.01, amsbound: true, decoupled: true, weightDecay: 1e-3),
                "alphagrad" => new AlphaGrad(ps, 0.01), _ => new AlphaGrad(ps, 0.005, alpha: 2, momentum: 0.9),
            };
            var x = c.MakeTensor(c.X); var y = c.MakeTensor(c.Y);
            void Run(List<Tensor> ps, Optimizer o, int n) { for (int k = 0; k < n; k++) { o.ZeroGrad(); Golden.MlpLoss(ps, x, y).Backward(); o.Step(); } }
            var a = c.MakeParams(); var oa = Make(a);
            Run(a, oa, 20);
            var b = c.MakeParams(); var ob = Make(b);
            Run(b, ob, 10);
            // Serialise through JSON to prove the snapshot is plain data; restore into a fresh optimizer over copies.
            var json = System.Text.Json.JsonSerializer.Serialize(ob.StateDict());
            var sd = System.Text.Json.JsonSerializer.Deserialize<OptimizerStateDict>(json)!;
            var b2 = b.Select(t => { var u = t.Detach().Clone(); u.Name = t.Name; u.RequiresGrad = true; return u; }).ToList();
            var ob2 = Make(b2);
            ob2.LoadStateDict(sd);
            Assert.That(ob2.StateBytes, Is.EqualTo(ob.StateBytes));
            Run(b2, ob2, 10);
            for (int i = 0; i < a.Count; i++) Assert.That(b2[i].ToDoubleArray(), Is.EqualTo(a[i].ToDoubleArray()), $"{which} f32={f32} {a[i].Name}");
        }
    }

    // Convergence: each optimizer with sensible settings reaches the minimum within a stated number of steps.
    [TestCase("sgd", "quadratic", 200, "lr=0.1")]
    [TestCase("sgd", "rosenbrock", 5000, "lr=0.001,momentum=0.9")]
    [TestCase("adam", "quadratic", 1000, "lr=0.05")]
    [TestCase("adam", "rosenbrock", 5000, "lr=0.02")]
    [TestCase("adamw", "quadratic", 1000, "lr=0.05,weight_decay=0")]
    [TestCase("adamw", "rosenbrock", 5000, "lr=0.02,weight_decay=0")]
    [TestCase("adabound", "quadratic", 1000, "lr=0.05,final_lr=0.05")]
    [TestCase("adabound", "rosenbrock", 10000, "lr=0.01,final_lr=0.0015")]
    [TestCase("alphagrad", "quadratic", 2000, "lr=0.01,alpha=1,momentum=0.9")]
    [TestCase("alphagrad", "rosenbrock", 5000, "lr=0.002,alpha=1,momentum=0.9")]
    public void ConvergesToTheMinimum(string opt, string fn, int steps, string options)
    {
        var p = P(fn == "rosenbrock" ? new[] { -1.2, 1.0 } : new[] { 3.0, -2.0 });
        var o = Optimizers.Create(opt, [p], options.Split(',').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]));
        for (int k = 0; k < steps; k++) { o.ZeroGrad(); Golden.Function2D(fn, p).Backward(); o.Step(); }
        double[] min = fn == "rosenbrock" ? [1, 1] : [0, 0];
        Assert.That(p.At(0), Is.EqualTo(min[0]).Within(1e-2), $"x after {steps} steps");
        Assert.That(p.At(1), Is.EqualTo(min[1]).Within(1e-2), $"y after {steps} steps");
    }

    // The vector loop must give the scalar loop's bits: one 1003-element tensor vs 1003 one-element tensors (scalar path).
    [TestCase("sgd", "lr=0.1,momentum=0.9,nesterov=true,weight_decay=0.01")]
    [TestCase("sgd", "lr=0.1,momentum=0.9,dampening=0.5,maximize=true")]
    [TestCase("adam", "lr=0.01,weight_decay=0.1,amsgrad=true,maximize=true")]
    [TestCase("adamw", "lr=0.01,amsgrad=true")]
    [TestCase("adabound", "lr=0.01,weight_decay=0.01,amsbound=true")]
    [TestCase("adabound", "lr=0.01,weight_decay=0.01,adaboundw=true")]
    public void VectorLoopMatchesScalarLoop(string name, string options)
    {
        foreach (bool f32 in new[] { false, true })
        {
            var opts = options.Split(',').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
            var rng = new Rng(7);
            const int n = 1003;
            var dtype = f32 ? DType.Float32 : DType.Float64;
            var big = Tensor.Randn([n], rng, dtype);
            var small = Enumerable.Range(0, n).Select(i => Tensor.Full([1], big.At(i), dtype)).ToList();
            var ob = Optimizers.Create(name, [big], opts);
            var os = Optimizers.Create(name, small, opts);
            for (int step = 0; step < 5; step++)
            {
                var g = Tensor.Randn([n], rng, dtype);
                big.Grad = g;
                for (int i = 0; i < n; i++) small[i].Grad = Tensor.Full([1], g.At(i), dtype);
                ob.Step(); os.Step();
            }
            for (int i = 0; i < n; i++) Assert.That(small[i].At(0), Is.EqualTo(big.At(i)), $"{name} f32={f32} element {i}");
        }
    }
}
