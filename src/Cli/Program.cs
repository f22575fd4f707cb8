// Entry point of the `tiny` command: dispatches to the sub-commands and turns any error into one line and exit 2.
using System.Reflection;

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

    /// <summary>Exit codes: 0 done, 2 bad input or any error (one line on stderr), 3 a run diverged; a run stopped by
    /// a signal exits 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP).</summary>
    public const int Ok = 0, Error = 2, Diverged = 3;

    /// <summary>The tool's version (the assembly's informational version).</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs `tiny args...` in-process (tests call this). Any exception a command lets escape becomes one line
    /// naming its cause and exit 2; `--debug` anywhere prints the stack trace instead.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        bool debug = args.Contains("--debug");
        if (debug) args = args.Where(a => a != "--debug").ToArray();
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Usage(args.Length == 0 ? stderr : stdout);
            return args.Length == 0 ? Error : Ok;
        }
        if (args[0] is "--version" or "-V") { stdout.WriteLine($"tiny {Version}"); return Ok; }
        if (!Commands.TryGetValue(args[0], out var command))
        {
            stderr.WriteLine($"tiny: unknown command '{args[0]}'; commands: {string.Join(", ", Commands.Keys)} (tiny --help)");
            return Error;
        }
        try
        {
            return command(args[1..], stdout, stderr);
        }
        catch (Exception e) when (!debug)
        {
            stderr.WriteLine($"tiny {args[0]}: error: {OneLine(e)} (--debug shows where)");
            return Error;
        }
    }

    /// <summary>An exception as one line: its message (inner ones appended when they add something), no stack.</summary>
    internal static string OneLine(Exception e)
    {
        string m = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (!m.Contains(inner.Message)) m += ": " + inner.Message;
        if (e is ArgumentException { ParamName: { } p }) m = m.Replace($" (Parameter '{p}')", "");
        return m.ReplaceLineEndings(" ");
    }

    private static void Usage(TextWriter w)
    {
        w.WriteLine($"tiny {Version}: train and evaluate RL agents, compare optimizers");
        w.WriteLine("usage: tiny <command> [options]   (tiny <command> --help for its options)");
        w.WriteLine("  train {dqn|td3|ppo} --env ENV ...   train an agent; writes a run folder");
        w.WriteLine("  eval RUN                            evaluate a saved run");
        w.WriteLine("  optim run|plot ...                  the optimizer playground");
        w.WriteLine("  devices                             the devices ILGPU finds");
        w.WriteLine("  --version                           print the version");
        w.WriteLine("  --debug                             on an error, print the stack trace instead of one line");
        w.WriteLine("exit codes: 0 done, 2 bad input or error, 3 a run diverged, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP");
    }
}
