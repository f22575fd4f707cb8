// Entry point of the benchmarks: `dotnet run -c Release --project bench/Tiny.Bench -- <name>`; every run first prints
// the machine line (CPU model and the FMA peak measured now), so "% of peak" comes from the machine benched on.
namespace Tiny.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "";
        if (name is "gemm" or "train" or "optim" or "internals" or "conv" or "td3" or "forward1") Harness.Machine();
        switch (name)
        {
            case "gemm": GemmBench.Run(args); return 0;
            case "train": TrainStepBench.Run(args); return 0;
            case "optim": OptimBench.Run(args); return 0;
            case "internals": InternalsBench.Run(args); return 0;
            case "conv": ConvBench.Run(args); return 0;
            case "td3": Td3Bench.Run(args); return 0;
            case "forward1": Forward1Bench.Run(args); return 0;
            case "gpu": return GpuBench.Run(args);
            default: Console.WriteLine("usage: Tiny.Bench gemm [peak|sizes] [reps] | train [--batches] [--threads N] | optim [reps] [names] [--threads N] | internals [--passes P] [--steps N] [names] | conv [--threads N] | td3 [--threads 1,2] [--passes P] | forward1 [--threads N] [--passes P] | gpu [--device D] [--smoke]"); return 1;
        }
    }
}
