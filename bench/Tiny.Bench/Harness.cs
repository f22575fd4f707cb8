// Harness: the timing every bench shares (a warm-up by time budget until tiered JIT code runs, then the best and
// median of several timed passes) and the machine's own measured FMA peak, printed at the start of every run.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tiny.Bench;

/// <summary>Warm-up, timed passes and the FMA peak of this machine.</summary>
public static class Harness
{
    /// <summary>Best and median per-call microseconds over the passes, and the calls per pass.</summary>
    public readonly record struct Timing(double Best, double Median, int Reps, int Passes, double WarmSeconds);

    /// <summary>
    /// Runs step until tiered JIT code runs: at least minSeconds and minCalls (the runtime promotes a method after
    /// 30 calls and a 100 ms quiet period, in the background), then in windows of ~0.1 s until two successive
    /// windows' mean times agree within 3% (or maxSeconds pass). A fixed step count is not enough: a 1M-parameter
    /// optimizer step warmed up 3 times was timed in its unoptimized startup code (9x slower).
    /// </summary>
    public static (double Seconds, double LastUs) Warm(Action step, double minSeconds = 0.5, int minCalls = 60, double maxSeconds = 4)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        while (calls < minCalls || sw.Elapsed.TotalSeconds < minSeconds) { step(); calls++; if (sw.Elapsed.TotalSeconds > maxSeconds) break; }
        double previous = double.NaN, last = double.NaN;
        do   // at least one window, so the caller learns the time per call
        {
            long t0 = Stopwatch.GetTimestamp();
            int n = 0;
            do { step(); n++; } while (Stopwatch.GetElapsedTime(t0).TotalSeconds < 0.1);
            last = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / n;
            if (Math.Abs(last - previous) <= 0.03 * Math.Min(last, previous)) break;
            previous = last;
        }
        while (sw.Elapsed.TotalSeconds < maxSeconds);
        return (sw.Elapsed.TotalSeconds, last);
    }

    /// <summary>Warm, then `passes` passes of ~passSeconds each (at least minReps calls); per-call microseconds.</summary>
    public static Timing Time(Action step, int passes = 5, double passSeconds = 0.25, int minReps = 3)
    {
        var (warm, lastUs) = Warm(step);
        int reps = Math.Max(minReps, (int)Math.Ceiling(passSeconds * 1e6 / Math.Max(lastUs, 0.01)));
        var per = new double[passes];
        for (int p = 0; p < passes; p++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++) step();
            per[p] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / reps;
        }
        Array.Sort(per);
        return new Timing(per[0], per[passes / 2], reps, passes, warm);
    }

    /// <summary>The CPU's model name (lscpu's "Model name", from /proc/cpuinfo), or "unknown".</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }

    /// <summary>Best FP32 FMA GFLOP/s on one thread, measured by Machine() (NaN before).</summary>
    public static double Peak1 { get; private set; } = double.NaN;

    /// <summary>Best FP32 FMA GFLOP/s on every core, measured by Machine() (NaN before).</summary>
    public static double PeakAll { get; private set; } = double.NaN;

    /// <summary>
    /// Measures the FP32 FMA peak (Vector512 where accelerated, else Vector256) on 1 thread and on all cores, best of
    /// `reps` short runs each (~40 ms), and prints it as one JSON line with the CPU model, so "% of peak" in the
    /// lines that follow comes from the machine the bench ran on.
    /// </summary>
    public static void Machine(int reps = 5, long iters = 10_000_000)
    {
        int all = Environment.ProcessorCount;
        var (b1, m1) = Peak(1, reps, iters);
        var (bAll, mAll) = Peak(all, reps, iters);
        Peak1 = b1; PeakAll = bAll;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"machine\",\"cpu\":\"{CpuModel().Replace("\"", "'")}\",\"cores\":{all},\"isa\":\"{(Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")}\",\"fma_peak_gflops_1t\":{b1:F1},\"fma_peak_gflops_1t_median\":{m1:F1},\"fma_peak_gflops_all\":{bAll:F1},\"fma_peak_gflops_all_median\":{mAll:F1},\"utc\":\"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\"}}"));
    }

    /// <summary>Best and median GFLOP/s of `threads` threads, each running 12 independent FMA chains on registers only
    /// (more chains than latency x throughput, so the FMA ports stay busy).</summary>
    public static (double Best, double Median) Peak(int threads, int reps, long iters = 10_000_000)
    {
        bool v512 = Vector512.IsHardwareAccelerated;
        double flopsPerThread = iters * 12.0 * 2 * (v512 ? 16 : 8);
        var samples = new List<double>();
        for (int r = 0; r < reps + 1; r++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                _ => Sink = v512 ? Fma512(iters) : Fma256(iters));
            if (r > 0) samples.Add(flopsPerThread * threads / sw.Elapsed.TotalSeconds / 1e9);   // r = 0: JIT and thread start
        }
        samples.Sort();
        return (samples[^1], samples[samples.Count / 2]);
    }

    private static float Sink;

    // Fma512 and Fma256 are the same loop at two widths: .NET 10's ISimdVector<TSelf, T> is not public, so one
    // generic body cannot name both vector types.

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
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
}
