// InternalsRecorder on a device (ILGPU's CPU accelerator; OpenCL where there is a device: POCL in CI) against the CPU,
// every optimizer that declares internals of its own: off the CPU the metrics come from device reductions and samples
// gathered there, the same rows within float rounding.
using NUnit.Framework;
using Tiny.Optim;
using Tiny.Tests.Gpu;

namespace Tiny.Tests.Optim;

[TestFixture("ilgpu-cpu")]
[TestFixture("opencl")]
public sealed class InternalsDeviceTests(string device) : DeviceFixture(device)
{
    [TestCase("adam:lr=0.01"), TestCase("alphagrad:lr=0.01,alpha=4,momentum=0.9"), TestCase("adabound:lr=0.01,gamma=0.05"), TestCase("lion:lr=0.001,weight_decay=0.1")]
    [TestCase("nadam:lr=0.01"), TestCase("radam:lr=0.01"), TestCase("adamax:lr=0.01"), TestCase("adabelief:lr=0.01,rectify=false,amsgrad=true")]
    [TestCase("laprop:lr=0.01,centered=true"), TestCase("adopt:lr=0.01"), TestCase("ademamix:lr=0.01,alpha_warmup=4,beta3_warmup=4")]
    [TestCase("grams:lr=0.01"), TestCase("cadamw:lr=0.01"), TestCase("adan:lr=0.01,max_grad_norm=1")]
    [TestCase("rmsprop:lr=0.01,centered=true,momentum=0.9"), TestCase("adagrad:lr=0.1,lr_decay=0.1"), TestCase("adadelta:weight_decay=0.1")]
    [TestCase("asgd:lr=0.01,t0=1"), TestCase("rprop:lr=0.01,step_size_min=0.005,step_size_max=0.012")]
    [TestCase("schedulefree-adamw:lr=0.01,warmup_steps=3"), TestCase("schedulefree-sgd:lr=0.1")]
    public void TheDevicesRowsAreTheCpus(string spec)
    {
        List<InternalsRow> Run(Device d)
        {
            var rng = new Rng(30);
            var ps = new[] { new[] { 40, 60 }, new[] { 60 } }.Select(s => Tensor.Randn(s, rng).To(d)).ToList();   // 2400 elements: sampled
            var opt = Optimizers.FromSpec(spec, ps);
            using var rec = new InternalsRecorder(opt, every: 2);
            var g = new Rng(31);
            for (int k = 0; k < 5; k++)
            {
                foreach (var p in ps) p.Grad = Tensor.Randn(p.Shape.ToArray(), g).Mul(k % 2 == 0 ? 1e-3 : 1).To(d);
                opt.Step();
            }
            return rec.Rows;
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(Dev);
        Assert.That(dev.Select(r => (r.Step, r.Tensor, r.Metric)), Is.EqualTo(cpu.Select(r => (r.Step, r.Tensor, r.Metric))));
        for (int i = 0; i < cpu.Count; i++)
        {
            var (c, v) = (cpu[i].Value, dev[i].Value);
            if (double.IsNaN(c)) Assert.That(v, Is.NaN, cpu[i].ToString());
            else Assert.That(v, Is.EqualTo(c).Within(1e-5 * Math.Max(1, Math.Abs(c))), cpu[i].ToString());
        }
    }
}
