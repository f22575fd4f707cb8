// `tiny train ... --internals [every=N]` and `tiny inspect RUN...`: internals.csv in long format on every N-th update,
// a recorded run trains exactly as an unrecorded one, a stopped or killed run resumes into the uninterrupted run's
// internals.csv, and inspect draws one or several runs (or says in one line why not).
using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;
using Tiny.Cli;

namespace Tiny.Tests.Rl;

public class CliInternalsTests() : CliRunFixture("internals")
{
    /// <summary>A short DQN run: 1000 steps of warm-up, then an update every 2 steps (999 updates in 3000 steps).</summary>
    private static string[] DqnRun(int totalSteps) => ["train", "dqn", "--env", "CartPole-v1", "--total-steps", totalSteps.ToString(CultureInfo.InvariantCulture),
                                                        "--learning-starts", "1000", "--buffer-size", "2000", "--train-frequency", "2"];

    private static readonly string[] Dqn = DqnRun(3000);

    [Test]
    public void A_recorded_run_writes_internals_every_n_updates_and_trains_as_the_unrecorded_one()
    {
        string plain = Dir(), recorded = Dir();
        var (code, _, err) = Tiny(default, [.. Dqn, "--optimizer", "alphagrad:momentum=0.9", "--out", plain]);
        Assert.That(code, Is.EqualTo(0), err);
        (code, var stdout, err) = Tiny(default, [.. Dqn, "--optimizer", "alphagrad:momentum=0.9", "--internals", "every=7", "--out", recorded]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain("internals.csv"));
        Assert.That(stdout, Does.Match(@"internals 143 records \d+\.\d\ds \(\+\d+\.\d%\)"), "the summary states what recording cost (999 updates, every 7th)");
        CliResumeTests.AssertSameRun(recorded, plain);
        Assert.That(File.Exists(Path.Combine(plain, "internals.csv")), Is.False);

        var lines = File.ReadAllLines(Path.Combine(recorded, "internals.csv"));
        Assert.That(lines[0], Is.EqualTo("step,tensor,metric,value"));
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        // DQN updates in the steps numbered 1002, 1004, ... 2998 from 0 (> learning_starts, % 2 == 0), when 1003, 1005, ...
        // 2999 env steps have been taken (metrics.csv's global_step): records on updates 1, 8, 15...
        var updateSteps = Enumerable.Range(0, 999).Select(i => 1003L + 2 * i).ToList();
        var expected = updateSteps.Where((_, i) => i % 7 == 0).ToList();
        Assert.That(rows.Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).Distinct(), Is.EqualTo(expected));
        string[] tensors = ["q_network.0.weight", "q_network.0.bias", "q_network.2.weight", "q_network.2.bias", "q_network.4.weight", "q_network.4.bias"];
        Assert.That(rows.Select(r => r[1]).Distinct(), Is.EqualTo(tensors));
        Assert.That(rows.Where(r => r[0] == "1003" && r[1] == tensors[0]).Select(r => r[2]),
                    Is.EqualTo(new[] { "grad_norm", "update_norm", "param_norm", "update_ratio", "update_cos", "saturated", "tanh_arg_max", "momentum_norm" }));
        Assert.That(rows.All(r => double.TryParse(r[3], NumberStyles.Float, CultureInfo.InvariantCulture, out _)));

