// `tiny eval DIR [--episodes N] [--seed N] [--json] [--render FILE.png]`: deterministic episodes of a saved agent; mean and
// std of the return; --render draws the first episode of a MinAtar agent as a PNG strip of frames.
using System.Globalization;
using System.Text.Json;
using Tiny.Rl;

namespace Tiny.Cli;

public static class EvalCommand
{
    private sealed class CliError(string message) : Exception(message);

    /// <summary>Runs the command; 0 on success, 2 on bad input (unknown flag, bad number, missing or corrupt DIR).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return RunCore(args, args.Length == 0 ? stderr : stdout);   // usage asked for: stdout; a missing DIR: stderr
        }
        catch (Exception e) when (e is CliError or ArgumentException or NotSupportedException or IOException or InvalidDataException or JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            stderr.WriteLine($"tiny eval: error: {e.Message}");
            return 2;
        }
    }

    /// <summary>The "diverged" record of a run's config.json, or null (also for a missing or corrupt file: loading the
    /// run reports those).</summary>
    private static System.Text.Json.Nodes.JsonNode? Diverged(string cfgPath)
    {
        try { return File.Exists(cfgPath) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(cfgPath))?["diverged"] : null; }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }
    }

    private static int RunCore(string[] args, TextWriter stdout)
    {
        if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
        {
            stdout.WriteLine("usage: tiny eval DIR [--episodes N (100)] [--seed N (0)] [--json] [--render FILE.png] [--device D (cpu)]");
            stdout.WriteLine("  runs N deterministic episodes (greedy / mean action) of the agent saved in DIR by tiny train;");
            stdout.WriteLine("  episode i resets with seed + i; prints the mean and std of the return (--json: as the last line)");
            stdout.WriteLine($"  --render FILE.png: MinAtar envs only; the first episode's frames (at most {MaxRenderFrames}) as one PNG");
            stdout.WriteLine($"  --device D: {DeviceOption.Values}; where the agent's network runs (ppo, dqn, td3)");
            return args.Length == 0 ? 2 : 0;
        }
        string? dir = null;
        int episodes = 100, seed = 0;
        bool json = false;
        string? render = null, deviceName = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new CliError($"{a} needs a value");
            switch (a)
            {
                case "--episodes":
                {
                    string s = Next();
                    if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out episodes) || episodes <= 0)
                        throw new CliError($"--episodes: '{s}' is not a positive integer");
                    break;
                }
                case "--seed":
                {
                    string s = Next();
                    if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed)) throw new CliError($"--seed: '{s}' is not an integer");
                    break;
                }
                case "--json": json = true; break;
                case "--render": render = Next(); break;
                case "--device": deviceName = Next(); break;
                default:
                    if (a.StartsWith("--")) throw new CliError($"unknown option '{a}'");
                    if (dir is not null) throw new CliError($"unexpected argument '{a}' (DIR is '{dir}')");
                    dir = a; break;
            }
        }
        if (dir is null) throw new CliError("missing DIR (a folder written by tiny train)");

        string cfgPath = Path.Combine(dir, "config.json");
        if (Diverged(cfgPath) is { } d)
            throw new CliError($"{dir} is a run that diverged at step {d["step"]} ({d["what"]} not finite): there is no model to evaluate");
        var agent = Agents.Load(dir);
        var ps = agent.NamedParameters().ToList();
        int bad = Tiny.Optim.Finite.FirstNonFinite(ps.Select(p => p.Value).ToList());
        if (bad >= 0) throw new CliError($"{dir}: the model's parameter {ps[bad].Key} holds NaN or infinite values; it cannot be evaluated");
        var device = DeviceOption.Resolve(deviceName ?? "cpu");
        if (device != Device.Cpu) agent.To(device);
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
