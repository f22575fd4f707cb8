// `tiny train --threads N` and `tiny eval --threads N`: the thread count changes speed, never results, so runs on 1 and
// 2 threads write the same bytes, a run resumes on another count, and the setting does not outlive the command.
using NUnit.Framework;
using Tiny.Cpu;

namespace Tiny.Tests.Rl;

public class CliThreadsTests() : CliRunFixture("threads")
{
    // TD3's default 400-300 nets at batch 256: the critic's products (256x400x300 = 30.7M multiply-adds) are far above
    // the GEMM's one-thread limit (1.5M), so --threads 2 splits them across two threads.
    private static readonly string[] Td3 = ["train", "td3", "--env", "Pendulum-v1", "--total-steps", "700", "--learning-starts", "300", "--seed", "3"];

    [Test]
    public void One_and_two_threads_train_the_same_run_and_a_run_resumes_on_another_count()
    {
        int before = Gemm.MaxThreads;
        string one = Dir(), two = Dir(), resumed = Dir();
        var (code, _, err) = Tiny(default, [.. Td3, "--threads", "1", "--out", one]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Gemm.MaxThreads, Is.EqualTo(before), "the command restores the setting");
        (code, _, err) = Tiny(default, [.. Td3, "--threads", "2", "--out", two]);
        Assert.That(code, Is.EqualTo(0), err);
        CliResumeTests.AssertSameRun(two, one);

        // Stopped part-way on two threads (Ctrl-C as a token), resumed on one: the uninterrupted run's bytes.
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1.5)))
        {
            (code, var stdout, err) = Tiny(cts.Token, [.. Td3, "--threads", "2", "--out", resumed]);
            Assert.That(code, Is.EqualTo(0), err);
            if (!stdout.Contains("stopped early")) Assert.Inconclusive("the run finished before it was stopped: " + stdout);
        }
        (code, var resumedOut, err) = Tiny(default, "train", "--resume", resumed, "--threads", "1");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(resumedOut, Does.Contain("resumed at step"));
        CliResumeTests.AssertSameRun(resumed, one);

        // Eval takes it too, with the same returns on any count.
        var (c1, out1, e1) = Tiny(default, "eval", one, "--episodes", "2", "--threads", "1");
        var (c2, out2, e2) = Tiny(default, "eval", one, "--episodes", "2", "--threads", "2");
        Assert.That((c1, c2), Is.EqualTo((0, 0)), e1 + e2);
        Assert.That(out2, Is.EqualTo(out1));
        Assert.That(Gemm.MaxThreads, Is.EqualTo(before));
    }
}
