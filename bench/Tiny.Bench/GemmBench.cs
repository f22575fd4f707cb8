// GemmBench: measures the machine's FP32 FMA peak and Tiny's Sgemm GFLOP/s, one JSON line per figure.
using System.Diagnostics;
using System.Globalization;
using Tiny.Cpu;

namespace Tiny.Bench;

/// <summary>
/// `gemm [peak|sizes|rl|all] [reps]`: FMA peak per core (1 and 2 threads), Sgemm on squares (`sizes`) and on every
/// GEMM the RL agents run (`rl`), on 1 and 2 threads. Peer: bench/peers/gemm.py (the same shapes, order and timing).
/// </summary>
public static class GemmBench
{
    /// <summary>One product C[m,n] = op(A)[m,k] op(B)[k,n]; name: agent.layer.pass (fwd, dw, dx) or m x k x n.</summary>
    private readonly record struct Shape(string Name, int M, int K, int N, bool TA = false, bool TB = false);

    // Squares and two small shapes (untransposed).
    private static readonly Shape[] Squares =
        [new("sq64", 64, 64, 64), new("sq128", 128, 128, 128), new("sq256", 256, 256, 256), new("sq512", 512, 512, 512),
         new("sq1024", 1024, 1024, 1024), new("64x4x64", 64, 4, 64), new("128x120x84", 128, 120, 84)];

    /// <summary>
    /// The GEMMs of the agents' training steps, as the CPU backend issues them for y = Linear(x [b,in], W [out,in]):
    /// forward X W^T (m b, k in, n out, transB), weight grad dY^T X (m out, k b, n in, transA), input grad dY W
    /// (m b, k out, n in) where the input needs one. Conv2d (CpuConv, patches unfolded transposed, colT [C*9, N*64]):
    /// forward W colT (m Co, k C*9, n N*64), weight grad gT colT^T (m Co, k N*64, n C*9, transB).
    /// </summary>
    private static readonly Shape[] Rl = BuildRl();

    private static Shape[] BuildRl()
    {
        var s = new List<Shape>();
        void Layer(string net, string layer, int b, int inF, int outF, bool dx)
        {
            s.Add(new($"{net}.{layer}.fwd", b, inF, outF, TB: true));
            s.Add(new($"{net}.{layer}.dw", outF, b, inF, TA: true));
            if (dx) s.Add(new($"{net}.{layer}.dx", b, outF, inF));
        }
        // DQN CartPole 4-120-84-2, batch 128.
        Layer("dqn_b128", "l1", 128, 4, 120, false); Layer("dqn_b128", "l2", 128, 120, 84, true); Layer("dqn_b128", "l3", 128, 84, 2, true);
        // TD3 Pendulum, batch 256: critic 4-400-300-1 (the actor step needs dQ/daction: l1's input grad), actor 3-400-300-1.
        Layer("td3c_b256", "l1", 256, 4, 400, true); Layer("td3c_b256", "l2", 256, 400, 300, true); Layer("td3c_b256", "l3", 256, 300, 1, true);
        Layer("td3a_b256", "l1", 256, 3, 400, false);
        // PPO CartPole 4-64-64-2 Tanh (critic head 64-1 is the same shape class), minibatch 128 and the full 512 rollout.
        foreach (int b in new[] { 128, 512 })
        {
            Layer($"ppo_b{b}", "l1", b, 4, 64, false); Layer($"ppo_b{b}", "l2", b, 64, 64, true); Layer($"ppo_b{b}", "l3", b, 64, 2, true);
        }
        // MinAtar CNN (4x10x10 -> Conv 4->16 3x3 -> 1024 -> 128 -> 3), batch 32.
        s.Add(new("minatar_b32.conv.fwd", 16, 36, 32 * 64));
        s.Add(new("minatar_b32.conv.dw", 16, 32 * 64, 36, TB: true));
        Layer("minatar_b32", "fc1", 32, 1024, 128, true); Layer("minatar_b32", "fc2", 32, 128, 3, true);
        return [.. s];
    }

