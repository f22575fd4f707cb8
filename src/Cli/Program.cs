// Entry point of the `tiny` command: dispatches to the sub-commands.
namespace Tiny.Cli;

public static class Program
{
    /// <summary>The sub-commands: name -> Run(args after the name, stdout, stderr) returning the exit code.</summary>
    public static readonly Dictionary<string, Func<string[], TextWriter, TextWriter, int>> Commands = new()
    {
        ["optim"] = OptimCommand.Run,
        ["train"] = (a, o, e) => TrainCommand.Run(a, o, e),
        ["eval"] = EvalCommand.Run,
        ["devices"] = DevicesCommand.Run,
    };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs `tiny args...` in-process (tests call this).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" || !Commands.TryGetValue(args[0], out var command))
        {
            if (args.Length > 0 && args[0] is not ("-h" or "--help")) stderr.WriteLine($"tiny: unknown command '{args[0]}'");
            stderr.WriteLine($"usage: tiny <command> [options]; commands: {string.Join(", ", Commands.Keys)}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        return command(args[1..], stdout, stderr);
    }
}
