// ThreadsOption: the --threads flag of train and eval: how many cores one run's matrix products may use.
using System.CommandLine;
using Tiny.Cpu;
using Tiny.Rl;

namespace Tiny.Cli;

internal static class ThreadsOption
{
    /// <summary>
    /// Below this many multiply-adds in a gradient step's largest product (batch x the largest weight), a train run
    /// whose --threads is not given uses one thread. Measured on a 2-core AMD EPYC (AVX2), default options, whole
    /// runs on one / two threads: PPO CartPole 500k (128 x 64x64 = 0.5M) 6.3 / 7.1 s, DQN CartPole 200k (128 x 120x84
    /// = 1.3M) 4.8 / 5.5 s, DQN MinAtar Breakout 40k (32 x 1024x128 = 4.2M) 36.8 / 45.9 s, TD3 Pendulum (256 x 400x300
    /// = 30.7M) about 120 / 79 s. A small product splits faster in isolation (128x64x64: 12.4 / 8.7 us), but in a run
    /// the split moves each step's activations and gradients between the cores' caches and wakes the second core.
    /// </summary>
    internal const long TwoThreadMinWork = 16_000_000;

    [ThreadStatic] private static bool _inCommand, _given;

    /// <summary>The --threads option. Only the CPU GEMM (Linear, conv) and the large elementwise passes are
    /// multi-threaded, and every output element is computed in one order whatever the thread count, so the flag
    /// changes speed, never results: a run may be resumed with another value. Unset: all cores for nets whose gradient
    /// step has a product of at least <see cref="TwoThreadMinWork"/> multiply-adds (TD3's 400-300 nets), one thread
    /// for smaller ones (see <see cref="DefaultFor"/>).</summary>
    public static Option<int?> Create() => CliParsing.Value<int?>("--threads", "N",
        $"cores one run's matrix products may use (same results whatever N; 1 for several runs at once; default: {Environment.ProcessorCount} for nets as large as TD3's 400-300, 1 for smaller ones, which run faster so)",
        t => (int)Math.Min(4096, CliParsing.Positive(t, "--threads")));

    /// <summary>Runs body with <see cref="Gemm.MaxThreads"/> = threads (unset: unchanged until <see cref="DefaultFor"/>
    /// picks it), then restores it: the commands also run in-process (tests, tiny study's estimate), where the setting
    /// must not outlive the command.</summary>
    public static int With(int? threads, Func<int> body)
    {
        int before = Gemm.MaxThreads;
        bool inCommand = _inCommand, given = _given;
        (_inCommand, _given) = (true, threads is not null);
        if (threads is { } n) Gemm.MaxThreads = n;
        try { return body(); }
        finally { Gemm.MaxThreads = before; (_inCommand, _given) = (inCommand, given); }
    }

    /// <summary>Inside <see cref="With"/> without a --threads value: sets <see cref="Gemm.MaxThreads"/> to
    /// <see cref="Default"/> for the agent (elsewhere, and when the flag was given, it leaves the setting alone).</summary>
    public static void DefaultFor(IAgent agent)
    {
        if (_inCommand && !_given) Gemm.MaxThreads = Default(agent);
    }

    /// <summary>The thread count a run of this agent gets by default: all cores when its gradient step's largest
    /// product, the batch (PPO: the minibatch) times the largest weight, reaches <see cref="TwoThreadMinWork"/>
    /// multiply-adds; one thread otherwise.</summary>
    public static int Default(IAgent agent)
    {
        long batch = (agent as Ppo)?.Options.MinibatchSize ?? (agent as Dqn)?.Options.BatchSize ?? (agent as Td3)?.Options.BatchSize ?? 1;
        long weight = agent.NamedParameters().Select(p => (long)p.Value.Numel).DefaultIfEmpty(0).Max();
        return batch * weight >= TwoThreadMinWork ? Environment.ProcessorCount : 1;
    }
}
