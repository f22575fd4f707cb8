// OptimBench: one optimizer step over 1M and 10M float32 parameters, us/step best/median, state bytes, bandwidth.
using System.Diagnostics;
using System.Globalization;
using Tiny.Optim;

namespace Tiny.Bench;

/// <summary>`optim [reps] [name,name...] [--threads N]`: every registered optimizer's Step() (registry defaults) and a few
/// variants on one float32 tensor, on N threads (default: all cores); peer: bench/peers/optim_step.py (same names).</summary>
public static class OptimBench
{
    /// <summary>Variants beside each optimizer's defaults, by the peer's names.</summary>
    private static readonly (string Name, string Spec)[] Variants =
        [("sgd_momentum", "sgd:momentum=0.9"), ("amsgrad", "adam:amsgrad"), ("amsbound", "adabound:amsbound"), ("alphagrad_momentum", "alphagrad:momentum=0.9"), ("lookahead_adam", "adam:lookahead_k=5,lookahead_alpha=0.5")];

    private static IEnumerable<(string Name, string Spec)> All() => Optimizers.Names.Select(n => (n, n)).Concat(Variants);

    public static void Run(string[] args)
    {
        int threads = Environment.ProcessorCount, at = Array.IndexOf(args, "--threads");
        if (at > 0)
        {
            threads = int.Parse(args[at + 1], CultureInfo.InvariantCulture);
            args = [.. args[..at], .. args[(at + 2)..]];
        }
        int reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var only = args.Length > 2 ? args[2].Split(',').ToHashSet() : null;
        Tiny.Cpu.Gemm.MaxThreads = threads;
        try { Run(reps, only, threads); }
        finally { Tiny.Cpu.Gemm.MaxThreads = Environment.ProcessorCount; }
    }

    private static void Run(int reps, HashSet<string>? only, int threads)
    {
        var rng = new Rng(1);
        foreach (int n in new[] { 1_000_000, 10_000_000 })
        {
            var p = Tensor.Randn([n], rng);
            p.Grad = Tensor.Randn([n], rng).Mul(1e-3);
            var (copyBest, copyMedian) = Time(reps, () => p.DataF.CopyTo(p.Grad.DataF));   // read + write n floats
            Console.WriteLine(Json("copy", n, threads, copyBest, copyMedian, 0, 8.0 * n));
            foreach (var (name, spec) in All())
            {
                if (only is not null && !only.Contains(name)) continue;
                var opt = Optimizers.FromSpec(spec, [p]);
                var (best, median) = Time(reps, opt.Step);
                // Bytes the fused pass moves: read g, read+write p and each state buffer.
                double stateFloats = opt.StateBytes / 4.0 / n;
                Console.WriteLine(Json(name, n, threads, best, median, opt.StateBytes / (double)n, 4.0 * n * (3 + 2 * stateFloats)));
            }
        }
    }

    private static (double Best, double Median) Time(int reps, Action step)
    {
        // Warm-up by time until tiered JIT code runs (5 fixed steps timed AlphaGrad's 1M step in unoptimized startup
        // code, 15.6 ms instead of 1.7); it also takes RAdam past its rectification threshold (5 steps).
        Harness.Warm(step, minSeconds: 0.3, minCalls: 40);
        var us = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            step();
            us[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        Array.Sort(us);
        return (us[0], us[reps / 2]);
    }

    private static string Json(string name, int n, int threads, double best, double median, double stateBytesPerParam, double bytesMoved) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"optim\",\"impl\":\"tiny\",\"threads\":{threads},\"optimizer\":\"{name}\",\"n\":{n},\"us_best\":{best:F1},\"us_median\":{median:F1},\"state_bytes_per_param\":{stateBytesPerParam:F1},\"gb_per_s\":{bytesMoved / best / 1e3:F2}}}");
}
