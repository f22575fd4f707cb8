// DeviceMemoryTests: Tensor.Scope on an ILGPU device. Scoped storages go back to the backend's buffer pool, so a
// training step allocates no device memory in steady state (cudaMalloc per op is what a GPU cannot afford); launch
// metadata is cached; results are bit-identical with and without scopes; released device tensors throw. On ILGPU's
// CPU accelerator (launches run synchronously) and on OpenCL (POCL in CI: a real driver with an asynchronous queue,
// so pooled buffers are reused while earlier kernels may still be queued, as on a GPU).
using NUnit.Framework;
using Tiny.Gpu;
using Tiny.Nn;
using Tiny.Optim;
using Tiny.Rl;

namespace Tiny.Tests.Gpu;

[TestFixture("ilgpu-cpu")]
[TestFixture("opencl")]
public sealed class DeviceMemoryTests(string device) : DeviceFixture(device)
{
    private IlgpuBackend Backend => (IlgpuBackend)Dev.Backend;

    /// <summary>An MLP classifier step with every kind of device op a policy update uses: matmul, broadcasting,
    /// tanh, log-softmax, gather (the taken action), a reduction, grad clipping (a device norm) and a fused optimizer.</summary>
    private (List<float[]> Params, List<float> Losses, long[] Allocs, long Ops, long Waits) Train(Device d, bool scoped, int steps, string optimizer)
    {
        var rng = new Rng(11);
        var net = Mlp.Create([4, 16, 16, 3], () => new Tanh(), rng);
        net.To(d);
        var opt = OptimizerSpec.Parse(optimizer).Create(net.Parameters());
        var x = Tensor.Randn([8, 4], rng).To(d);
        int[] actions = [0, 2, 1, 1, 0, 2, 2, 1];
        var losses = new List<float>();
        var allocs = new long[steps];
        long ops0 = 0, waits0 = 0;
        for (int s = 0; s < steps; s++)
        {
            if (s == steps - 1 && d != Device.Cpu) (ops0, waits0) = (Backend.Ops, Backend.Waits);
            using (scoped ? Tensor.Scope() : default)
            {
                opt.ZeroGrad();
                var logp = net.Forward(x).LogSoftmax(1).Gather(1, actions, 8, 1);
                var loss = -(logp.Mean());
                loss.Backward();
                Clip.GradNorm(net.Parameters(), 0.5);
                opt.Step();
                losses.Add((float)loss.Item());
            }
            allocs[s] = d == Device.Cpu ? 0 : Backend.DeviceAllocations;
        }
        long ops = d == Device.Cpu ? 0 : Backend.Ops - ops0, waits = d == Device.Cpu ? 0 : Backend.Waits - waits0;   // of the last step
        return (net.Parameters().Select(p => p.ToArray()).ToList(), losses, allocs, ops, waits);
    }

    [TestCase("adam:eps=1e-5")]
    [TestCase("alphagrad:alpha=2,momentum=0.9")]
    [TestCase("sgd:momentum=0.9,nesterov=true")]
    public void ScopedDeviceStepsAllocateNothingInSteadyStateAndAreBitIdentical(string optimizer)
    {
        var scoped = Train(Dev, scoped: true, steps: 8, optimizer);
        long steady = scoped.Allocs[^1] - scoped.Allocs[1];
        TestContext.Out.WriteLine($"{optimizer}: device allocations after each scoped step: {string.Join(", ", scoped.Allocs)}");
        Assert.That(steady, Is.EqualTo(0), "steps 3..8 inside a scope rent every buffer from the pool");
        TestContext.Out.WriteLine($"{optimizer}: one scoped step = {scoped.Ops} backend ops, {scoped.Waits} host waits");
        Assert.That(scoped.Waits, Is.EqualTo(2), "inside a scope the host waits only for the clip norms (one read for all) and loss.Item()");

        var unscoped = Train(Dev, scoped: false, steps: 8, optimizer);
        long perStep = (unscoped.Allocs[^1] - unscoped.Allocs[1]) / 6;
        TestContext.Out.WriteLine($"{optimizer}: without a scope, {perStep} device allocations per step");
        Assert.That(perStep, Is.GreaterThan(10), "without a scope every op's result is a fresh device buffer");
        Assert.That(unscoped.Waits, Is.GreaterThanOrEqualTo(unscoped.Ops), "without a scope every op waits for its kernel");

        Assert.That(scoped.Losses, Is.EqualTo(unscoped.Losses));
        for (int i = 0; i < scoped.Params.Count; i++) Assert.That(scoped.Params[i], Is.EqualTo(unscoped.Params[i]));
        var cpu = Train(Device.Cpu, scoped: true, steps: 8, optimizer);
        for (int i = 0; i < cpu.Params.Count; i++)
            Assert.That(scoped.Params[i], Is.EqualTo(cpu.Params[i]).Within(1e-4), "the device run follows the CPU run");
    }

