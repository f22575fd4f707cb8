// `tiny train --threads N` and `tiny eval --threads N`: the thread count changes speed, never results, so runs on 1 and
// 2 threads write the same bytes, a run resumes on another count, and the setting does not outlive the command.
using NUnit.Framework;
using Tiny.Cpu;

namespace Tiny.Tests.Rl;

public class CliThreadsTests() : CliRunFixture("threads")
{
    // TD3's default 400-300 nets at batch 256: the critic's products (256x400x300 = 30.7M multiply-adds) are far above
    // the GEMM's one-thread limit (300K), so --threads 2 splits them across two threads.
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

    /// <summary>Without --threads a run of small nets gets one thread (PPO's 64-64 at minibatch 128: 0.5M multiply-adds
    /// in its largest product, DQN MinAtar's 1024-128 at batch 32: 4.2M, both faster so), TD3's 400-300 at batch 256
    /// (30.7M) all cores; the header says which, --threads wins, and the setting does not outlive the command.</summary>
    [Test]
    public void Without_threads_small_nets_run_on_one_thread_and_td3_on_all_cores()
    {
        int before = Gemm.MaxThreads;
        string Header(params string[] args)
        {
            var (code, stdout, err) = Tiny(default, [.. args, "--out", Dir()]);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(Gemm.MaxThreads, Is.EqualTo(before), "the command restores the setting");
            return stdout.Split('\n')[0];
        }
        string all = Environment.ProcessorCount == 1 ? "(1 thread)" : $"({Environment.ProcessorCount} threads)";
        Assert.That(Header("train", "ppo", "--env", "CartPole-v1", "--total-steps", "512"), Does.Contain("device cpu (1 thread)"));
        Assert.That(Header("train", "dqn", "--env", "MinAtar/Breakout-v1", "--total-steps", "40", "--learning-starts", "32"), Does.Contain("device cpu (1 thread)"));
        Assert.That(Header(Td3), Does.Contain($"device cpu {all}"));
        Assert.That(Header("train", "ppo", "--env", "CartPole-v1", "--total-steps", "512", "--threads", "3"), Does.Contain("device cpu (3 threads)"));
    }
}
