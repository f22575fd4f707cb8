// Entry point of the `tiny` command: the command tree (System.CommandLine), a failed parse as one line and exit 2, and
// any error a command lets escape as one line and exit 2 (--debug: the stack trace).
using System.CommandLine;
using System.Reflection;

namespace Tiny.Cli;

/// <summary>The `tiny` command: <see cref="Run(string[], TextWriter, TextWriter)"/> parses and runs a command line.</summary>
public static class Program
{
    /// <summary>Exit codes: 0 done, 2 bad input or any error (one line on stderr), 3 a run diverged; a run stopped by
    /// a signal exits 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP).</summary>
    public const int Ok = 0, Error = 2, Diverged = 3;

    /// <summary>The tool's version (the assembly's informational version).</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>The process entry point: <see cref="Run(string[], TextWriter, TextWriter)"/> on the console.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs `tiny args...` in-process (tests call this) and returns the exit code. A bad command line is one
    /// line naming what was wrong and exit 2; so is any exception a command lets escape (`--debug` anywhere prints the
    /// stack trace instead).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary><see cref="Run(string[], TextWriter, TextWriter)"/> with a token that stops a training run as a signal
    /// would, and what runs a parsed `tiny train` (default <see cref="TrainRun.Execute"/>; tests capture the request).</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct,
                            Func<TrainRequest, TextWriter, TextWriter, CancellationToken, int>? train = null)
    {
        bool debug = args.Contains("--debug");
        if (debug) args = args.Where(a => a != "--debug").ToArray();
        string prefix = args.Length > 0 && Commands.Contains(args[0]) ? $"tiny {args[0]}" : "tiny";
        try
        {
            args = TrainCommand.Normalize(args);
            var result = Root(ct, train ?? TrainRun.Execute).Parse(args, CliParsing.Config);
            if (result.Errors.Count > 0 && result.Action is not { ClearsParseErrors: true })
            {
                stderr.WriteLine($"{prefix}: error: {CliParsing.OneLine(result, UnknownWord)}");
                return Error;
            }
            return result.Invoke(new InvocationConfiguration
            {
                Output = stdout, Error = stderr,
                EnableDefaultExceptionHandler = false,   // ours below: one line, not a dump
                ProcessTerminationTimeout = null,        // tiny train handles SIGINT/SIGTERM itself (save, then exit 128+N)
            });
        }
        catch (Exception e) when (!debug)
        {
            bool badInput = e is CliError or ArgumentException or NotSupportedException or IOException or InvalidDataException
                                 or System.Text.Json.JsonException or FormatException or KeyNotFoundException or UnauthorizedAccessException;
            stderr.WriteLine($"{prefix}: error: {OneLine(e)}{(badInput ? "" : " (--debug shows where)")}");
            return Error;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"{prefix}: error: {e}");
            return Error;
        }
    }

    /// <summary>The sub-commands' names.</summary>
    private static readonly string[] Commands = ["train", "eval", "inspect", "export", "study", "stats", "optim", "devices"];

    /// <summary>The command tree: train, eval, export, study, stats, optim, devices; --help and --version at the top.</summary>
    internal static RootCommand Root(CancellationToken ct, Func<TrainRequest, TextWriter, TextWriter, CancellationToken, int> train)
    {
        var root = new RootCommand("tiny: train and evaluate RL agents, compare optimizers");
        root.Options.Clear();      // System.CommandLine's generic --help and --version: ours below
        root.Directives.Clear();   // no [suggest] / [diagram] words
        root.Options.Add(CliParsing.Help((_, w) => Usage(w)));
        root.Options.Add(new Option<bool>("--version", "-V")
        {
            Description = "print the version",
            Action = new CliParsing.Run(r => { r.InvocationConfiguration.Output.WriteLine($"tiny {Version}"); return Ok; }, clearsErrors: true),
        });
        root.SetAction(r => { Usage(r.InvocationConfiguration.Error); return Error; });
        root.Subcommands.Add(TrainCommand.Build(ct, train));
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(InspectCommand.Build());
        root.Subcommands.Add(ExportCommand.Build());
        root.Subcommands.Add(StudyCommand.Build(ct));
        root.Subcommands.Add(StatsCommand.Build());
        root.Subcommands.Add(OptimCommand.Build());
        root.Subcommands.Add(DevicesCommand.Build());
        return root;
    }

    /// <summary>The one line for a word (or, before a command is named, a flag) the command does not take, where the
    /// command gives it a meaning: a command name at the top, an agent after train, run or plot after optim.</summary>
    private static string? UnknownWord(Command command, string token) => command switch
    {
        RootCommand => token.StartsWith('-') ? $"unknown option '{token}' (tiny --help)"
            : $"unknown command '{token}'; commands: {string.Join(", ", Commands)} (tiny --help)",
        { Name: "train" } when command.Parents.FirstOrDefault() is RootCommand => TrainCommand.UnknownBeforeAgent(token),
        { Name: "optim" } when command.Parents.FirstOrDefault() is RootCommand => token.StartsWith('-')
            ? $"name the command first: tiny optim run|plot ... ({token} is an option of run and plot)"
            : $"unknown optim command '{token}' (run, plot)",
        _ => null,
    };

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
        w.WriteLine("  train --resume RUN                  continue a stopped run from its last checkpoint");
        w.WriteLine("  eval RUN                            evaluate a saved run");
        w.WriteLine("  inspect RUN [RUN...]                draw the internals a run recorded (train ... --internals), runs side by side");
        w.WriteLine("  export RUN --onnx FILE.onnx         write a saved run's policy as an ONNX model");
        w.WriteLine("  study SPEC.json | --preset NAME     train a grid of runs (agents x envs x optimizers x seeds); writes a report");
        w.WriteLine("  stats SCORES.csv                    IQM, mean, median, optimality gap and P(X > Y) with bootstrap intervals");
        w.WriteLine("  optim run|plot ...                  the optimizer playground");
        w.WriteLine("  devices                             the devices ILGPU finds");
        w.WriteLine("  --version, -V                       print the version");
        w.WriteLine("  --debug                             on an error, print the stack trace instead of one line");
        w.WriteLine("exit codes: 0 done, 2 bad input or error, 3 a run diverged, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP");
    }
}
