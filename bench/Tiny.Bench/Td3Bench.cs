// Td3Bench: one TD3 update as CleanRL's td3_continuous_action.py does it (Pendulum sizes: obs 3, action 1; 400-300
// nets as rl-baselines3-zoo tunes it; batch 256), on 1 and 2 threads, in microseconds and % of the measured FMA peak.
// Peer: bench/peers/td3_update.py (the same work in torch 1.13).
using System.Globalization;
using System.Text.Json;
using Tiny.Nn;

namespace Tiny.Bench;

/// <summary>`td3 [--threads 1,2] [--passes P] [--batch B]`.</summary>
public static class Td3Bench
{
    private const int Obs = 3, Act = 1, H1 = 400, H2 = 300;

    /// <summary>
    /// Multiply-adds per batch row of one update cycle of policy_frequency = 2: two critic steps (target actor and
    /// both target critics forward; both critics forward, weight gradients, input gradients of layers 2-3) and one
    /// actor step (actor and qf1 forward; qf1's weight and input gradients, as torch computes them too; the actor's
    /// weight gradients and input gradients of layers 2-3). Counting only the Linear layers' products.
    /// </summary>
    public static double MacsPerRowPerCycle()
    {
        double actor = Obs * H1 + H1 * H2 + H2 * Act, critic = (Obs + Act) * H1 + H1 * H2 + H2 * 1;
        double actorInner = H1 * H2 + H2 * Act, criticInner = H1 * H2 + H2 * 1;   // layers whose input needs a gradient
        double criticStep = actor + 2 * critic + 2 * critic + 2 * critic + 2 * criticInner;
        double actorStep = actor + critic + critic + critic + actor + actorInner;
        return 2 * criticStep + actorStep;
    }

