// Forward1Bench: batch-1 forward (action selection, no autograd) of each agent's policy net in microseconds.
// Peer: bench/peers/forward1.py (torch.no_grad and torch.inference_mode).
using System.Globalization;
using System.Text.Json;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Bench;

/// <summary>`forward1 [--threads N] [--passes P]`: PPO CartPole actor 4-64-64-2 Tanh, DQN CartPole 4-120-84-2 ReLU,
/// TD3 Pendulum actor 3-400-300-1 ReLU with tanh * scale + bias, DQN MinAtar Breakout CNN ([1, 400] in, as the
/// agent feeds it: Conv 4->16 3x3, ReLU, 1024->128, ReLU, 128->3).</summary>
public static class Forward1Bench
{
    /// <summary>Runs the bench; one JSON line per net.</summary>
    public static void Run(string[] args)
    {
        int passes = 5, threads = 1;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--threads") threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--passes") passes = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        Tiny.Cpu.Gemm.MaxThreads = threads;
        var rng = new Rng(0);
        var scale = Tensor.FromArray([2f], 1);
        var bias = Tensor.FromArray([0f], 1);
        var td3Actor = Mlp.Create([3, 400, 300, 1], () => new ReLU(), rng);
        (string Name, Func<Tensor, Tensor> Forward, Tensor X, double Macs)[] nets =
        [
            ("ppo-cartpole-actor-4-64-64-2-tanh", Mlp.Create([4, 64, 64, 2], () => new Tanh(), rng).Forward, Tensor.Randn([1, 4], rng), 4 * 64 + 64 * 64 + 64 * 2),
            ("dqn-cartpole-4-120-84-2-relu", Mlp.Create([4, 120, 84, 2], () => new ReLU(), rng).Forward, Tensor.Randn([1, 4], rng), 4 * 120 + 120 * 84 + 84 * 2),
            ("td3-pendulum-actor-3-400-300-1", x => td3Actor.Forward(x).Tanh() * scale + bias, Tensor.Randn([1, 3], rng), 3 * 400 + 400 * 300 + 300),
            ("dqn-minatar-breakout-cnn", QNetworks.Create("cnn", new Box(0f, 1f, 4, 10, 10), 3, [128], rng).Forward, Tensor.Randn([1, 400], rng), 64 * 16 * 36 + 1024 * 128 + 128 * 3),
        ];
        foreach (var (name, forward, x, macs) in nets)
        {
            void Step()
            {
                using var memory = Tensor.Scope();
                using (Tensor.NoGrad()) forward(x);
            }
            var t = Harness.Time(Step, passes, passSeconds: 0.2);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "forward1", peer = "tiny", threads, net = name, batch = 1,
                us_best = Math.Round(t.Best, 2), us_median = Math.Round(t.Median, 2),
                gflops = Math.Round(2 * macs / t.Best / 1e3, 2), reps = t.Reps, passes, warm_s = Math.Round(t.WarmSeconds, 2),
            }));
        }
        Tiny.Cpu.Gemm.MaxThreads = Environment.ProcessorCount;
    }
}
