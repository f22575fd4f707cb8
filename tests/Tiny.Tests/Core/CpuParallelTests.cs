// Tests that a fused elementwise pass split over threads (CpuParallel) gives the bits of one pass on one thread.
using NUnit.Framework;
using Tiny.Cpu;

namespace Tiny.Tests.Core;

[NonParallelizable]   // Gemm.MaxThreads is process-wide
public sealed class CpuParallelTests
{
    [TearDown]
    public void Restore() => Gemm.MaxThreads = Environment.ProcessorCount;

    private static float[] AdamSteps(int n, int threads)
    {
        Gemm.MaxThreads = threads;
        var p = Tensor.Uniform([n], -1, 1, new Rng(1));
        p.RequiresGrad = true;
        var opt = new Tiny.Optim.Adam([p], lr: 1e-3);
        var rng = new Rng(2);
        for (int step = 0; step < 3; step++)
        {
            opt.ZeroGrad();
            (p * Tensor.Uniform([n], -1, 1, rng)).Sum().Backward();   // gradient: the uniform draws, exactly
            opt.Step();
        }
        return p.ToArray();
    }

    // 2, 4 and 8 threads: chunks of a multiple of 64 elements, the last one shorter with a scalar tail (n odd).
    [TestCase(4 * CpuParallel.MinPerThread + 13)]
    [TestCase(8 * CpuParallel.MinPerThread + 1000)]
    public void AdamSplitOverThreads_SameBits(int n)
    {
        var one = AdamSteps(n, 1);
        foreach (int threads in new[] { 2, 4, 8 })
        {
            Assert.That(AdamSteps(n, threads), Is.EqualTo(one), $"{threads} threads");
            Assert.That(CpuParallel.Threads(n), Is.EqualTo(Math.Min(threads, n / CpuParallel.MinPerThread)), "the pass was split");
        }
    }

    [Test]
    public void PolyakSplitOverThreads_SameBits()
    {
        int n = 3 * CpuParallel.MinPerThread + 5;
        float[] Run(int threads)
        {
            Gemm.MaxThreads = threads;
            var target = Tensor.Uniform([n], -1, 1, new Rng(4));
            var source = Tensor.Uniform([n], -1, 1, new Rng(5));
            Tiny.Rl.OffPolicy.SoftUpdate([target], [source], 0.005);
            return target.ToArray();
        }
        var one = Run(1);
        Assert.That(Run(3), Is.EqualTo(one));
        Assert.That(Run(2), Is.EqualTo(one));
    }
}
