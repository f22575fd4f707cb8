// `tiny study SPEC.json | --preset NAME [--out DIR] [--workers N] [--dry-run]`: the command line of a study (StudyRunner
// runs it, StudyReport writes its report).
using System.CommandLine;
using Tiny.Rl.Studies;

namespace Tiny.Cli;

/// <summary>`tiny study`: a grid of runs (agents × envs × optimizers × seeds) as child processes, then its report.</summary>
public static class StudyCommand
{
    /// <summary>Runs `tiny study args...` (the arguments after "study") in-process; ct stops it as a signal would.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default) =>
        Program.Run(["study", .. args], stdout, stderr, ct);

    /// <summary>The `study` command.</summary>
    internal static Command Build(CancellationToken ct)
    {
        var spec = new Argument<string?>("SPEC.json") { Description = "the study: tasks, optimizers (with sweeps), seeds", Arity = ArgumentArity.ZeroOrOne };
        var preset = CliParsing.Value("--preset", "NAME", $"a built-in study instead of SPEC.json: {string.Join(", ", StudySpec.Presets)}", t => t);
        var outDir = CliParsing.Value("--out", "DIR", "the study folder: runs/, logs/, scores.csv, report.md (default studies/NAME)", t => t);
        var workers = CliParsing.Value("--workers", "N", "runs trained at once, each a child process", t => (int)Math.Min(1024, CliParsing.Positive(t, "--workers")));
        workers.DefaultValueFactory = _ => Environment.ProcessorCount;
        var dryRun = CliParsing.Switch("--dry-run", "print the runs and the estimated wall time, run nothing");

        var study = new Command("study", "run a study of optimizers across agents, envs and seeds; writes its report") { spec, preset, outDir, workers, dryRun };
        void Help(TextWriter w)
        {
            w.WriteLine("usage: tiny study SPEC.json [options]");
            w.WriteLine("       tiny study --preset NAME [options]");
            w.WriteLine("  trains every run of the study (tasks x optimizers x seeds) as its own `tiny train` process, evaluates it");
            w.WriteLine("  greedily on seeds disjoint from training, and writes DIR/report.md with figures, DIR/scores.csv (tiny stats");
            w.WriteLine("  reads it), auc.csv and runs.csv. Run the same command again to continue: finished runs are kept, stopped");
            w.WriteLine("  ones resume from their checkpoints. SPEC.json: see README, Studies; presets: " + string.Join(", ", StudySpec.Presets));
            foreach (var o in new Option[] { preset, outDir, workers, dryRun })
                w.WriteLine(CliParsing.Row(o, o == workers ? $"the cores, {Environment.ProcessorCount}" : null));
        }
        study.Options.Add(CliParsing.Help((_, w) => Help(w)));
        study.SetAction(r =>
        {
            string? file = r.GetValue(spec), name = r.GetValue(preset);
            if (file is not null && file.StartsWith('-') && !File.Exists(file))   // the free SPEC.json slot took an unknown flag
                throw new CliError($"unknown option '{file.Split('=')[0]}' for tiny study (tiny study --help lists them)");
            if (file is null && name is null)
            {
                if (r.Tokens.Count > 1) throw new CliError("name the study: tiny study SPEC.json, or tiny study --preset NAME (" + string.Join(", ", StudySpec.Presets) + ")");
                Help(r.InvocationConfiguration.Error);
                return Program.Error;
            }
            if (file is not null && name is not null) throw new CliError($"give SPEC.json or --preset, not both ({file}, --preset {name})");
            var s = file is not null ? StudySpec.Read(file) : StudySpec.Preset(name!);
            string dir = r.GetValue(outDir) ?? Path.Combine("studies", s.Name);
            int n = r.GetValue(workers);
            // The command that reproduces the report (the workers change the wall time, not the numbers).
            string command = $"tiny study {(file is not null ? Quote(file) : $"--preset {name}")} --out {Quote(dir)}";
            return StudyRunner.Execute(s, dir, n, command, r.GetValue(dryRun), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct);
        });
        return study;
    }

    private static string Quote(string s) => s.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or '\\') ? $"'{s.Replace("'", "'\\''")}'" : s;
}
