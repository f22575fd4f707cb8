// Entry point of the `tiny` command: dispatches to the sub-commands.
namespace Tiny.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("tiny: commands coming (train, eval, optim, bench, devices)");
        return 0;
    }
}
