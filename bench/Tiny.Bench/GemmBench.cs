// GemmBench: measures the machine's FP32 FMA peak and Tiny's Sgemm GFLOP/s, one JSON line per figure.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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

    /// <summary>Each thread runs 12 independent FMA chains (more than latency x throughput) on registers only.</summary>
    private static void Peak(int threads, int reps)
    {
        const long iters = 20_000_000;
        bool v512 = Vector512.IsHardwareAccelerated;
        double flopsPerThread = iters * 12.0 * 2 * (v512 ? 16 : 8);
        var samples = new List<double>();
        for (int r = 0; r < reps + 1; r++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                _ => Sink = v512 ? Fma512(iters) : Fma256(iters));
            if (r > 0) samples.Add(flopsPerThread * threads / sw.Elapsed.TotalSeconds / 1e9);
        }
        Print($"{{\"bench\":\"fma_peak\",\"isa\":\"{(v512 ? "Vector512" : "Vector256")}\",\"threads\":{threads}", samples, null);
    }

    private static float Sink;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512(long iters)
    {
        var x = Vector512.Create(1.0000001f); var y = Vector512.Create(0.9999999f);
        Vector512<float> a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y, a8 = x, a9 = y, a10 = x, a11 = y;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma256(long iters)
    {
        var x = Vector256.Create(1.0000001f); var y = Vector256.Create(0.9999999f);
        Vector256<float> a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y, a8 = x, a9 = y, a10 = x, a11 = y;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    /// <summary>Times batches of calls (each batch >= ~20 ms of work) after a warmup; reports best and median.</summary>
    private static void Sgemm(int m, int k, int n, int threads, int reps, bool ta = false, bool tb = false)
    {
        var rng = new Rng(1);
        var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextSingle() - 0.5f;
        Gemm.MaxThreads = threads;
        double flops = 2.0 * m * n * k;
        int batch = (int)Math.Clamp(2e9 / flops, 1, 200_000); // ~20 ms at 100 GFLOP/s
        for (int w = 0; w < 3; w++)
            for (int i = 0; i < batch; i++) Gemm.Sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, false);
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
