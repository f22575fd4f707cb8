// ThreadsOption: the --threads flag of train and eval: how many cores one run's matrix products may use.
using System.CommandLine;
using Tiny.Cpu;

namespace Tiny.Cli;

internal static class ThreadsOption
{
    /// <summary>The --threads option. Only the CPU GEMM (Linear, conv) is multi-threaded, and it reduces every output
    /// element over k in one order whatever the thread count, so the flag changes speed, never results: a run may be
    /// resumed with another value. Unset: all cores, and the GEMM keeps a product on one thread below 1.5M
    /// multiply-adds (a pool wake-up costs more than it saves), which is what is fastest for each layer's size.</summary>
    public static Option<int?> Create() => CliParsing.Value<int?>("--threads", "N",
        $"cores one run's matrix products may use (same results whatever N; 1 for several runs at once; default all, {Environment.ProcessorCount})",
        t => (int)Math.Min(4096, CliParsing.Positive(t, "--threads")));

    /// <summary>Runs body with <see cref="Gemm.MaxThreads"/> = threads (unset: unchanged), then restores it: the
    /// commands also run in-process (tests, tiny study's estimate), where the setting must not outlive the command.</summary>
    public static int With(int? threads, Func<int> body)
    {
        int before = Gemm.MaxThreads;
        if (threads is { } n) Gemm.MaxThreads = n;
        try { return body(); }
        finally { Gemm.MaxThreads = before; }
    }
}
