// ConvBench: forward + backward (MSE to a fixed target, no update) of the Nature-DQN conv stack on [32, 4, 84, 84]
// and of MinAtar's Q-network on [32, 4, 10, 10], in microseconds per step. Peer: bench/peers/conv.py.
using System.Diagnostics;
using System.Text.Json;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Bench;

public static class ConvBench
{
    /// <summary>args: conv [--threads N] [--passes P]</summary>
    public static void Run(string[] args)
    {
        int passes = 5, threads = 1;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--threads") threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--passes") passes = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
        }
        Tiny.Cpu.Gemm.MaxThreads = threads;
        var rng = new Rng(0);
        // Nature DQN: 4->32 8x8 s4, 32->64 4x4 s2, 64->64 3x3 s1, ReLU after each.
        var nature = new Sequential(
            new Conv2d(4, 32, 8, rng, stride: 4), new ReLU(),
            new Conv2d(32, 64, 4, rng, stride: 2), new ReLU(),
            new Conv2d(64, 64, 3, rng, stride: 1), new ReLU());
        var minatar = QNetworks.Create("cnn", new Box(0f, 1f, 4, 10, 10), 3, [128], rng);
        Measure("nature-conv", nature, Tensor.Randn([32, 4, 84, 84], rng), [32, 64, 7, 7], 20, passes, threads, rng);
        // The same three layers' GEMMs alone (im2col matrices given): the gap to nature-conv is the cost of im2col,
        // col2im, the NCHW permutes and ReLU.
        Measure("nature-conv-gemm-only", new GemmOnly(rng), Tensor.Zeros(32, 1), [1], 20, passes, threads, rng);
        Measure("minatar-q", minatar, Tensor.Randn([32, 400], rng), [32, 3], 500, passes, threads, rng);
    }

    /// <summary>Linear(cols, W, b) for the Nature stack's three im2col shapes; output: the summed squares [1].</summary>
    private sealed class GemmOnly : Module
    {
        private readonly (Tensor Cols, Tensor W, Tensor B)[] _layers;

        public GemmOnly(Rng rng)
        {
            (int Rows, int K, int N)[] shapes = [(20 * 20, 4 * 8 * 8, 32), (9 * 9, 32 * 4 * 4, 64), (7 * 7, 64 * 3 * 3, 64)];
            // Layers 2 and 3 also need the gradient of their input (a parameter here); layer 1's input is the data.
            _layers = shapes.Select((s, i) => (i == 0 ? Tensor.Randn([32, s.Rows, s.K], rng) : RegisterParameter($"cols{i}", Tensor.Randn([32, s.Rows, s.K], rng)),
                RegisterParameter($"w{i}", Tensor.Randn([s.N, s.K], rng)), RegisterParameter($"b{i}", Tensor.Zeros(s.N)))).ToArray();
        }

        public override Tensor Forward(Tensor x)
        {
            Tensor? total = null;
            foreach (var (cols, w, b) in _layers)
            {
                var sq = Tensor.Linear(cols, w, b).Square().Sum().Reshape(1);
                total = total is null ? sq : total + sq;
            }
            return total!;
        }
    }

    private static void Measure(string name, Module net, Tensor x, int[] outShape, int reps, int passes, int threads, Rng rng)
    {
        var ps = net.Parameters().ToArray();
        var y = Tensor.Randn(outShape, rng);
        void Step()
        {
            foreach (var p in ps) p.Grad = null;
            F.MseLoss(net.Forward(x), y).Backward();
        }
        Harness.Warm(Step);   // by time, until tiered JIT code runs (and im2col caches are filled)
        var per = new List<double>();
        for (int p = 0; p < passes; p++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) Step();
            per.Add(sw.Elapsed.TotalMicroseconds / reps);
        }
        per.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "conv", peer = "tiny", threads, net = name, batch = x.Shape[0],
            us_best = Math.Round(per[0], 1), us_median = Math.Round(per[per.Count / 2], 1), reps, passes,
        }));
    }
}
