// TrainStepBench: one MLP training step (zero grad, forward, MSE, backward, inline SGD or Adam) in microseconds and
// bytes allocated, without and with a Tensor.Scope around the step. Gradients are zeroed in place (zero_grad with
// set_to_none = False), so a scoped step reuses them and allocates only small objects.
using System.Diagnostics;
using System.Text.Json;
using Tiny.Nn;

namespace Tiny.Bench;

public static class TrainStepBench
{
    private static readonly (string Name, int[] Sizes, Func<Module> Act, int Batch)[] Work =
    [
        ("4-64-64-2-tanh", [4, 64, 64, 2], () => new Tanh(), 64),
        ("4-256-256-1-relu", [4, 256, 256, 1], () => new ReLU(), 256),
        ("4-120-84-2-relu", [4, 120, 84, 2], () => new ReLU(), 128),
    ];

    /// <summary>args: train [--batches] [--threads N] [--passes P]</summary>
    public static void Run(string[] args)
    {
        int passes = 5;
        int threads = 1;
        var work = Work.ToList();
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--batches") work.AddRange(new[] { 128, 256, 512, 1024, 2048, 4096 }.Select(b => ("4-64-64-2-tanh", new[] { 4, 64, 64, 2 }, (Func<Module>)(() => new Tanh()), b)));
            else if (args[i] == "--threads") threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--passes") passes = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
        }
        Tiny.Cpu.Gemm.MaxThreads = threads;
        foreach (var (name, sizes, act, batch) in work)
        foreach (var update in new[] { "sgd", "adam" })
        foreach (var scope in new[] { false, true })
        {
            var rng = new Rng(0);
            var net = Mlp.Create(sizes, act, rng);
            var ps = net.Parameters().ToArray();
            var x = Tensor.Randn([batch, sizes[0]], rng);
            var y = Tensor.Randn([batch, sizes[^1]], rng);
            const double lr = 1e-3;
            var adam = new Tiny.Optim.Adam(ps, lr: lr);
            void Step()
            {
                using var memory = scope ? Tensor.Scope() : default;
                if (update == "sgd") foreach (var p in ps) p.Grad?.ZeroInPlace();
                else adam.ZeroGrad();
                var loss = F.MseLoss(net.Forward(x), y);
                loss.Backward();
                if (update == "sgd") { using (Tensor.NoGrad()) foreach (var p in ps) p.AddInPlace(p.Grad!, -lr); }
                else adam.Step();
            }
            int scale = Math.Max(1, batch * sizes.Max() / (64 * 64));
            int reps = Math.Max(5, 2000 / scale);
            Harness.Warm(Step);   // by time, until tiered JIT code runs
            var per = new List<double>();
            long bytes = 0;
            for (int p = 0; p < passes; p++)
            {
                long b0 = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) Step();
                per.Add(sw.Elapsed.TotalMicroseconds / reps);
                bytes = (GC.GetAllocatedBytesForCurrentThread() - b0) / reps;
            }
            per.Sort();
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "train_step", peer = "tiny", threads, net = name, batch, update, scope,
                us_best = Math.Round(per[0], 2), us_median = Math.Round(per[per.Count / 2], 2), bytes_per_step = bytes, reps, passes,
            }));
        }
    }
}
