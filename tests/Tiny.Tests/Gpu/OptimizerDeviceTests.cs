// OptimizerDeviceTests: every optimizer's fused device kernel (on ILGPU's CPU accelerator, and on OpenCL where there is
// a device: POCL in CI) against the CPU optimizer over 20 steps, state dicts and device moves of optimizer state, and
// gradient clipping on a device.
using NUnit.Framework;
using Tiny.Optim;

namespace Tiny.Tests.Gpu;

[TestFixture("ilgpu-cpu")]
[TestFixture("opencl")]
public sealed class OptimizerDeviceTests(string device) : DeviceFixture(device)
{
    private static readonly int[][] Shapes = [[20, 15], [7]];   // 300 elements: more than one 256-chunk of the norm
    private const int Steps = 20;

    /// <summary>Every optimizer and variant the kernels implement.</summary>
    public static readonly (string Name, Func<IEnumerable<Tensor>, Optimizer> Make)[] Cases =
    [
        ("sgd", ps => new Sgd(ps, lr: 0.1)),
        ("sgd momentum dampening wd", ps => new Sgd(ps, lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)),
        ("sgd nesterov wd maximize", ps => new Sgd(ps, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, maximize: true)),
        ("adam", ps => new Adam(ps, lr: 0.01)),
        ("adam l2 amsgrad maximize", ps => new Adam(ps, lr: 0.01, weightDecay: 0.1, amsgrad: true, maximize: true)),
        ("adamw", ps => new AdamW(ps, lr: 0.01, weightDecay: 0.1)),
        ("adamw amsgrad", ps => new AdamW(ps, lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, amsgrad: true)),
        ("adabound", ps => new AdaBound(ps, lr: 0.01)),
        ("amsbound l2", ps => new AdaBound(ps, lr: 0.01, weightDecay: 0.01, amsbound: true, gamma: 0.1)),
        ("adaboundw", ps => new AdaBound(ps, lr: 0.01, weightDecay: 0.01, decoupled: true, finalLr: 0.05)),
        ("alphagrad", ps => new AlphaGrad(ps, lr: 0.01, alpha: 2)),
        ("alphagrad momentum nesterov wd", ps => new AlphaGrad(ps, lr: 0.01, alpha: 2, momentum: 0.9, nesterov: true, weightDecay: 0.01)),
        ("alphagrad momentum dampening maximize", ps => new AlphaGrad(ps, lr: 0.01, alpha: 0.5, momentum: 0.8, dampening: 0.3, maximize: true)),
    ];

    private static IEnumerable<TestCaseData> Table() =>
        from c in Cases from t in new[] { DType.Float32, DType.Float64 } select new TestCaseData(c.Name, t).SetName($"{c.Name} {t}");

