// OffPolicyDeviceTests: DQN's and TD3's networks, target networks and updates on ILGPU's CPU accelerator and on OpenCL
// (POCL in CI) match the CPU backend (envs and replay buffer stay on the CPU); --device for dqn and td3 in the CLI.
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Gpu;

public sealed class OffPolicyDeviceTests
{
    private static double MaxDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    private static float[] Flat(IEnumerable<Module> modules) => modules.SelectMany(m => m.Parameters()).SelectMany(t => t.ToArray()).ToArray();

    /// <summary>A few hundred CartPole steps with ~60 gradient steps and 12 target updates: the device run takes the
    /// same actions (same episodes) and ends with the same Q-network and target, within float32 rounding.</summary>
    [TestCase(1.0, "ilgpu-cpu")]
    [TestCase(0.5, "ilgpu-cpu")]
    [TestCase(0.5, "opencl")]
    public void DqnOnADeviceMatchesTheCpu(double tau, string device)
    {
        var d = Device.Parse(device);
        if (d.Kind == DeviceKind.OpenCL) OpenCLDevice.Require();
        var options = new DqnOptions
        {
            Seed = 5, TotalTimesteps = 300, LearningStarts = 50, TrainFrequency = 4, TargetNetworkFrequency = 20, BatchSize = 16,
            BufferSize = 1000, HiddenSizes = [16, 16], ExplorationFraction = 0.3, LearningRate = 1e-3, Tau = tau,
        };
        var probes = new[] { new float[] { 0.01f, -0.02f, 0.03f, 0.04f }, new float[] { -0.1f, 0.2f, -0.05f, -0.3f } };
        (float[] Params, List<(double, int)> Episodes, float[] Acts) Run(Device d)
        {
            var dqn = new Dqn("CartPole-v1", options).To(d);
            var episodes = new List<(double, int)>();
            dqn.Train(p => { if (p.EpisodicReturn is double r) episodes.Add((r, p.EpisodeLength ?? -1)); });
            Assert.That(dqn.QNetwork.Parameters().Concat(dqn.TargetNetwork.Parameters()).All(p => p.Device == d));
            return (Flat([dqn.QNetwork, dqn.TargetNetwork]), episodes, probes.SelectMany(o => dqn.Act(o)).ToArray());
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(d);
        Assert.That(cpu.Episodes, Has.Count.GreaterThan(3));
        Assert.That(dev.Episodes, Is.EqualTo(cpu.Episodes), "same actions: the episodes agree");
        Assert.That(dev.Acts, Is.EqualTo(cpu.Acts));
        double maxDiff = MaxDiff(cpu.Params, dev.Params);
        TestContext.Out.WriteLine($"dqn tau={tau}: max |param({device}) - param(cpu)| = {maxDiff:E2} over {cpu.Params.Length} params");
        Assert.That(maxDiff, Is.LessThan(1e-5));
    }

    /// <summary>Pendulum: 200 random steps then 30 critic updates, 15 actor updates and soft target updates; the device
    /// run's six networks stay within float32 rounding of the CPU run's and act alike.</summary>
    [TestCase("ilgpu-cpu")]
    [TestCase("opencl")]
    public void Td3OnADeviceMatchesTheCpu(string device)
    {
        var d = Device.Parse(device);
        if (d.Kind == DeviceKind.OpenCL) OpenCLDevice.Require();
        var options = new Td3Options
        {
            Seed = 7, TotalTimesteps = 230, LearningStarts = 200, BatchSize = 16, BufferSize = 1000, LearningRate = 1e-3,
            ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], Tau = 0.05,
        };
        var probe = new float[] { 0.5f, -0.8f, 0.3f };
        (float[] Params, List<double> Returns, float[] Act) Run(Device d)
        {
            var td3 = new Td3("Pendulum-v1", options).To(d);
            var returns = new List<double>();
            td3.Train(p => { if (p.EpisodicReturn is double r) returns.Add(r); });
            Assert.That(td3.Networks.SelectMany(m => m.Parameters()).All(p => p.Device == d));
            return (Flat(td3.Networks), returns, td3.Act(probe));
        }
        var cpu = Run(Device.Cpu);
        var dev = Run(d);
        Assert.That(cpu.Returns, Has.Count.EqualTo(1));
        Assert.That(dev.Returns, Has.Count.EqualTo(1));
        Assert.That(dev.Returns[0], Is.EqualTo(cpu.Returns[0]).Within(1e-3), "same episode");
        Assert.That(dev.Act[0], Is.EqualTo(cpu.Act[0]).Within(1e-4));
        double maxDiff = MaxDiff(cpu.Params, dev.Params);
        TestContext.Out.WriteLine($"td3: max |param({device}) - param(cpu)| = {maxDiff:E2} over {cpu.Params.Length} params");
        Assert.That(maxDiff, Is.LessThan(1e-5));
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = Tiny.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [TestCase("dqn", "CartPole-v1", "200", "50", "{\"hiddenSizes\": [16, 16]}")]
    [TestCase("td3", "Pendulum-v1", "230", "200", "{\"actorHiddenSizes\": [16, 16], \"criticHiddenSizes\": [16, 16]}")]
    public void TrainAndEvalOffPolicyOnIlgpuCpu(string algo, string env, string steps, string learningStarts, string json)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tiny-dev-{algo}-" + Guid.NewGuid().ToString("N"));
        string config = dir + ".json";
        try
        {
            File.WriteAllText(config, json);
            var (code, stdout, err) = Cli("train", algo, "--env", env, "--device", "ilgpu-cpu", "--total-steps", steps,
                "--learning-starts", learningStarts, "--batch-size", "16", "--config", config, "--out", dir);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(stdout, Does.Contain("device ilgpu-cpu"));
            Assert.That(File.Exists(Path.Combine(dir, "model.safetensors")));
            Assert.That(File.Exists(Path.Combine(dir, "config.json")));
            (code, stdout, err) = Cli("eval", dir, "--episodes", "2", "--device", "ilgpu-cpu");
            Assert.That(code, Is.EqualTo(0), err);
            var (_, cpuOut, _) = Cli("eval", dir, "--episodes", "2");
            Assert.That(stdout, Is.EqualTo(cpuOut), "greedy episodes agree on both devices");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            if (File.Exists(config)) File.Delete(config);
        }
    }
}
