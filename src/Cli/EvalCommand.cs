// `tiny eval RUN [--episodes N] [--seed N] [--json] [--render FILE.png] [--device D] [--assembly FILE.dll]`: deterministic
// episodes of a saved agent; mean and std of the return; --render draws the first episode of a MinAtar agent as a PNG
// strip of frames; a plugin's env or network comes from the assemblies RUN/config.json names (or --assembly).
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tiny.Rl;

namespace Tiny.Cli;

/// <summary>`tiny eval RUN`: deterministic episodes of a saved agent.</summary>
public static class EvalCommand
{
    /// <summary>Runs `tiny eval args...` (the arguments after "eval") in-process; 0 on success, 2 on bad input (unknown
    /// flag, bad number, missing or corrupt RUN) with one line on stderr.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Program.Run(["eval", .. args], stdout, stderr);

    /// <summary>The "diverged" record of a run's config.json, or null (also for a missing or corrupt file: loading the
    /// run reports those; tiny export asks too).</summary>
    internal static System.Text.Json.Nodes.JsonNode? Diverged(string cfgPath)
    {
        try { return File.Exists(cfgPath) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(cfgPath))?["diverged"] : null; }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }
    }

    /// <summary>The `eval` command: RUN and its options.</summary>
    internal static Command Build()
    {
        var run = new Argument<string?>("RUN") { Description = "a folder written by tiny train", Arity = ArgumentArity.ZeroOrOne };
        var episodes = CliParsing.Value("--episodes", "N", "deterministic episodes (greedy / mean action); episode i resets with seed + i",
                                        t => (int)Math.Min(int.MaxValue, CliParsing.Positive(t, "--episodes")));
        episodes.DefaultValueFactory = _ => 100;
        var seed = CliParsing.Value("--seed", "N", "seed of the first episode's reset", t => CliParsing.Int(t, "--seed"));
        seed.DefaultValueFactory = _ => 0;
        var json = CliParsing.Switch("--json", "also print {mean, std, episodes} as JSON, the last line");
        var render = CliParsing.Value("--render", "FILE.png", $"MinAtar envs only: the first episode's frames (at most {MaxRenderFrames}) as one PNG", t => t);
        var device = DeviceOption.Create("where the agent's network runs (ppo, dqn, td3)");
        device.DefaultValueFactory = _ => "cpu";
        var threads = ThreadsOption.Create();
        var assembly = AssemblyOption.Create(AssemblyOption.ForRun);

        var eval = new Command("eval", "evaluate a saved run") { run, episodes, seed, json, render, device, threads, assembly };
        void Help(TextWriter w)
        {
            w.WriteLine("usage: tiny eval RUN [options]");
            w.WriteLine("  runs deterministic episodes of the agent tiny train saved in RUN; prints the mean and std of the return");
            foreach (var o in new Option[] { episodes, seed, json, render, device, threads, assembly }) w.WriteLine(CliParsing.Row(o));
        }
        eval.Options.Add(CliParsing.Help((_, w) => Help(w)));
        eval.SetAction(r =>
        {
            if (r.GetValue(run) is not { } dir)
            {
                if (r.Tokens.Count > 1) throw new CliError("missing RUN (a folder written by tiny train)");
                Help(r.InvocationConfiguration.Error);   // `tiny eval` alone: the usage, as an error
                return Program.Error;
            }
            AssemblyOption.LoadForRun(dir, r.GetValue(assembly));
            return ThreadsOption.With(r.GetValue(threads), () => Evaluate(dir, r.GetValue(episodes), r.GetValue(seed), r.GetValue(json), r.GetValue(render), r.GetValue(device)!, r.InvocationConfiguration.Output));
        });
        return eval;
    }

    private static int Evaluate(string dir, int episodes, int seed, bool json, string? render, string deviceName, TextWriter stdout)
    {
        string cfgPath = Path.Combine(dir, "config.json");
        if (Diverged(cfgPath) is { } d)
            throw new CliError($"{dir} is a run that diverged at step {d["step"]} ({d["what"]} not finite): there is no model to evaluate");
        var agent = Agents.Load(dir);
        var ps = agent.NamedParameters().ToList();
        int bad = Tiny.Optim.Finite.FirstNonFinite(ps.Select(p => p.Value).ToList());
        if (bad >= 0) throw new CliError($"{dir}: the model's parameter {ps[bad].Key} holds NaN or infinite values; it cannot be evaluated");
        var device = DeviceOption.Resolve(deviceName);
        agent.To(device);   // where it already is: nothing moves
        List<float[]>? frames = null;
        if (render is not null)
        {
            if (!agent.EnvId.StartsWith("MinAtar/", StringComparison.Ordinal))
                throw new CliError($"--render draws MinAtar envs only; this agent was trained on {agent.EnvId}");
            frames = [];
        }
        var returns = Evaluate(agent, episodes, seed, frames);
        double mean = returns.Average();
        double std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Length);
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"{agent.Algorithm} on {agent.EnvId}: {episodes} episodes, return {mean.ToString("F2", inv)} +- {std.ToString("F2", inv)} (min {returns.Min().ToString("F1", inv)}, max {returns.Max().ToString("F1", inv)})");
        if (frames is not null)
        {
            MinAtarRender.SavePng(frames, render!, scale: 8, columns: 20);
            stdout.WriteLine($"rendered the first episode ({frames.Count} frames{(frames.Count >= MaxRenderFrames ? ", cut" : "")}) -> {render}");
        }
        if (json)
            stdout.WriteLine(JsonSerializer.Serialize(new { mean, std, episodes }));
        return 0;
    }

    /// <summary>Most frames --render draws (a good Breakout agent can play for very long).</summary>
    public const int MaxRenderFrames = 1000;

    /// <summary>Returns of deterministic episodes; episode i resets with seed + i; frames (when given) collects episode 0's observations.</summary>
    public static double[] Evaluate(IAgent agent, int episodes, int seed, List<float[]>? frames = null)
    {
        using var env = Env.Make(agent.EnvId);
        bool discrete = env.ActionSpace is Discrete;
        var returns = new double[episodes];
        for (int ep = 0; ep < episodes; ep++)
        {
            var obs = env.Reset(seed + ep);
            double total = 0;
            while (true)
            {
                if (ep == 0 && frames is not null && frames.Count < MaxRenderFrames) frames.Add(obs.ToArray());
                var action = agent.Act(obs);
                var r = discrete ? env.Step((int)action[0]) : env.Step(action);
                total += r.Reward;
                obs = r.Observation;
                if (r.Terminated || r.Truncated) break;
            }
            if (ep == 0 && frames is not null && frames.Count < MaxRenderFrames) frames.Add(obs.ToArray());   // the last frame
            returns[ep] = total;
        }
        return returns;
    }
}
