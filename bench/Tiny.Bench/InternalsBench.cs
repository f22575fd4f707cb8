// InternalsBench: what an InternalsRecorder costs a training step (DQN's CartPole Q-network, 4-120-84-2 ReLU, batch
// 128, in a Tensor.Scope as the agents run it): no recorder, every=10 and every=1, interleaved pass by pass so a busy
// machine slows all three alike; the medians and their ratios to the step without a recorder.
using System.Diagnostics;
using System.Text.Json;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Bench;

public static class InternalsBench
{
    /// <summary>args: internals [--passes P] [--steps N] [names...] (default adam alphagrad:momentum=0.9 adabound lion)</summary>
    public static void Run(string[] args)
    {
        int passes = 15, steps = 400;
        var names = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--passes") passes = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--steps") steps = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else names.Add(args[i]);
        }
        if (names.Count == 0) names = ["adam", "alphagrad:momentum=0.9", "adabound", "lion"];
        Tiny.Cpu.Gemm.MaxThreads = 1;
        foreach (var spec in names)
        {
            var (name, options) = Optimizers.Parse(spec);
            int?[] modes = [null, 10, 1];
            var runs = modes.Select(every => Setup(name, options, every)).ToArray();
            foreach (var step in runs) for (int i = 0; i < steps; i++) step();   // warm-up (JIT tiers)
            var per = modes.Select(_ => new List<double>()).ToArray();
            for (int p = 0; p < passes; p++)
                for (int m = 0; m < modes.Length; m++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < steps; i++) runs[m]();
                    per[m].Add(sw.Elapsed.TotalMicroseconds / steps);
                }
            double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }
            double off = Median(per[0]), ten = Median(per[1]), one = Median(per[2]);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "internals", optimizer = spec, net = "4-120-84-2-relu", batch = 128, steps, passes,
                us_off = Math.Round(off, 1), us_every10 = Math.Round(ten, 1), us_every1 = Math.Round(one, 1),
                slowdown_every10 = Math.Round(ten / off - 1, 4), slowdown_every1 = Math.Round(one / off - 1, 4),
            }));
        }
    }

    /// <summary>One training step of its own network and optimizer (recorded every N updates, or not at all).</summary>
    private static Action Setup(string name, IReadOnlyDictionary<string, string> options, int? every)
    {
        var rng = new Rng(0);
        var net = Mlp.Create([4, 120, 84, 2], () => new ReLU(), rng);
        var x = Tensor.Randn([128, 4], rng);
        var y = Tensor.Randn([128, 2], rng);
        var opt = Optimizers.Create(name, net.Parameters(), options);
        var recorder = every is int n ? new InternalsRecorder(opt, n, net.NamedParameters(), _ => { }) : null;
        GC.KeepAlive(recorder);
        return () =>
        {
            using var memory = Tensor.Scope();
            opt.ZeroGrad();
            F.MseLoss(net.Forward(x), y).Backward();
            opt.Step();
        };
    }
}
