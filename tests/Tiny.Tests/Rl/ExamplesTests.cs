// The examples of a user's env and network run, not only build: each entry point runs in-process with a small budget
// and its output is checked (CustomEnv: the user's env trains and the saved run evaluates, also through `tiny eval`;
// CustomPolicy: the agents' networks are the user's Module and every one of its tensors was trained).
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Tiny.Tests.Rl;

[NonParallelizable]   // Console.Out is redirected while an example runs
public sealed class ExamplesTests() : CliRunFixture("examples")
{
    /// <summary>Runs the entry point of the example assembly holding type with args; returns what it printed.</summary>
    private static string RunExample(Type inExample, params string[] args)
    {
        var entry = inExample.Assembly.EntryPoint ?? throw new InvalidOperationException($"{inExample.Assembly.GetName().Name} has no entry point");
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try { entry.Invoke(null, [args]); }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null) { throw e.InnerException; }
        finally { Console.SetOut(console); }
        TestContext.Out.WriteLine(output.ToString());
        return output.ToString();
    }

    private static double Number(string text, string pattern) =>
        double.Parse(Regex.Match(text, pattern) is { Success: true } m ? m.Groups[1].Value : throw new AssertionException($"no '{pattern}' in:\n{text}"), CultureInfo.InvariantCulture);

    [Test]
    public void CustomEnv_trains_ppo_on_the_users_env_and_the_saved_run_evaluates()
    {
        string run = Dir();
        string output = RunExample(typeof(CustomEnvExample.MyEnvs), "20480", run);
        double mean = Number(output, @"eval: mean return (-?[\d.]+) over 50 episodes");
        Assert.That(mean, Is.GreaterThan(0.3), "the slippery corridor is learnt (the best policy, always right: 0.49; a random walk: below 0)");

        // The run names the example's assembly, so the command finds the env again.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That(config["assemblies"]![0]!.GetValue<string>(), Is.EqualTo(typeof(CustomEnvExample.MyEnvs).Assembly.Location));
        var (code, stdout, err) = Tiny(default, "eval", run, "--episodes", "50", "--seed", "1000");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Number(stdout, @"return (-?[\d.]+) \+-"), Is.EqualTo(mean).Within(0.005), "tiny eval: the example's own evaluation");
    }

    [Test]
    public void CustomPolicy_trains_the_users_module_in_ppo_dqn_and_td3()
    {
        string output = RunExample(typeof(CustomPolicyExample.ResidualMlp), "20000", Dir());
        foreach (var agent in new[] { "ppo", "dqn", "td3" })
        {
            var m = Regex.Match(output, $@"{agent}: ResidualMlp \((\d+) parameters\), (\d+) of (\d+) tensors trained");
            Assert.That(m.Success, $"{agent}'s line in:\n{output}");
            Assert.That(m.Groups[2].Value, Is.EqualTo(m.Groups[3].Value), $"{agent}: every tensor of the user's networks was trained");
        }
        Assert.That(output, Does.Contain("dqn: reloaded ResidualMlp").And.Contain("acts the same: True"));
        Assert.That(Number(output, @"ppo: ResidualMlp .* greedy return ([\d.]+)"), Is.GreaterThan(100), "20k steps of PPO learn CartPole well past random (22)");
    }
}
