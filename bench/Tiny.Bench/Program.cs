// Entry point of the benchmarks: `dotnet run -c Release --project bench/Tiny.Bench -- <name>`.
namespace Tiny.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "gemm": GemmBench.Run(args); return 0;
            case "train": TrainStepBench.Run(args); return 0;
            case "optim": OptimBench.Run(args); return 0;
            case "internals": InternalsBench.Run(args); return 0;
            case "conv": ConvBench.Run(args); return 0;
            case "gpu": return GpuBench.Run(args);
            default: Console.WriteLine("usage: Tiny.Bench gemm [peak|sizes] [reps] | train [--batches] [--threads N] | optim [reps] [names] | internals [--passes P] [--steps N] [names] | conv [--threads N] | gpu [--device D] [--smoke]"); return 1;
        }
    }
}
