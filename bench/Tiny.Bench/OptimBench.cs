// OptimBench: one optimizer step over 1M and 10M float32 parameters, us/step best/median, state bytes, bandwidth.
using System.Diagnostics;
using System.Globalization;
using Tiny.Optim;

namespace Tiny.Bench;

/// <summary>`optim [reps]`: each optimizer's Step() on one float32 tensor; peer: bench/peers/optim_step.py.</summary>
public static class OptimBench
{
    private static readonly (string Name, Func<Tensor, Optimizer> Make)[] Optimizers =
    [
        ("sgd", p => new Sgd([p], lr: 1e-3)),
        ("sgd_momentum", p => new Sgd([p], lr: 1e-3, momentum: 0.9)),
        ("adam", p => new Adam([p])),
        ("adamw", p => new AdamW([p])),
        ("adabound", p => new AdaBound([p])),
        ("alphagrad", p => new AlphaGrad([p])),
        ("alphagrad_momentum", p => new AlphaGrad([p], momentum: 0.9)),
    ];

    public static void Run(string[] args)
    {
        int reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var rng = new Rng(1);
        foreach (int n in new[] { 1_000_000, 10_000_000 })
        {
            var p = Tensor.Randn([n], rng);
            p.Grad = Tensor.Randn([n], rng).Mul(1e-3);
            var (copyBest, copyMedian) = Time(reps, () => p.DataF.CopyTo(p.Grad.DataF));   // read + write n floats
            Console.WriteLine(Json("copy", n, copyBest, copyMedian, 0, 8.0 * n));
            foreach (var (name, make) in Optimizers)
            {
                var opt = make(p);
                var (best, median) = Time(reps, opt.Step);
                // Bytes the fused pass moves: read g, read+write p and each state buffer.
                double stateFloats = opt.StateBytes / 4.0 / n;
                Console.WriteLine(Json(name, n, best, median, opt.StateBytes / (double)n, 4.0 * n * (3 + 2 * stateFloats)));
            }
        }
    }

    private static (double Best, double Median) Time(int reps, Action step)
    {
        for (int i = 0; i < 3; i++) step();
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

    private static string Json(string name, int n, double best, double median, double stateBytesPerParam, double bytesMoved) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"optim\",\"impl\":\"tiny\",\"optimizer\":\"{name}\",\"n\":{n},\"us_best\":{best:F1},\"us_median\":{median:F1},\"state_bytes_per_param\":{stateBytesPerParam:F1},\"gb_per_s\":{bytesMoved / best / 1e3:F2}}}");
}
