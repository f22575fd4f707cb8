// Entry point of the `tiny` command: dispatches to the sub-commands.
namespace Tiny.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.WriteLine("usage: tiny COMMAND [args]   (tiny COMMAND --help for details)");
            Console.WriteLine("  train   train an RL agent (dqn, td3, ppo) on an env");
            Console.WriteLine("  eval    evaluate a trained agent deterministically");
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args[1..];
        switch (args[0])
        {
            case "train": return TrainCommand.Run(rest, Console.Out, Console.Error);
            case "eval": return EvalCommand.Run(rest, Console.Out, Console.Error);
            default:
                Console.Error.WriteLine($"tiny: unknown command '{args[0]}' (try tiny --help)");
                return 2;
        }
    }
}
