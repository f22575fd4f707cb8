// Tests of Rng: reproducibility, ranges and moments.
using NUnit.Framework;

namespace Tiny.Tests.Core;

public sealed class RngTests
{
    [Test]
    public void SameSeedSameStream()
    {
        var a = new Rng(42); var b = new Rng(42); var c = new Rng(43);
        for (int i = 0; i < 100; i++) Assert.That(a.NextUInt64(), Is.EqualTo(b.NextUInt64()));
        Assert.That(new Rng(42).NextUInt64(), Is.Not.EqualTo(c.NextUInt64()));
    }

    [Test]
    public void UniformAndNormalMoments()
    {
        var rng = new Rng(1);
        const int n = 200_000;
        double sum = 0, sumSq = 0, nsum = 0, nsumSq = 0;
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble();
            Assert.That(u, Is.GreaterThanOrEqualTo(0.0).And.LessThan(1.0));
            sum += u; sumSq += u * u;
            double z = rng.NextNormal(); nsum += z; nsumSq += z * z;
        }
        Assert.That(sum / n, Is.EqualTo(0.5).Within(0.005));
        Assert.That(sumSq / n - (sum / n) * (sum / n), Is.EqualTo(1.0 / 12).Within(0.002));
        Assert.That(nsum / n, Is.EqualTo(0.0).Within(0.01));
        Assert.That(nsumSq / n, Is.EqualTo(1.0).Within(0.02));
    }

    [Test]
    public void NextIntCoversRangeUniformly()
    {
        var rng = new Rng(7);
        var counts = new int[5];
        for (int i = 0; i < 50_000; i++) counts[rng.NextInt(5)]++;
        foreach (int c in counts) Assert.That(c, Is.InRange(9_500, 10_500));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }
}
