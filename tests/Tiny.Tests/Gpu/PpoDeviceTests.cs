// PpoDeviceTests: PPO's networks and updates on ILGPU's CPU accelerator and on OpenCL (POCL in CI) match the CPU
// backend; --device in the CLI;
// Device.Resolve's errors for GPUs that are not there.
using NUnit.Framework;
using Tiny.Cli;
using Tiny.Gpu;
using Tiny.Rl;

namespace Tiny.Tests.Gpu;

public sealed class PpoDeviceTests
{
    private static bool NoCuda => IlgpuDevices.ListDevices().All(d => d.Kind != DeviceKind.Cuda);

    /// <summary>Three PPO updates (4 minibatch steps each, grad clipping on) on CartPole: the device run's parameters
    /// stay within float32 rounding of the CPU run's, with the same rollouts.</summary>
    [TestCase("adam:eps=1e-5", "ilgpu-cpu")]
    [TestCase("alphagrad:alpha=2,momentum=0.9", "ilgpu-cpu")]
    [TestCase("adam:eps=1e-5", "opencl")]
    [TestCase("alphagrad:alpha=2,momentum=0.9", "opencl")]
    public void PpoUpdatesOnADeviceMatchTheCpu(string optimizer, string device)
    {
        var d = Device.Parse(device);
        if (d.Kind == DeviceKind.OpenCL) OpenCLDevice.Require();
        var options = new PpoOptions { Seed = 3, NumEnvs = 4, NumSteps = 32, TotalTimesteps = 3 * 128, UpdateEpochs = 2, NumMinibatches = 2 };
        (float[] Params, List<double> Returns) Run(Device d)
        {
            var ppo = new Ppo("CartPole-v1", options, OptimizerSpec.Parse(optimizer)).To(d);
            var returns = new List<double>();
            ppo.Train(p => { if (p.EpisodicReturn is double r) returns.Add(r); });
            Assert.That(ppo.Network.Parameters().All(p => p.Device == d));
            return (ppo.Network.Parameters().SelectMany(t => t.ToArray()).ToArray(), returns);
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(d);
        Assert.That(dev.Returns, Is.EqualTo(cpu.Returns), "same rollouts: the sampled actions agree");
        double maxDiff = cpu.Params.Zip(dev.Params, (a, b) => Math.Abs((double)a - b)).Max();
        TestContext.Out.WriteLine($"ppo {optimizer}: max |param({device}) - param(cpu)| = {maxDiff:E2} over {cpu.Params.Length} params");
        Assert.That(maxDiff, Is.LessThan(1e-4));
        Assert.That(cpu.Params.Zip(dev.Params).Any(t => t.First != 0), "trained something");
    }

    [Test]
    public void ResolveParsesAndNamesWhatIsMissing()
    {
        Assert.That(Device.Resolve("cpu"), Is.EqualTo(Device.Cpu));
        Assert.That(Device.Resolve(" ILGPU-CPU "), Is.EqualTo(Device.IlgpuCpu));
        Assert.That(Device.Resolve("auto"), Is.EqualTo(Device.Best()));
        Assert.That(Assert.Throws<ArgumentException>(() => Device.Resolve("tpu"))!.Message, Does.Contain("unknown device 'tpu'").And.Contain("auto, cpu"));
        Assert.Throws<ArgumentException>(() => Device.Resolve("cuda:x"));
        var ex = Assert.Throws<InvalidOperationException>(() => Device.Resolve("opencl:99"));
        Assert.That(ex!.Message, Does.StartWith("no OpenCL device").And.Contain("ILGPU sees: "));
        if (NoCuda)
            Assert.That(Assert.Throws<InvalidOperationException>(() => Device.Resolve("cuda"))!.Message,
                Does.StartWith("no CUDA device found; ILGPU sees: 0 CUDA"));
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Tiny.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [TestCase("ilgpu-cpu")]
    [TestCase("opencl")]
    public void TrainAndEvalOnADevice(string device)
    {
        if (device == "opencl") OpenCLDevice.Require();
        string dir = Path.Combine(Path.GetTempPath(), "tiny-dev-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Cli("train", "ppo", "--env", "CartPole-v1", "--device", device, "--total-steps", "256",
                "--num-envs", "2", "--num-steps", "64", "--update-epochs", "1", "--out", dir);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(stdout, Does.Contain($"device {Device.Resolve(device)}"));
            Assert.That(File.Exists(Path.Combine(dir, "model.safetensors")));
            (code, stdout, err) = Cli("eval", dir, "--episodes", "2", "--device", device);
            Assert.That(code, Is.EqualTo(0), err);
            var (_, cpuOut, _) = Cli("eval", dir, "--episodes", "2");
            Assert.That(stdout, Is.EqualTo(cpuOut), "greedy episodes agree on both devices");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Test]
    public void MissingGpuOrBadDeviceIsOneLineExit2()
    {
        string missing = NoCuda ? "cuda" : "cuda:99";
        foreach (var (args, named) in new[]
        {
            (new[] { "train", "ppo", "--env", "CartPole-v1", "--device", missing }, NoCuda ? "no CUDA device found; ILGPU sees:" : "no CUDA device 99"),
            (new[] { "train", "dqn", "--env", "CartPole-v1", "--device", missing }, NoCuda ? "no CUDA device found; ILGPU sees:" : "no CUDA device 99"),
            (new[] { "train", "td3", "--env", "Pendulum-v1", "--device", "opencl:99" }, "no OpenCL device"),
            (new[] { "eval", "/nonexistent-dir-for-tiny", "--device", "tpu" }, "tiny eval: error"),
        })
        {
            var (code, stdout, err) = Cli(args);
            Assert.That(code, Is.EqualTo(2), string.Join(" ", args) + ": " + err);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
            Assert.That(err, Does.Contain(named));
            Assert.That(stdout, Is.Empty);
        }
    }
}
