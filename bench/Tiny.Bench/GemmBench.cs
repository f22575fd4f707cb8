// GemmBench: measures the machine's FP32 FMA peak and Tiny's Sgemm GFLOP/s, one JSON line per figure.
using System.Diagnostics;
using System.Globalization;
using Tiny.Cpu;

namespace Tiny.Bench;

/// <summary>`gemm [peak|sizes] [reps]`: FMA peak per core (1 and 2 threads) and Sgemm on square and RL shapes.</summary>
public static class GemmBench
{
    // (m, k, n): squares, then the RL layer shapes (batch x in @ in x out).
    private static readonly (int M, int K, int N)[] Shapes =
        [(64, 64, 64), (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 4, 64), (128, 120, 84)];

    public static void Run(string[] args)
    {
        string what = args.Length > 1 ? args[1] : "all";
        int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
        if (what == "shape")
        {
            // gemm shape m k n transA transB threads: one figure, for experiments.
            int I(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
            Sgemm(I(2), I(3), I(4), I(7), 7, args[5] == "1", args[6] == "1");
            return;
        }
        if (what is "all" or "peak")
            foreach (int t in new[] { 1, 2 }) Peak(t, reps);
        if (what is "all" or "sizes")
            foreach (var (m, k, n) in Shapes)
                foreach (int t in new[] { 1, 2 }) Sgemm(m, k, n, t, reps);
    }

    /// <summary>The FMA peak on `threads` threads (Harness.Peak, 20M iterations per run).</summary>
    private static void Peak(int threads, int reps)
    {
        var (best, median) = Harness.Peak(threads, reps, 20_000_000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"fma_peak\",\"isa\":\"{(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")}\",\"threads\":{threads},\"gflops_best\":{F(best)},\"gflops_median\":{F(median)}}}"));
    }

    /// <summary>Times batches of calls (each batch >= ~20 ms of work) after a time-budget warm-up; reports best and median.</summary>
    private static void Sgemm(int m, int k, int n, int threads, int reps, bool ta = false, bool tb = false)
    {
        var rng = new Rng(1);
        var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextSingle() - 0.5f;
        Gemm.MaxThreads = threads;
        double flops = 2.0 * m * n * k;
        int batch = (int)Math.Clamp(2e9 / flops, 1, 200_000); // ~20 ms at 100 GFLOP/s
        Harness.Warm(() => Gemm.Sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, false));   // until tiered code runs
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        Gemm.Sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, false);
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        var samples = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < batch; i++) Gemm.Sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, false);
            samples.Add(flops * batch / sw.Elapsed.TotalSeconds / 1e9);
        }
        Gemm.MaxThreads = Environment.ProcessorCount;
        Print($"{{\"bench\":\"gemm\",\"m\":{m},\"n\":{n},\"k\":{k},\"threads\":{threads}{(ta || tb ? $",\"transA\":{(ta ? "true" : "false")},\"transB\":{(tb ? "true" : "false")}" : "")}", samples,
            $",\"us_best\":{F(flops / samples.Max() / 1e3)},\"alloc_bytes_per_call\":{alloc}");
    }

    private static void Print(string head, List<double> gflops, string? tail)
    {
        gflops.Sort();
        double median = gflops[gflops.Count / 2];
        Console.WriteLine($"{head},\"gflops_best\":{F(gflops[^1])},\"gflops_median\":{F(median)}{tail}}}");
    }

    private static string F(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);
}
