// `tiny export RUN --onnx FILE.onnx`: a saved agent's deterministic policy as an ONNX model (Tiny.Rl.OnnxExport), for
// serving it outside .NET; refuses a diverged run or non-finite weights as eval does.
using System.CommandLine;
using Tiny.Rl;

namespace Tiny.Cli;

/// <summary>`tiny export RUN --onnx FILE`: a saved agent's policy as an ONNX model.</summary>
public static class ExportCommand
{
    /// <summary>Runs `tiny export args...` (the arguments after "export") in-process; 0 on success, 2 on bad input
    /// (missing RUN or --onnx, a diverged or corrupt run, a path that cannot be written) with one line on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Program.Run(["export", .. args], stdout, stderr);

    /// <summary>The `export` command: RUN and --onnx.</summary>
    internal static Command Build()
    {
        var run = new Argument<string?>("RUN") { Description = "a folder written by tiny train", Arity = ArgumentArity.ZeroOrOne };
        var onnx = CliParsing.Value("--onnx", "FILE.onnx", "write the policy as an ONNX model (opset 13) to FILE.onnx (its folder is created; an existing file is replaced)", t => t);
        var assembly = AssemblyOption.Create(AssemblyOption.ForRun);
        var export = new Command("export", "export a saved run's policy") { run, onnx, assembly };
        void Help(TextWriter w)
        {
            w.WriteLine("usage: tiny export RUN --onnx FILE.onnx");
            w.WriteLine("  writes the policy of the agent tiny train saved in RUN as an ONNX model: input obs [batch, ...observation shape];");
            w.WriteLine("  output logits (ppo, discrete actions), q_values (dqn) or action (ppo's mean action, td3's tanh(actor) * scale + bias);");
            w.WriteLine("  ppo's observation normalisation is folded in");
            w.WriteLine(CliParsing.Row(onnx));
            w.WriteLine(CliParsing.Row(assembly));
        }
        export.Options.Add(CliParsing.Help((_, w) => Help(w)));
        export.SetAction(r =>
        {
            if (r.GetValue(run) is not { } dir)
            {
                if (r.Tokens.Count > 1) throw new CliError("missing RUN (a folder written by tiny train)");
                Help(r.InvocationConfiguration.Error);   // `tiny export` alone: the usage, as an error
                return Program.Error;
            }
            string path = r.GetValue(onnx) ?? throw new CliError("--onnx is required (the ONNX file to write)");
            AssemblyOption.LoadForRun(dir, r.GetValue(assembly));
            return Export(dir, path, r.InvocationConfiguration.Output);
        });
        return export;
    }

    private static int Export(string dir, string path, TextWriter stdout)
    {
        if (EvalCommand.Diverged(Path.Combine(dir, "config.json")) is { } d)
            throw new CliError($"{dir} is a run that diverged at step {d["step"]} ({d["what"]} not finite): there is no model to export");
        if (Directory.Exists(path)) throw new CliError($"--onnx {path}: is a folder; name the file to write");
        var agent = Agents.Load(dir);
        var ps = agent.NamedParameters().ToList();
        int bad = Tiny.Optim.Finite.FirstNonFinite(ps.Select(p => p.Value).ToList());
        if (bad >= 0) throw new CliError($"{dir}: the model's parameter {ps[bad].Key} holds NaN or infinite values; it cannot be exported");
        try { OnnxExport.Export(agent, path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"--onnx {path}: cannot write there ({Program.OneLine(e)})");
        }
        stdout.WriteLine($"{agent.Algorithm} on {agent.EnvId}: {OnnxExport.Describe(agent)} (ONNX opset {OnnxExport.Opset}) -> {path}");
        return Program.Ok;
    }
}
