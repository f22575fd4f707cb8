// Schedule-free Train()/Eval() and Lookahead's synchronisation on a device (ILGPU's CPU accelerator; OpenCL where there
// is a device: POCL in CI) against the CPU: the switch and the slow-weight pass are fused maps of their own, run on the
// parameter's device; state and slow weights live there. (The steps of every golden setting are compared in
// Gpu/OptimizerDeviceTests.)
using NUnit.Framework;
using Tiny.Optim;
using Tiny.Tests.Gpu;

namespace Tiny.Tests.Optim;

[TestFixture("ilgpu-cpu")]
[TestFixture("opencl")]
public sealed class ScheduleFreeLookaheadDeviceTests(string device) : DeviceFixture(device)
{
    private static readonly string[] Specs =
    [
        "schedulefree-adamw:lr=0.01,warmup_steps=3,weight_decay=0.01",
        "schedulefree-adamw:lr=0.01,beta1=0.4,inner_momentum=0.9",
        "schedulefree-sgd:lr=0.05,momentum=0.3",
        "adam:lr=0.01,lookahead_k=3,lookahead_alpha=0.5",
        "schedulefree-sgd:lr=0.05,lookahead_k=4",
    ];

    private static IEnumerable<TestCaseData> Table() =>
        from s in Specs from t in new[] { DType.Float32, DType.Float64 } select new TestCaseData(s, t).SetName($"{s} {t}");

    private static Tensor Make(double[] v, int[] shape, DType t, Device d) =>
        t == DType.Float32 ? Tensor.FromArray(v.Select(x => (float)x).ToArray(), shape, d) : Tensor.FromArray(v, shape, d);

    private static double[] Values(int n, int seed, double scale)
    {
        var r = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => r.Uniform(-scale, scale)).ToArray();
    }

    private static readonly int[][] Shapes = [[20, 15], [7]];

    private static List<Tensor> Params(DType t, Device d) => Shapes.Select((s, k) => Make(Values(s[0] * (s.Length > 1 ? s[1] : 1), 10 + k, 1), s, t, d)).ToList();

    /// <summary>Steps, Eval, Train, steps again, Eval: the parameters after each phase and the state, device against CPU.</summary>
    [TestCaseSource(nameof(Table))]
    public void SwitchAndSynchronisationMatchTheCpu(string spec, DType dtype)
    {
        double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
        var pc = Params(dtype, Device.Cpu); var pd = Params(dtype, Dev);
        var oc = Optimizers.FromSpec(spec, pc); var od = Optimizers.FromSpec(spec, pd);
        void Steps(Optimizer o, List<Tensor> ps, int from, int to)
        {
            for (int s = from; s < to; s++)
            {
                for (int k = 0; k < ps.Count; k++)
                    ps[k].Grad = Make(Values(ps[k].Numel, 1000 * s + k, k == 0 ? 1 : 1e-3), ps[k].Shape.ToArray(), dtype, ps[k].Device);
                o.Step();
            }
        }
        void Same(string what)
        {
            for (int k = 0; k < pc.Count; k++)
            {
                var c = pc[k].ToDoubleArray(); var d = pd[k].ToDoubleArray();
                for (int i = 0; i < c.Length; i++)
                    Assert.That(Math.Abs(d[i] - c[i]), Is.LessThanOrEqualTo(tol * Math.Max(1, Math.Abs(c[i]))), $"{what}: param {k}[{i}] device {d[i]:R} cpu {c[i]:R}");
            }
        }
        Steps(oc, pc, 0, 10); Steps(od, pd, 0, 10); Same("10 steps");
        oc.Eval(); od.Eval(); Same("eval");
        oc.Train(); od.Train(); Same("train");
        Steps(oc, pc, 10, 17); Steps(od, pd, 10, 17);
        oc.Eval(); od.Eval(); Same("7 more steps, eval");
        Assert.That(od.StateBytes, Is.EqualTo(oc.StateBytes));
        var sd = od.StateDict();
        Assert.That(sd.State.Select(e => string.Join(",", e.Buffers.Keys.Order())), Is.EqualTo(oc.StateDict().State.Select(e => string.Join(",", e.Buffers.Keys.Order()))));
        foreach (var p in pd)
            if (od.StateOf(p) is { } s) Assert.That(s.Buffers.Values.All(b => b.Device == Dev), "state on the parameter's device");
        if (od is Lookahead lad && oc is Lookahead lac)
            for (int k = 0; k < pc.Count; k++)
            {
                var c = lac.SlowWeights(pc[k]).ToDoubleArray(); var d = lad.SlowWeights(pd[k]).ToDoubleArray();
                for (int i = 0; i < c.Length; i++) Assert.That(Math.Abs(d[i] - c[i]), Is.LessThanOrEqualTo(tol * Math.Max(1, Math.Abs(c[i]))), $"slow weights {k}[{i}]");
            }
    }
}