    private static double[] Values(int n, int seed, double scale)
    {
        var r = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => r.Uniform(-scale, scale)).ToArray();
    }

    private static Tensor Make(double[] v, int[] shape, DType t, Device d) =>
        t == DType.Float32 ? Tensor.FromArray(v.Select(x => (float)x).ToArray(), shape, d) : Tensor.FromArray(v, shape, d);

    private static List<Tensor> Params(DType t, Device d) =>
        Shapes.Select((s, k) => Make(Values(s.Aggregate(1, (a, b) => a * b), 10 + k, 1), s, t, d)).ToList();

    /// <summary>Steps [from, to) of an optimizer with a fixed gradient sequence; the lr is halved at step 10 (AdaBound's bounds follow it).</summary>
    private static void Run(Optimizer opt, List<Tensor> ps, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            if (step == 10) opt.Lr *= 0.5;
            for (int k = 0; k < ps.Count; k++)
                ps[k].Grad = Make(Values(ps[k].Numel, 1000 * step + k, k == 0 ? 1 : 1e-3), ps[k].Shape.ToArray(), ps[k].DType, ps[k].Device);
            opt.Step();
        }
    }

    private static double Tol(DType t) => t == DType.Float32 ? 1e-5 : 1e-12;

    private static void Close(double[] expected, double[] actual, double tol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(Math.Abs(actual[i] - expected[i]), Is.LessThanOrEqualTo(tol * Math.Max(1, Math.Abs(expected[i]))),
                $"{what}[{i}]: device {actual[i]:R} vs cpu {expected[i]:R}");
    }

    private static void SameState(Optimizer cpu, Optimizer dev, List<Tensor> pc, List<Tensor> pd, double tol, string what)
    {
        for (int k = 0; k < pc.Count; k++) Close(pc[k].ToDoubleArray(), pd[k].ToDoubleArray(), tol, $"{what}: param {k}");
        var sc = cpu.StateDict(); var sd = dev.StateDict();
        Assert.That(sd.State.Select(e => (e.Param, e.Step, string.Join(",", e.Buffers.Keys.Order()))),
            Is.EqualTo(sc.State.Select(e => (e.Param, e.Step, string.Join(",", e.Buffers.Keys.Order())))), what + ": state layout");
        for (int j = 0; j < sc.State.Count; j++)
            foreach (var (name, buf) in sc.State[j].Buffers)
                Close(buf, sd.State[j].Buffers[name], tol, $"{what}: state {j} {name}");
    }

    /// <summary>Every optimizer setting of the PyTorch golden data (one per optimizer and options), in both dtypes: the
    /// registry builds it, so a new optimizer is covered on every device as soon as it has golden data.</summary>
    private static IEnumerable<TestCaseData> GoldenSettings() =>
        from name in Tiny.Tests.Optim.Golden.Settings2D() from t in new[] { DType.Float32, DType.Float64 }
        select new TestCaseData(name, t).SetName($"golden {name} {t}");

    [TestCaseSource(nameof(GoldenSettings))]
    public void GoldenSettingMatchesCpuOver20Steps(string golden, DType dtype)
    {
        var c = Tiny.Tests.Optim.Golden.Get(golden);
        Optimizer Make(List<Tensor> ps) => Optimizers.Create(c.Optimizer, ps, c.Options);
        var pc = Params(dtype, Device.Cpu); var pd = Params(dtype, Dev);
        var oc = Make(pc); var od = Make(pd);
        Run(oc, pc, 0, Steps);
        Run(od, pd, 0, Steps);
        Assert.That(pc.All(p => p.ToDoubleArray().All(double.IsFinite)), "the cpu run stayed finite (a meaningful comparison)");
        SameState(oc, od, pc, pd, Tol(dtype), golden);
        Assert.That(od.StateBytes, Is.EqualTo(oc.StateBytes));
    }

    [TestCaseSource(nameof(Table))]
    public void KernelMatchesCpuOptimizerOver20Steps(string name, DType dtype)
    {
        var make = Cases.Single(c => c.Name == name).Make;
        var pc = Params(dtype, Device.Cpu); var pd = Params(dtype, Dev);
        var oc = make(pc); var od = make(pd);
        Run(oc, pc, 0, Steps);
        Run(od, pd, 0, Steps);
        SameState(oc, od, pc, pd, Tol(dtype), name);
        foreach (var p in pd)
        {
            var s = od.StateOf(p)!;
            Assert.That(s.Buffers.Values.All(b => b.Device == Dev && b.DType == dtype && b.Numel == p.Numel), "state lives on the parameter's device");
        }
        Assert.That(od.StateBytes, Is.EqualTo(oc.StateBytes));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void StateDictRoundTripsOnTheDevice(DType dtype)
    {
        foreach (var name in new[] { "sgd nesterov wd maximize", "adam l2 amsgrad maximize", "amsbound l2", "alphagrad momentum nesterov wd" })
        {
            var make = Cases.Single(c => c.Name == name).Make;
            var pc = Params(dtype, Device.Cpu);
            var oc = make(pc);
            Run(oc, pc, 0, Steps);

            // 10 steps on the device, then a fresh optimizer over copies of the parameters resumes from the state dict.
            var pd = Params(dtype, Dev);
            var od = make(pd);
            Run(od, pd, 0, 10);
            var saved = od.StateDict();
            var pd2 = pd.Select(p => p.Detach().Clone()).ToList();
            var od2 = make(pd2);
            od2.LoadStateDict(saved);
            Assert.That(od2.StateOf(pd2[0])!.Buffers.Values.All(b => b.Device == Dev), name + ": loaded state on the device");
            // lr was not yet halved at step 10 in the saved groups: Run halves it at step 10 for both.
            Run(od2, pd2, 10, Steps);
            SameState(oc, od2, pc, pd2, Tol(dtype), name + " resumed");

            // A CPU state dict loads into a device optimizer too.
            var pc3 = Params(dtype, Device.Cpu); var oc3 = make(pc3);
            Run(oc3, pc3, 0, 10);
            var pd3 = pc3.Select(p => p.Detach().To(Dev)).ToList();
            var od3 = make(pd3);
            od3.LoadStateDict(oc3.StateDict());
            Run(od3, pd3, 10, Steps);
            SameState(oc, od3, pc, pd3, Tol(dtype), name + " cpu state on device");
        }
    }

    [Test]
    public void StateFollowsParametersMovedBetweenDevices()
    {
        var model = Tiny.Nn.Mlp.Create([3, 4, 2], () => new Tiny.Nn.Tanh(), new Rng(1)).To(DType.Float64);
        var reference = Tiny.Nn.Mlp.Create([3, 4, 2], () => new Tiny.Nn.Tanh(), new Rng(1)).To(DType.Float64);
        var opt = new Adam(model.Parameters(), lr: 0.01, amsgrad: true);
        var optRef = new Adam(reference.Parameters(), lr: 0.01, amsgrad: true);
        var x = Values(15, 3, 1); var y = Values(10, 4, 1);
        void Step(Tiny.Nn.Module m, Optimizer o)
        {
            var d = m.Parameters().First().Device;
            o.ZeroGrad();
            Tiny.Nn.F.MseLoss(m.Forward(Tensor.FromArray(x, [5, 3], d)), Tensor.FromArray(y, [5, 2], d)).Backward();
            o.Step();
        }
        for (int i = 0; i < 9; i++)
        {
            if (i == 3) model.To(Dev);          // cpu state -> device
            if (i == 6) model.To(Device.Cpu);   // device state -> cpu
            Step(model, opt);
            Step(reference, optRef);
        }
        var pm = model.Parameters().ToList(); var pr = reference.Parameters().ToList();
        for (int k = 0; k < pm.Count; k++) Close(pr[k].ToDoubleArray(), pm[k].ToDoubleArray(), 1e-12, $"param {k}");
        Assert.That(opt.StateOf(pm[0])!.Buffers.Values.All(b => b.Device == Device.Cpu), "state followed the parameters back to the cpu");
    }

    [TestCase(DType.Float32, 2.0)]
    [TestCase(DType.Float64, 2.0)]
    [TestCase(DType.Float32, double.PositiveInfinity)]
    [TestCase(DType.Float64, double.PositiveInfinity)]
    public void ClipGradNormOnTheDevice(DType dtype, double normType)
    {
        foreach (double maxNorm in new[] { 0.5, 1e6 })
        {
            var pc = Params(dtype, Device.Cpu); var pd = Params(dtype, Dev);
            for (int k = 0; k < pc.Count; k++)
            {
                var g = Values(pc[k].Numel, 77 + k, 1);
                pc[k].Grad = Make(g, pc[k].Shape.ToArray(), dtype, Device.Cpu);
                pd[k].Grad = Make(g, pd[k].Shape.ToArray(), dtype, Dev);
            }
            double tc = Clip.GradNorm(pc, maxNorm, normType);
            double td = Clip.GradNorm(pd, maxNorm, normType);
            Assert.That(td, Is.EqualTo(tc).Within(Tol(dtype) * tc), $"total norm, max {maxNorm}");
            for (int k = 0; k < pc.Count; k++)
            {
                Assert.That(pd[k].Grad!.Device, Is.EqualTo(Dev));
                Close(pc[k].Grad!.ToDoubleArray(), pd[k].Grad!.ToDoubleArray(), Tol(dtype), $"clipped grad {k}, max {maxNorm}");
            }
            Clip.GradValue(pc, 0.01); Clip.GradValue(pd, 0.01);
            for (int k = 0; k < pc.Count; k++) Close(pc[k].Grad!.ToDoubleArray(), pd[k].Grad!.ToDoubleArray(), Tol(dtype), $"value-clipped grad {k}");
        }
    }

    /// <summary>AlphaGrad's device norm sums its partials in a tree of in-order groups of 32: at 300,001 elements that
    /// is 1,172 partials, then 37, 2, 1 (three levels, a ragged last group in each). The step must match the CPU's.</summary>
    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void AlphaGradNormTreeOnALargeTensor(DType dtype)
    {
        int n = 300_001;
        var p0 = Values(n, 5, 1);
        var g0 = Values(n, 6, 1e-2);
        double[] Step(Device d)
        {
            var p = Make(p0, [n], dtype, d);
            p.Grad = Make(g0, [n], dtype, d);
            new AlphaGrad([p], lr: 0.1, alpha: 3).Step();
            return p.ToDoubleArray();
        }
        var cpu = Step(Device.Cpu);
        var dev = Step(Dev);
        double maxDiff = cpu.Zip(dev, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"alphagrad n={n} {dtype}: max |device - cpu| = {maxDiff:E2}");
        Assert.That(maxDiff, Is.LessThan(dtype == DType.Float32 ? 1e-6 : 1e-14));
        Assert.That(cpu.Zip(p0).Count(t => t.First != t.Second), Is.GreaterThan(n / 2), "the step moved the parameters");
    }

    [Test]
    public void FusedMapRejectsMismatchedBuffers()
    {
        foreach (var b in new[] { Dev.Backend, Device.Cpu.Backend })
        {
            var p = b.FromArray(new float[] { 1, 2 }); var g = b.FromArray(new float[] { 1, 1 });
            var map = new Adam.Map<float>();
            var ex = Assert.Throws<ArgumentException>(() => b.FusedMap<Adam.Map<float>, float>(map, p, b.FromArray(new float[] { 1 }), []));
            Assert.That(ex!.Message, Does.Contain("FusedMap(Map`1)").And.Contain("y has 1 elements, x has 2"), b.Name);
            ex = Assert.Throws<ArgumentException>(() => b.FusedMap<Adam.Map<float>, float>(map, p, g, [b.FromArray(new double[] { 0, 0 })]));
            Assert.That(ex!.Message, Does.Contain("state 0 is float64, the map runs on float32"), b.Name);
            ex = Assert.Throws<ArgumentException>(() => b.FusedMap<Adam.Map<double>, double>(new Adam.Map<double>(), p, g, []));
            Assert.That(ex!.Message, Does.Contain("x is float32, the map runs on float64"), b.Name);
        }
        var other = Device.Cpu.Backend.FromArray(new float[] { 1, 2 });
        var ex2 = Assert.Throws<ArgumentException>(() => Dev.Backend.FusedMap<Sgd.Map<float>, float>(new Sgd.Map<float>(), other, other, []));
        Assert.That(ex2!.Message, Does.Contain("storage lives on cpu"));
    }
}