    public static void Run(string[] args)
    {
        string what = args.Length > 1 ? args[1] : "all";
        int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
        if (what == "shape")
        {
            // gemm shape m k n transA transB threads: one figure, for experiments.
            int I(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
            Sgemm(new("shape", I(2), I(3), I(4), args[5] == "1", args[6] == "1"), I(7), 7);
            return;
        }
        if (what is "all" or "peak")
            foreach (int t in new[] { 1, 2 }) Peak(t, reps);
        if (what is "all" or "sizes")
            foreach (var s in Squares)
                foreach (int t in new[] { 1, 2 }) Sgemm(s, t, reps);
        if (what is "all" or "rl")
            foreach (var s in Rl)
                foreach (int t in new[] { 1, 2 }) Sgemm(s, t, reps);
    }

    /// <summary>The FMA peak on `threads` threads (Harness.Peak, 20M iterations per run).</summary>
    private static void Peak(int threads, int reps)
    {
        var (best, median) = Harness.Peak(threads, reps, 20_000_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"fma_peak\",\"isa\":\"{(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")}\",\"threads\":{threads},\"gflops_best\":{F(best)},\"gflops_median\":{F(median)}}}"));
    }

    /// <summary>Warms up by time (Harness.Warm), then `reps` passes of ~25 ms each (calls per pass from the warm-up's
    /// time per call); reports best and median GFLOP/s over the passes.</summary>
    private static void Sgemm(Shape s, int threads, int reps)
    {
        var (m, k, n, ta, tb) = (s.M, s.K, s.N, s.TA, s.TB);
        var rng = new Rng(1);
        var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextSingle() - 0.5f;
        int lda = ta ? m : k, ldb = tb ? k : n;
        Gemm.MaxThreads = threads;
        double flops = 2.0 * m * n * k;
        var (_, lastUs) = Harness.Warm(() => Gemm.Sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, n, false));   // until tiered code runs
        int batch = (int)Math.Clamp(25_000 / lastUs, 1, 1_000_000);
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        Gemm.Sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        var samples = new List<double>();
        double cpuBest = 0;
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            double cpu0 = ThreadCpuSeconds();
            for (int i = 0; i < batch; i++) Gemm.Sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, n, false);
            double cpu = ThreadCpuSeconds() - cpu0;
            samples.Add(flops * batch / sw.Elapsed.TotalSeconds / 1e9);
            cpuBest = Math.Max(cpuBest, flops * batch / cpu / 1e9);
        }
        Gemm.MaxThreads = Environment.ProcessorCount;
        // One thread: GFLOP/s per second of this thread's CPU time too, which time slices lost to other jobs on a
        // shared machine do not count in (not printed for two threads: the helper's time is not in it).
        string cpuField = threads == 1 ? $",\"cpu_gflops_best\":{F(cpuBest)}" : "";
        Print($"{{\"bench\":\"gemm\",\"impl\":\"tiny\",\"name\":\"{s.Name}\",\"m\":{m},\"n\":{n},\"k\":{k},\"threads\":{threads},\"transA\":{(ta ? "true" : "false")},\"transB\":{(tb ? "true" : "false")}", samples,
            $"{cpuField},\"us_best\":{F(flops / samples.Max() / 1e3)},\"alloc_bytes_per_call\":{alloc}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID, as Python's time.thread_time), in seconds.</summary>
    private static unsafe double ThreadCpuSeconds()
    {
        long* ts = stackalloc long[2];
        return ClockGetTime(3, ts) == 0 ? ts[0] + ts[1] * 1e-9 : double.NaN;
    }

    private static void Print(string head, List<double> gflops, string? tail)
    {
        gflops.Sort();
        double median = gflops[gflops.Count / 2];
        Console.WriteLine($"{head},\"gflops_best\":{F(gflops[^1])},\"gflops_median\":{F(median)}{tail}}}");
    }

    private static string F(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);
}
