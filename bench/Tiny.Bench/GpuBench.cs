// GpuBench: `gpu [--device D] [--smoke]`: SGEMM GFLOP/s (1024..8192), MLP train steps (batch 64..4096), a width sweep
// and whole PPO iterations (batch 512..4096) on the best GPU (or --device) against the CPU backend, one JSON line per
// figure. No GPU: a clear message and exit 2.
using System.Diagnostics;
using System.Text.Json;
using Tiny.Gpu;
using Tiny.Nn;

namespace Tiny.Bench;

public static class GpuBench
{
    // The RL net (gains nothing from a GPU) and a wide one (where a GPU should).
    private static readonly (string Name, int[] Sizes, Func<Module> Act)[] Nets =
    [
        ("4-64-64-2-tanh", [4, 64, 64, 2], () => new Tanh()),
        ("256-1024-1024-10-relu", [256, 1024, 1024, 10], () => new ReLU()),
    ];

    public static int Run(string[] args)
    {
        string deviceName = "auto";
        bool smoke = false;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--smoke") smoke = true;
            else if (args[i] == "--device" && i + 1 < args.Length) deviceName = args[++i];
            else { Console.Error.WriteLine($"gpu bench: unexpected argument '{args[i]}' (usage: gpu [--device D] [--smoke])"); return 2; }
        }
        Device device;
        try
        {
            device = Device.Resolve(deviceName);
            _ = device.Backend;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"gpu bench: --device {deviceName}: {e.Message.ReplaceLineEndings(" ")}");
            return 2;
        }
        if (device == Device.Cpu)
        {
            Console.Error.WriteLine($"gpu bench: no GPU ({IlgpuDevices.Found()}); nothing to measure. " +
                                    "`gpu --device ilgpu-cpu --smoke` runs the same code on ILGPU's CPU accelerator at tiny sizes.");
            return 2;
        }
        var gpus = IlgpuDevices.ListDevices();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "gpu_device", device = device.ToString(),
            name = gpus.FirstOrDefault(g => g.Kind == device.Kind && g.Index == device.Index)?.Name ?? "ILGPU CPU accelerator",
            cpu_threads = Environment.ProcessorCount, smoke,
        }));
        int[] sizes = smoke ? [32, 64] : [1024, 2048, 4096, 8192];
        int cpuMax = smoke ? 64 : 2048;   // the CPU takes seconds per 4096^3 product on this 2-core machine
        foreach (int n in sizes)
        {
            Gemm(device, n, smoke);
            if (n <= cpuMax) Gemm(Device.Cpu, n, smoke);
        }
        int[] batches = smoke ? [8, 16] : [64, 256, 1024, 4096];
        foreach (var (name, netSizes, act) in Nets)
        {
            if (smoke && name != Nets[0].Name) continue;
            foreach (int batch in batches)
                foreach (var d in new[] { device, Device.Cpu })
                    TrainStep(d, name, netSizes, act, batch, smoke);
        }
        // The width above which the GPU wins: 4-W-W-2 Tanh at batch 1024 (a PPO minibatch of a big rollout).
        foreach (int width in smoke ? new[] { 8, 16 } : [64, 128, 256, 512, 1024, 2048])
            foreach (var d in new[] { device, Device.Cpu })
                TrainStep(d, $"4-{width}-{width}-2-tanh", [4, width, width, 2], () => new Tanh(), smoke ? 16 : 1024, smoke, "gpu_width_step");
        // Whole PPO iterations at batch 512 (CleanRL's CartPole) and 2048+ (the issue's target: GPU no slower than CPU).
        foreach (var (envs, steps) in smoke ? new[] { (2, 16) } : new[] { (4, 128), (16, 128), (32, 128) })
            foreach (var d in new[] { device, Device.Cpu })
                PpoIteration(d, envs, steps, smoke);
        return 0;
    }

    /// <summary>Best and median of timed reps after one warm-up, until ~1 s (at least 3 reps).</summary>
    private static (double Best, double Median, int Reps) Time(Action work, bool smoke)
    {
        work();
        var s = new List<double>();
        var total = Stopwatch.StartNew();
        while (s.Count < 3 || (total.Elapsed.TotalSeconds < (smoke ? 0.05 : 1) && s.Count < 200))
        {
            var sw = Stopwatch.StartNew();
            work();
            s.Add(sw.Elapsed.TotalSeconds);
        }
        s.Sort();
        return (s[0], s[s.Count / 2], s.Count);
    }

    private static void Gemm(Device device, int n, bool smoke)
    {
        var b = device.Backend;
        var rng = new Rng(1);
        var x = b.Uniform(DType.Float32, n * n, -0.5, 0.5, rng);
        var y = b.Uniform(DType.Float32, n * n, -0.5, 0.5, rng);
        var (best, med, reps) = Time(() =>
        {
            var c = b.MatMul(x, y, 1, n, n, n, false, false, 0, 0);   // returns after the kernel finished
            (b as IlgpuBackend)?.Release(c);
        }, smoke);
        double flops = 2.0 * n * n * n;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "gpu_gemm", peer = "tiny", device = device.ToString(), n,
            gflops_best = Math.Round(flops / best / 1e9, 3), gflops_median = Math.Round(flops / med / 1e9, 3), reps,
        }));
        (b as IlgpuBackend)?.Release(x);
        (b as IlgpuBackend)?.Release(y);
    }

    private static void TrainStep(Device device, string name, int[] sizes, Func<Module> act, int batch, bool smoke, string bench = "gpu_train_step")
    {
        var rng = new Rng(0);
        var net = Mlp.Create(sizes, act, rng);
        net.To(device);
        var x = Tensor.Randn([batch, sizes[0]], rng).To(device);
        var y = Tensor.Randn([batch, sizes[^1]], rng).To(device);
        var adam = new Tiny.Optim.Adam(net.Parameters(), lr: 1e-3);
        var ilgpu = device.Backend as IlgpuBackend;
        var (best, med, reps) = Time(() =>
        {
            using (Tensor.Scope())   // as the agents run: buffers pooled, launches queued without waiting
            {
                adam.ZeroGrad();
                F.MseLoss(net.Forward(x), y).Backward();
                adam.Step();
            }
            ilgpu?.Synchronize();   // the step is timed to its last kernel
        }, smoke);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench, peer = "tiny", device = device.ToString(), net = name, batch, update = "adam",
            us_best = Math.Round(best * 1e6, 1), us_median = Math.Round(med * 1e6, 1), reps,
        }));
    }

    /// <summary>PPO on CartPole with a 64-64 net (CleanRL's), batch = envs x steps, 4 minibatches, 4 epochs: wall time
    /// per iteration (rollout on the host envs + GAE + update) on the device and on the CPU, after one warm-up iteration.</summary>
    private static void PpoIteration(Device device, int numEnvs, int numSteps, bool smoke)
    {
        int iterations = smoke ? 2 : 4;
        var options = new Tiny.Rl.PpoOptions
        {
            Seed = 1, NumEnvs = numEnvs, NumSteps = numSteps, NumMinibatches = 4, UpdateEpochs = smoke ? 1 : 4,
            TotalTimesteps = (long)(iterations + 1) * numEnvs * numSteps,
        };
        var ppo = new Tiny.Rl.Ppo("CartPole-v1", options, Tiny.Rl.OptimizerSpec.Parse("adam:eps=1e-5")).To(device);
        var marks = new List<double>();
        var clock = Stopwatch.StartNew();
        ppo.Train(p => { if (p.EpisodicReturn is null) marks.Add(clock.Elapsed.TotalSeconds); });   // once per iteration
        var per = marks.Zip(marks.Skip(1), (a, b) => b - a).Order().ToList();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "gpu_ppo_iteration", peer = "tiny", device = device.ToString(), env = "CartPole-v1", net = "64-64-tanh",
            batch = numEnvs * numSteps, minibatch = numEnvs * numSteps / 4, epochs = options.UpdateEpochs,
            ms_best = Math.Round(per[0] * 1e3, 2), ms_median = Math.Round(per[per.Count / 2] * 1e3, 2), iterations = per.Count,
        }));
    }
}
