// `tiny train --resume` and `--checkpoint-every` through the command: a run stopped at a random moment (or killed
// with SIGKILL after a periodic checkpoint) and resumed ends with the uninterrupted run's model bytes and metrics rows.
using System.Diagnostics;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public class CliResumeTests() : CliRunFixture("resume")
{
    /// <summary>metrics.csv without its wall_time column (the only thing a pause may change) and model.safetensors.</summary>
    internal static void AssertSameRun(string resumed, string whole)
    {
        static string[] Rows(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.csv"))
            .Select(l => l[..l.LastIndexOf(',')]).ToArray();
        var (a, b) = (Rows(resumed), Rows(whole));
        Assert.That(a[0], Does.Contain("lr"), "the header");
        Assert.That(a.Length, Is.EqualTo(b.Length), "metrics rows");
        for (int i = 0; i < a.Length; i++) Assert.That(a[i], Is.EqualTo(b[i]), $"metrics.csv row {i}");
        Assert.That(File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(whole, "model.safetensors"))), "model bytes");
    }

    public static IEnumerable<TestCaseData> Runs()
    {
        yield return new TestCaseData((object)new[] { "train", "ppo", "--env", "CartPole-v1", "--total-steps", "100000", "--optimizer", "alphagrad:alpha=2,momentum=0.9" }).SetArgDisplayNames("ppo alphagrad");
        yield return new TestCaseData((object)new[] { "train", "dqn", "--env", "CartPole-v1", "--total-steps", "6000", "--learning-starts", "1000", "--buffer-size", "2000", "--train-frequency", "2", "--optimizer", "adabound" }).SetArgDisplayNames("dqn adabound");
        yield return new TestCaseData((object)new[] { "train", "td3", "--env", "Pendulum-v1", "--total-steps", "3000", "--learning-starts", "300", "--actor-hidden-sizes", "32", "--critic-hidden-sizes", "32", "--optimizer", "lion" }).SetArgDisplayNames("td3 lion");
        yield return new TestCaseData((object)new[] { "train", "td3", "--env", "Pendulum-v1", "--total-steps", "3000", "--learning-starts", "300", "--actor-hidden-sizes", "32", "--critic-hidden-sizes", "32", "--noise-type", "ornstein-uhlenbeck", "--exploration-noise", "0.5" }).SetArgDisplayNames("td3 ornstein-uhlenbeck");
    }

    [TestCaseSource(nameof(Runs))]
    public void A_run_stopped_at_a_random_moment_resumes_to_the_uninterrupted_result(string[] run)
    {
        string whole = Dir(), stopped = Dir();
        var clock = Stopwatch.StartNew();
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);

        // Stopped from outside (as Ctrl-C) at a random moment of the run's length, then resumed to the end.
        double fraction = 0.15 + 0.4 * new Random().NextDouble();
        TestContext.Out.WriteLine($"stopping after {fraction:P0} of {clock.Elapsed.TotalSeconds:F1} s");
        using (var cts = new CancellationTokenSource(clock.Elapsed * fraction))
        {
            (code, var stdout, err) = Tiny(cts.Token, [.. run, "--out", stopped]);
            Assert.That(code, Is.EqualTo(0), err);
            if (!stdout.Contains("stopped early")) Assert.Inconclusive("the run finished before it was stopped: " + stdout);
            Assert.That(stdout, Does.Contain("resume: ").And.Contain("--resume " + stopped));
        }
        Assert.That(Directory.Exists(Path.Combine(stopped, "checkpoint")), "a stopped run keeps a checkpoint");
        (code, var resumedOut, err) = Tiny(default, "train", "--resume", stopped);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(resumedOut, Does.Contain("resumed at step").And.Contain("done"));
        AssertSameRun(stopped, whole);
        Assert.That(Directory.Exists(Path.Combine(stopped, "checkpoint")), Is.False, "a finished run keeps no checkpoint");

        (code, _, err) = Tiny(default, "train", "--resume", stopped);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.Contain("no checkpoint"));
    }

    /// <summary>kill -9 in a child process after a periodic checkpoint: resume from it ends as the uninterrupted run.</summary>
    [Test]
    public void A_killed_run_resumes_from_its_last_periodic_checkpoint()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("kill -9: Linux only");
        string[] run = ["train", "dqn", "--env", "CartPole-v1", "--total-steps", "30000", "--learning-starts", "1000", "--buffer-size", "3000"];
        string whole = Dir(), killed = Dir();
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);

        string tiny = Path.Combine(AppContext.BaseDirectory, "tiny.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", tiny, .. run, "--out", killed, "--checkpoint-every", "2000"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var child = Process.Start(psi)!;
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (!Directory.Exists(Path.Combine(killed, "checkpoint")) && sw.Elapsed < TimeSpan.FromSeconds(90) && !child.HasExited) Thread.Sleep(20);
        Thread.Sleep(new Random().Next(0, 300));   // anywhere, even inside the next checkpoint's swap
        if (child.HasExited) Assert.Inconclusive("the run finished before it was killed");
        child.Kill();                              // SIGKILL: no handler runs
        child.WaitForExit();
        Assert.That(Directory.Exists(Path.Combine(killed, "checkpoint")) || Directory.Exists(Path.Combine(killed, "checkpoint.old")), "a checkpoint survives the kill");

        (code, var stdout, err) = Tiny(default, "train", "--resume", killed);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("resumed at step"));
        AssertSameRun(killed, whole);
    }

    [Test]
    public void A_diverged_run_keeps_its_last_finite_checkpoint_and_resuming_it_diverges_again()
    {
        string dir = Dir();
        string[] run = ["train", "ppo", "--env", "CartPole-v1", "--optimizer", "sgd", "--lr", "0.5", "--max-grad-norm", "0", "--total-steps", "20480", "--out", dir, "--checkpoint-every", "512"];
        var (code, _, err) = Tiny(default, run);
        Assert.That(code, Is.EqualTo(Program.Diverged), err);
        Assert.That(File.Exists(Path.Combine(dir, "model.safetensors")), Is.False);
        if (!Directory.Exists(Path.Combine(dir, "checkpoint"))) Assert.Inconclusive("diverged before the first checkpoint");
        // The checkpoint holds finite parameters (it was written before the divergence); resuming re-runs into it.
        (code, _, err) = Tiny(default, "train", "--resume", dir);
        Assert.That(code, Is.EqualTo(Program.Diverged), err);
        Assert.That(err, Does.Contain("diverged at step"));
    }
}