        // Bare --internals: every 10 updates.
        string bare = Dir();
        (code, _, err) = Tiny(default, [.. DqnRun(1100), "--internals", "--out", bare]);
        Assert.That(code, Is.EqualTo(0), err);
        var steps = File.ReadAllLines(Path.Combine(bare, "internals.csv")).Skip(1).Select(l => l.Split(',')[0]).Distinct();
        Assert.That(steps, Is.EqualTo(new[] { "1003", "1023", "1043", "1063", "1083" }));
    }

    /// <summary>The internals' step is metrics.csv's global_step (env steps taken when the update ran): every metrics.csv
    /// row of losses (not an episode's) comes from an update, so with every=1 a record stands at its step. DQN logs its td_loss at the
    /// update of step 1100 (from 0), TD3 its losses at 400, both as global_step 1101 and 401.</summary>
    [TestCase("dqn", "td_loss"), TestCase("td3", "qf_loss")]
    public void The_internals_steps_are_the_global_steps_of_metrics_csv(string algo, string loss)
    {
        string[] args = algo == "dqn" ? [.. DqnRun(1300), "--internals", "every=1"]
            : ["train", "td3", "--env", "Pendulum-v1", "--total-steps", "700", "--learning-starts", "300", "--actor-hidden-sizes", "16",
               "--critic-hidden-sizes", "16", "--internals", "every=1"];
        string run = Dir();
        var (code, _, err) = Tiny(default, [.. args, "--out", run]);
        Assert.That(code, Is.EqualTo(0), err);
        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        int column = Array.IndexOf(metrics[0].Split(','), loss);
        Assert.That(column, Is.GreaterThan(0), metrics[0]);
        var logged = metrics.Skip(1).Select(l => l.Split(',')).Where(r => r[1] == "" && r[column] != "").Select(r => long.Parse(r[0], CultureInfo.InvariantCulture)).ToList();
        Assert.That(logged, Is.EqualTo(algo == "dqn" ? new long[] { 1101, 1201 } : [401, 501, 601]), "the updates metrics.csv logs");
        var recorded = File.ReadAllLines(Path.Combine(run, "internals.csv")).Skip(1).Select(l => long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToHashSet();
        Assert.That(logged, Is.SubsetOf(recorded), "a record at each logged update's global_step");
        // The first update runs in step learning_starts + 1 (from 0; DQN: the next even one), when learning_starts + 2 (+ 3) steps are taken.
        Assert.That(recorded.Min(), Is.EqualTo(algo == "dqn" ? 1003 : 302));
    }

    [TestCase("every=0"), TestCase("every=x"), TestCase("-3")]
    public void A_bad_internals_value_is_one_line_and_exit_2(string value)
    {
        string run = Dir();
        var (code, _, err) = Tiny(default, [.. Dqn, "--internals", value, "--out", run]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.Contain("--internals"));
        Assert.That(Directory.Exists(run), Is.False, "nothing written");
    }

    [Test]
    public void A_stopped_run_resumes_into_the_uninterrupted_runs_internals()
    {
        string[] run = [.. DqnRun(6000), "--optimizer", "adabound", "--internals", "every=3"];
        string whole = Dir(), stopped = Dir();
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);
        // Stopped (as by Ctrl-C) once its rows so far pass a random share, 20-60%, of the whole run's.
        long total = new FileInfo(Path.Combine(whole, "internals.csv")).Length, at = (long)(total * (0.2 + 0.4 * new Random().NextDouble()));
        using (var cts = new CancellationTokenSource())
        {
            string part = Path.Combine(stopped, "internals.csv.part");
            var watch = Task.Run(() =>
            {
                while (!cts.IsCancellationRequested && !(File.Exists(part) && new FileInfo(part).Length >= at)) Thread.Sleep(1);
                cts.Cancel();
            });
            (code, var stdout, err) = Tiny(cts.Token, [.. run, "--out", stopped]);
            cts.Cancel();
            watch.Wait();
            Assert.That(code, Is.EqualTo(0), err);
            if (!stdout.Contains("stopped early")) Assert.Inconclusive("the run finished before it was stopped: " + stdout);
        }
        Assert.That(File.Exists(Path.Combine(stopped, "internals.csv")), "a stopped run writes what it recorded");
        Assert.That(Tiny(default, "train", "--resume", stopped, "--internals").Err, Does.Contain("--internals"), "a resumed run records as it was started");
        (code, _, err) = Tiny(default, "train", "--resume", stopped);
        Assert.That(code, Is.EqualTo(0), err);
        CliResumeTests.AssertSameRun(stopped, whole);
        Assert.That(File.ReadAllText(Path.Combine(stopped, "internals.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, "internals.csv"))));
    }

    /// <summary>kill -9 after a periodic checkpoint: the rows written past it are cut, the rest continue exactly.</summary>
    [Test]
    public void A_killed_run_resumes_into_the_uninterrupted_runs_internals()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("kill -9: Linux only");
        string[] run = ["train", "dqn", "--env", "CartPole-v1", "--total-steps", "30000", "--learning-starts", "1000", "--buffer-size", "3000", "--internals", "every=2"];
        string whole = Dir(), killed = Dir();
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);

        string tiny = Path.Combine(AppContext.BaseDirectory, "tiny.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", tiny, .. run, "--out", killed, "--checkpoint-every", "3000"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var child = Process.Start(psi)!;
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (!Directory.Exists(Path.Combine(killed, "checkpoint")) && sw.Elapsed < TimeSpan.FromSeconds(90) && !child.HasExited) Thread.Sleep(20);
        Thread.Sleep(new Random().Next(100, 400));
        if (child.HasExited) Assert.Inconclusive("the run finished before it was killed");
        child.Kill();
        child.WaitForExit();
        Assert.That(File.Exists(Path.Combine(killed, "internals.csv.part")), "a killed run leaves its rows so far");

        (code, _, err) = Tiny(default, "train", "--resume", killed);
        Assert.That(code, Is.EqualTo(0), err);
        CliResumeTests.AssertSameRun(killed, whole);
        Assert.That(File.ReadAllText(Path.Combine(killed, "internals.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, "internals.csv"))));
        Assert.That(File.Exists(Path.Combine(killed, "internals.csv.part")), Is.False);
    }

    [Test]
    public void Inspect_draws_one_run_or_several_side_by_side()
    {
        string adam = Dir(), alphagrad = Dir();
        Assert.That(Tiny(default, [.. Dqn, "--internals", "every=20", "--out", adam]).Code, Is.EqualTo(0));
        Assert.That(Tiny(default, [.. Dqn, "--optimizer", "alphagrad", "--internals", "every=20", "--out", alphagrad]).Code, Is.EqualTo(0));

        var (code, stdout, err) = Tiny(default, "inspect", adam);
        Assert.That(code, Is.EqualTo(0), err);
        string png = Path.Combine(adam, "internals.png");
        Assert.That(stdout, Does.Contain(png));
        Assert.That(File.ReadAllBytes(png).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));

        string both = Path.Combine(Dir(), "both.png");
        (code, stdout, err) = Tiny(default, "inspect", adam, alphagrad, "--out", both);
        Assert.That(code, Is.EqualTo(0), err);
        // Return, grad_norm, update_ratio, update_cos, then Adam's step and momentum_norm, then AlphaGrad's saturated and tanh_arg_max.
        Assert.That(stdout, Does.Contain("2 runs, 8 rows of panels"));
        Assert.That(File.Exists(both));

        string empty = Dir();
        Directory.CreateDirectory(empty);
        (code, _, err) = Tiny(default, "inspect", empty);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(err, Does.Contain("--internals"));
    }
}