    [Test]
    public void ReleasedDeviceTensorThrowsAndKeptOneSurvives()
    {
        Tensor released, kept;
        int pooledBefore;
        using (Tensor.Scope())
        {
            var a = Tensor.Ones([64], DType.Float32, Dev);
            released = a * 3;
            kept = (a * 5).Keep();
            pooledBefore = Backend.PooledBuffers;
        }
        Assert.That(released.IsReleased, Is.True);
        Assert.That(Assert.Throws<InvalidOperationException>(() => released.ToArray())!.Message, Does.Contain("released by a Tensor.Scope"));
        Assert.That(kept.IsReleased, Is.False);
        Assert.That(kept.ToArray(), Is.All.EqualTo(5f));
        Assert.That(Backend.PooledBuffers, Is.GreaterThanOrEqualTo(pooledBefore + 2), "the ones and a*3 went back to the pool");
        // The pool hands them out again: the next scope's same-sized results reuse them and read correctly.
        using (Tensor.Scope())
        {
            var b = Tensor.Full([64], 2, DType.Float32, Dev) + kept;
            Assert.That(b.ToArray(), Is.All.EqualTo(7f));
        }
    }

    [Test]
    public void PpoUpdatesOnADeviceStopAllocating()
    {
        var options = new PpoOptions { Seed = 4, NumEnvs = 2, NumSteps = 32, TotalTimesteps = 5 * 64, UpdateEpochs = 2, NumMinibatches = 2 };
        var ppo = new Ppo("CartPole-v1", options, OptimizerSpec.Parse("adam:eps=1e-5")).To(Dev);
        var perUpdate = new List<long>();
        var opsWaits = new List<(long Ops, long Waits)>();
        ppo.Train(p =>
        {
            if (p.EpisodicReturn is not null) return;   // once per update
            perUpdate.Add(Backend.DeviceAllocations);
            opsWaits.Add((Backend.Ops, Backend.Waits));
        });
        TestContext.Out.WriteLine($"device allocations after each PPO update: {string.Join(", ", perUpdate)}");
        var (ops, waits) = (opsWaits[^1].Ops - opsWaits[^2].Ops, opsWaits[^1].Waits - opsWaits[^2].Waits);
        TestContext.Out.WriteLine($"one PPO iteration (64 env steps, 4 minibatch steps): {ops} backend ops, {waits} host waits");
        Assert.That(waits, Is.LessThan(ops / 2), "most ops are queued without a wait");
        Assert.That(perUpdate, Has.Count.EqualTo(5));
        Assert.That(perUpdate[^1] - perUpdate[2], Is.EqualTo(0), "updates 4 and 5 (rollouts, GAE values, minibatch steps) allocate nothing");
    }

    [Test]
    public void TrimPoolFreesPooledBuffers()
    {
        using (Tensor.Scope()) _ = Tensor.Ones([1000], DType.Float32, Dev) * 2;
        Assert.That(Backend.PooledBuffers, Is.GreaterThan(0));
        Backend.TrimPool();
        Assert.That(Backend.PooledBuffers, Is.EqualTo(0));
        using (Tensor.Scope())
            Assert.That((Tensor.Ones([1000], DType.Float32, Dev) * 2).ToArray(), Is.All.EqualTo(2f), "works after a trim");
    }

    /// <summary>Out of device memory: the pool's free buffers are released and the allocation retried once; if it still
    /// fails, the error names the device, the size and what was tried. Simulated on a private CPU-accelerator backend.</summary>
    [Test]
    public void OutOfDeviceMemoryRetriesOnceThenNamesTheSize()
    {
        if (Dev.Kind != DeviceKind.IlgpuCpu) Assert.Ignore("simulated on a private CPU-accelerator backend; once is enough");
        using var backend = IlgpuDevices.CreateCpuBackend(ILGPU.Runtime.CPU.CPUDevice.Default, "ilgpu-cpu-oom");
        backend.Release(backend.Full(DType.Float32, 10, 1));   // one pooled buffer (of another size)
        int calls = 0;
        backend.Pool.AllocateHook = (t, n) => ++calls == 1 ? throw new OutOfMemoryException("device full") : null!;
        var s = backend.Full(DType.Float32, 100, 3);   // first try fails, the retry (the real allocation) succeeds
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(backend.PooledBuffers, Is.EqualTo(0), "the pool was emptied before the retry");
        Assert.That(backend.ToFloatArray(s), Is.All.EqualTo(3f));

        backend.Pool.AllocateHook = (t, n) => throw new OutOfMemoryException("device full");
        var e = Assert.Throws<InvalidOperationException>(() => backend.Full(DType.Float64, 1 << 20, 0));
        Assert.That(e!.Message, Does.StartWith("ilgpu-cpu-oom: cannot allocate 1048576 float64 elements (8.0 MiB) on the device")
            .And.Contain("device full").And.Contain("smaller batch"));
    }
}
