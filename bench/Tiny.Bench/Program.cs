// Entry point of the benchmarks: `dotnet run -c Release --project bench/Tiny.Bench -- <name>`.
namespace Tiny.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("benchmarks: none yet");
        return 0;
    }
}