    /// <summary>Runs the bench; one JSON line per thread count and part (critic step, cycle of 2 updates).</summary>
    public static void Run(string[] args)
    {
        int passes = 5, batch = 256;
        int[] threadCounts = [1, 2];
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--threads") threadCounts = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            else if (args[i] == "--passes") passes = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--batch") batch = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        foreach (int threads in threadCounts)
        {
            Tiny.Cpu.Gemm.MaxThreads = threads;   // the only thread setting in Tiny's CPU backend
            var w = new Work(batch, new Rng(0));
            var cycle = Harness.Time(w.Cycle, passes);
            var critic = Harness.Time(w.CriticStep, passes);
            double flopsPerUpdate = 2.0 * batch * MacsPerRowPerCycle() / 2;
            double gflops = flopsPerUpdate / (cycle.Best / 2) / 1e3;
            double peak = threads == 1 ? Harness.Peak1 : Harness.PeakAll * Math.Min(threads, Environment.ProcessorCount) / Environment.ProcessorCount;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "td3_update", peer = "tiny", threads, batch, nets = "400-300",
                us_per_update_best = Math.Round(cycle.Best / 2, 1), us_per_update_median = Math.Round(cycle.Median / 2, 1),
                us_critic_step_best = Math.Round(critic.Best, 1), us_critic_step_median = Math.Round(critic.Median, 1),
                gflops = Math.Round(gflops, 1), pct_of_peak = Math.Round(100 * gflops / peak, 1), peak_gflops = Math.Round(peak, 1),
                reps = cycle.Reps, passes, warm_s = Math.Round(cycle.WarmSeconds, 2),
            }));
        }
        Tiny.Cpu.Gemm.MaxThreads = Environment.ProcessorCount;
    }

    /// <summary>The nets, optimizers (Adam, CleanRL's lr 3e-4) and one fixed batch (replay sampling is left out on
    /// both sides: it is not arithmetic and the peers' buffers differ).</summary>
    private sealed class Work
    {
        private const double Gamma = 0.99, Tau = 0.005, PolicyNoise = 0.2, NoiseClip = 0.5;
        private readonly Module _actor, _qf1, _qf2, _actorT, _qf1T, _qf2T;
        private readonly Tensor[] _actorP, _qf1P, _qf2P, _actorTP, _qf1TP, _qf2TP;
        private readonly Tiny.Optim.Adam _qOpt, _actorOpt;
        private readonly Tensor _obs, _nextObs, _actions, _rewards, _dones, _scale, _bias;
        private readonly Rng _rng;

        public Work(int batch, Rng rng)
        {
            _rng = rng;
            Module Actor() => Mlp.Create([Obs, H1, H2, Act], () => new ReLU(), rng);
            Module Critic() => Mlp.Create([Obs + Act, H1, H2, 1], () => new ReLU(), rng);
            (_actor, _qf1, _qf2) = (Actor(), Critic(), Critic());
            (_actorT, _qf1T, _qf2T) = (Actor(), Critic(), Critic());
            (_actorP, _qf1P, _qf2P) = (P(_actor), P(_qf1), P(_qf2));
            (_actorTP, _qf1TP, _qf2TP) = (P(_actorT), P(_qf1T), P(_qf2T));
            Tiny.Rl.OffPolicy.SoftUpdate(_actorTP, _actorP, 1.0);
            Tiny.Rl.OffPolicy.SoftUpdate(_qf1TP, _qf1P, 1.0);
            Tiny.Rl.OffPolicy.SoftUpdate(_qf2TP, _qf2P, 1.0);
            _qOpt = new Tiny.Optim.Adam([.. _qf1P, .. _qf2P], lr: 3e-4);
            _actorOpt = new Tiny.Optim.Adam(_actorP, lr: 3e-4);
            _obs = Tensor.Randn([batch, Obs], rng); _nextObs = Tensor.Randn([batch, Obs], rng);
            _actions = Tensor.Randn([batch, Act], rng).Clamp(-2, 2); _rewards = Tensor.Randn([batch, 1], rng);
            _dones = Tensor.Zeros(batch, 1);
            _scale = Tensor.FromArray([2f], Act); _bias = Tensor.FromArray([0f], Act);
        }

        private static Tensor[] P(Module m) => m.Parameters().ToArray();

        private Tensor Mu(Module actor, Tensor obs) => actor.Forward(obs).Tanh() * _scale + _bias;

        private static Tensor Q(Module critic, Tensor obs, Tensor action) => critic.Forward(Tensor.Cat([obs, action], 1));

        /// <summary>CleanRL: target with clipped policy noise, min of the twin targets; MSE of both critics; one Adam step.</summary>
        public void CriticStep()
        {
            using var memory = Tensor.Scope();
            Tensor next;
            using (Tensor.NoGrad())
            {
                var noise = (Tensor.Randn([_actions.Shape[0], Act], _rng) * PolicyNoise).Clamp(-NoiseClip, NoiseClip) * _scale;
                var nextActions = (Mu(_actorT, _nextObs) + noise).Clamp(-2, 2);
                var minQ = Q(_qf1T, _nextObs, nextActions).Minimum(Q(_qf2T, _nextObs, nextActions));
                next = _rewards + (1.0 - _dones) * Gamma * minQ;
            }
            var loss = F.MseLoss(Q(_qf1, _obs, _actions), next) + F.MseLoss(Q(_qf2, _obs, _actions), next);
            _qOpt.ZeroGrad();
            loss.Backward();
            _qOpt.Step();
        }

        /// <summary>The delayed actor step (maximise Q1(s, mu(s))) and Polyak averaging of all three targets.</summary>
        public void ActorStep()
        {
            using var memory = Tensor.Scope();
            var loss = -Q(_qf1, _obs, Mu(_actor, _obs)).Mean();
            _actorOpt.ZeroGrad();
            loss.Backward();
            _actorOpt.Step();
            Tiny.Rl.OffPolicy.SoftUpdate(_actorTP, _actorP, Tau);
            Tiny.Rl.OffPolicy.SoftUpdate(_qf1TP, _qf1P, Tau);
            Tiny.Rl.OffPolicy.SoftUpdate(_qf2TP, _qf2P, Tau);
        }

        /// <summary>policy_frequency = 2 updates: critic, critic, actor + Polyak.</summary>
        public void Cycle() { CriticStep(); CriticStep(); ActorStep(); }
    }
}
