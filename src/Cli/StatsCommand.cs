// `tiny stats SCORES.csv [--reps N] [--seed S] [--confidence X] [--json]`: rliable's aggregate metrics with
// stratified-bootstrap intervals and P(X > Y) for every pair of algorithms (Tiny.Rl.Studies.StatsReport).
using System.CommandLine;
using Tiny.Rl.Studies;

namespace Tiny.Cli;

/// <summary>`tiny stats SCORES.csv`: aggregate metrics of a study's scores with intervals.</summary>
public static class StatsCommand
{
    /// <summary>Runs `tiny stats args...` (the arguments after "stats") in-process; 0 on success, 2 on bad input (a
    /// missing or malformed CSV, a bad option) with one line on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Program.Run(["stats", .. args], stdout, stderr);

    /// <summary>The `stats` command: SCORES.csv and its options.</summary>
    internal static Command Build()
    {
        var csv = new Argument<string?>("SCORES.csv") { Description = "columns algorithm,task,run,score (scores normalised)", Arity = ArgumentArity.ZeroOrOne };
        var reps = CliParsing.Value("--reps", "N", "bootstrap resamples per interval", t => (int)Math.Min(int.MaxValue, CliParsing.Positive(t, "--reps")));
        reps.DefaultValueFactory = _ => StratifiedBootstrap.DefaultReps;
        var seed = CliParsing.Value("--seed", "N", "seed of the bootstrap (the same seed, the same intervals)", t => CliParsing.Int(t, "--seed"));
        seed.DefaultValueFactory = _ => 0;
        var confidence = CliParsing.Value("--confidence", "X", "confidence level of the intervals, in (0, 1)", t =>
        {
            double v = CliParsing.Number(t, "--confidence");
            return v > 0 && v < 1 ? v : throw new CliError($"--confidence: '{t}' is not in (0, 1)");
        });
        confidence.DefaultValueFactory = _ => StratifiedBootstrap.DefaultConfidence;
        var json = CliParsing.Switch("--json", "print one JSON object instead of the table");

        var stats = new Command("stats", "aggregate metrics of a study's scores with bootstrap intervals") { csv, reps, seed, confidence, json };
        void Help(TextWriter w)
        {
            w.WriteLine("usage: tiny stats SCORES.csv [options]");
            w.WriteLine("  per algorithm: IQM, mean, median and optimality gap with stratified-bootstrap percentile intervals");
            w.WriteLine("  (runs resampled within each task); P(X > Y) for every ordered pair. SCORES.csv: algorithm,task,run,score");
            foreach (var o in new Option[] { reps, seed, confidence, json }) w.WriteLine(CliParsing.Row(o));
        }
        stats.Options.Add(CliParsing.Help((_, w) => Help(w)));
        stats.SetAction(r =>
        {
            if (r.GetValue(csv) is not { } path)
            {
                if (r.Tokens.Count > 1) throw new CliError("missing SCORES.csv (columns algorithm,task,run,score)");
                Help(r.InvocationConfiguration.Error);
                return Program.Error;
            }
            if (path.StartsWith('-') && !File.Exists(path))   // the free SCORES.csv slot took an unknown flag
                throw new CliError($"unknown option '{path.Split('=')[0]}' for tiny stats (tiny stats --help lists them)");
            if (Directory.Exists(path)) throw new CliError($"{path} is a folder, not a scores CSV");
            if (!File.Exists(path)) throw new CliError($"{path}: file not found");
            StatsReport.Run(path, r.GetValue(reps), r.GetValue(seed), r.GetValue(confidence), r.GetValue(json), r.InvocationConfiguration.Output);
            return Program.Ok;
        });
        return stats;
    }
}
