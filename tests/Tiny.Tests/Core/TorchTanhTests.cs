// TorchTanh against torch.tanh's bits (tanh_golden.json, gen_tanh_golden.py): scalar, Vector256, Vector512, span, the CPU op, and the fast paths of the float vectors against SLEEF's lanes.
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using NUnit.Framework;
using Tiny.Cpu;

namespace Tiny.Tests.Core;

public sealed class TorchTanhTests
{
    private static (uint[] X, uint[] Y) F32()
    {
        using var doc = TestData.Load("tanh_golden.json");
        var o = doc.RootElement.GetProperty("float32");
        return (Hex(o.GetProperty("x"), s => uint.Parse(s, NumberStyles.HexNumber)), Hex(o.GetProperty("y"), s => uint.Parse(s, NumberStyles.HexNumber)));
    }

    private static (ulong[] X, ulong[] Y) F64()
    {
        using var doc = TestData.Load("tanh_golden.json");
        var o = doc.RootElement.GetProperty("float64");
        return (Hex(o.GetProperty("x"), s => ulong.Parse(s, NumberStyles.HexNumber)), Hex(o.GetProperty("y"), s => ulong.Parse(s, NumberStyles.HexNumber)));
    }

    private static T[] Hex<T>(System.Text.Json.JsonElement a, Func<string, T> parse) => a.EnumerateArray().Select(e => parse(e.GetString()!)).ToArray();

    private static void AssertBits(uint[] xs, uint[] want, Func<float[], float[]> f, string what)
    {
        var x = xs.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var got = f(x);
        var bad = Enumerable.Range(0, x.Length).Where(i => BitConverter.SingleToUInt32Bits(got[i]) != want[i]).ToList();
        Assert.That(bad, Is.Empty, () => $"{what}: {bad.Count}/{x.Length} differ, first: " + string.Join(", ", bad.Take(5).Select(i =>
            $"tanh({x[i]:R} = 0x{xs[i]:x8}) = 0x{BitConverter.SingleToUInt32Bits(got[i]):x8}, torch 0x{want[i]:x8}")));
    }

    private static void AssertBits(ulong[] xs, ulong[] want, Func<double[], double[]> f, string what)
    {
        var x = xs.Select(BitConverter.UInt64BitsToDouble).ToArray();
        var got = f(x);
        var bad = Enumerable.Range(0, x.Length).Where(i => BitConverter.DoubleToUInt64Bits(got[i]) != want[i]).ToList();
        Assert.That(bad, Is.Empty, () => $"{what}: {bad.Count}/{x.Length} differ, first: " + string.Join(", ", bad.Take(5).Select(i =>
            $"tanh({x[i]:R} = 0x{xs[i]:x16}) = 0x{BitConverter.DoubleToUInt64Bits(got[i]):x16}, torch 0x{want[i]:x16}")));
    }

    [Test]
    public void Float32ScalarIsBitExact()
    {
        var (x, y) = F32();
        AssertBits(x, y, a => a.Select(TorchTanh.Tanh).ToArray(), "scalar");
    }

    [Test]
    public void Float64ScalarIsBitExact()
    {
        var (x, y) = F64();
        AssertBits(x, y, a => a.Select(TorchTanh.Tanh).ToArray(), "scalar");
    }

    [Test]
    public void Float32VectorIsBitExact()
    {
        var (x, y) = F32();
        AssertBits(x, y, a =>
        {
            var r = new float[a.Length];
            int i = 0;
            for (; i + 8 <= a.Length; i += 8) TorchTanh.Tanh(Vector256.Create(a, i)).CopyTo(r, i);
            for (; i < a.Length; i++) r[i] = TorchTanh.Tanh(a[i]);
            return r;
        }, "Vector256");
        AssertBits(x, y, a =>
        {
            var r = new float[a.Length];
            int i = 0;
            for (; i + 16 <= a.Length; i += 16) TorchTanh.Tanh(Vector512.Create(a, i)).CopyTo(r, i);
            for (; i < a.Length; i++) r[i] = TorchTanh.Tanh(a[i]);
            return r;
        }, "Vector512");
    }

    [Test]
    public void Float64VectorIsBitExact()
    {
        var (x, y) = F64();
        AssertBits(x, y, a =>
        {
            var r = new double[a.Length];
            int i = 0;
            for (; i + 4 <= a.Length; i += 4) TorchTanh.Tanh(Vector256.Create(a, i)).CopyTo(r, i);
            for (; i < a.Length; i++) r[i] = TorchTanh.Tanh(a[i]);
            return r;
        }, "Vector256");
    }

    [Test]
    public void SpansAndTheCpuOpAreBitExact()
    {
        var (x32, y32) = F32();
        AssertBits(x32, y32, a => { var r = new float[a.Length]; TorchTanh.Tanh(a, r); return r; }, "span float");
        AssertBits(x32, y32, a => Tensor.FromArray(a, [a.Length]).Tanh().DataF.ToArray(), "Tensor.Tanh float32");
        var (x64, y64) = F64();
        AssertBits(x64, y64, a => { var r = new double[a.Length]; TorchTanh.Tanh<double>(a, r); return r; }, "span double");
        AssertBits(x64, y64, a => Tensor.FromArray(a, [a.Length]).Tanh().DataD.ToArray(), "Tensor.Tanh float64");
    }

    [Test]
    public void EveryLengthAndOffsetMatchesTheScalar()
    {
        var rng = new Random(5);
        var x = Enumerable.Range(0, 70).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
        var xd = x.Select(v => (double)v * 1.3).ToArray();
        for (int n = 0; n <= 40; n++)   // vector widths 16, 8 (float), 4 (double) and scalar tails
            for (int off = 0; off < 9; off++)
            {
                var r = new float[n]; TorchTanh.Tanh(x.AsSpan(off, n), r);
                var rd = new double[n]; TorchTanh.Tanh(xd.AsSpan(off, n), rd);
                for (int i = 0; i < n; i++)
                {
                    Assert.That(BitConverter.SingleToUInt32Bits(r[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(TorchTanh.Tanh(x[off + i]))));
                    Assert.That(BitConverter.DoubleToUInt64Bits(rd[i]), Is.EqualTo(BitConverter.DoubleToUInt64Bits(TorchTanh.Tanh(xd[off + i]))));
                }
            }
        var inPlace = (float[])x.Clone();
        TorchTanh.Tanh(inPlace, inPlace);
        Assert.That(inPlace, Is.EqualTo(x.Select(TorchTanh.Tanh).ToArray()));
    }

    // The fast paths of the float vector tanh (TorchTanh.Small, TorchTanh.General) on either width: width 256 runs a
    // sixteen-lane input as two Vector256 halves (AVX2), 512 as one Vector512 (AVX-512). The lanes a path is sure of
    // must hold SLEEF's bits (TorchTanh.Sleef of the same width, itself checked against torch above and in the
    // exhaustive digest test).

    private static readonly Vector512<float> SignMask = Vector512.Create(int.MinValue).AsSingle();

    /// <summary>Ignores the test where the path of this width cannot run at hardware speed.</summary>
    private static void RequireWidth(int width, bool float64Path)
    {
        if (width == 512 && !(float64Path ? System.Runtime.Intrinsics.X86.Avx512F.IsSupported : Vector512.IsHardwareAccelerated))
            Assert.Ignore("no AVX-512 here: the Vector512 path is checked where it runs");
        if (width == 256 && !(float64Path ? System.Runtime.Intrinsics.X86.Avx.IsSupported : Vector256.IsHardwareAccelerated))
            Assert.Ignore("no AVX here");
    }

    /// <summary>f on sixteen lanes at the width: one Vector512, or two Vector256 halves (second results: unsure lane
    /// bits, the upper half's shifted up by 8).</summary>
    private static (Vector512<float> Y, uint Unsure) AtWidth(int width, Vector512<float> x,
        Func<Vector512<float>, (Vector512<float>, uint)> f512, Func<Vector256<float>, (Vector256<float>, uint)> f256)
    {
        if (width == 512) return f512(x);
        var (lo, ulo) = f256(x.GetLower());
        var (hi, uhi) = f256(x.GetUpper());
        return (Vector512.Create(lo, hi), ulo | (uhi << 8));
    }

    private static Vector512<float> SleefAt(int width, Vector512<float> x) =>
        AtWidth(width, x, v => (TorchTanh.Sleef(v), 0u), v => (TorchTanh.Sleef(v), 0u)).Y;

    private static (Vector512<float> Y, uint Unsure) SmallAt(int width, Vector512<float> x)
    {
        var a = Vector512.Abs(x);   // unsure: the lanes of the mask
        var (y, unsure) = AtWidth(width, a,
            v => (TorchTanh.Small(v, out var m), (uint)m.ExtractMostSignificantBits()),
            v => (TorchTanh.Small(v, out var m), m.ExtractMostSignificantBits()));
        return (y | (x & SignMask), unsure);
    }

    private static (Vector512<float> Y, uint Unsure) GeneralAt(int width, Vector512<float> x) =>
        AtWidth(width, x, v => (TorchTanh.General(v, out uint u), u), v => (TorchTanh.General(v, out uint u), u));

    /// <summary>A check of one sixteen-lane vector: the path's lanes against SLEEF's; returns how many were unsure.</summary>
    private static Func<Vector512<float>, List<string>, int> Check(int width, Func<int, Vector512<float>, (Vector512<float>, uint)> path) => (x, bad) =>
    {
        var (y, unsure) = path(width, x);
        var want = SleefAt(width, x);
        uint wrong = (uint)(~Vector512.Equals(y.AsUInt32(), want.AsUInt32())).ExtractMostSignificantBits() & ~unsure;
        if (wrong != 0 && bad.Count < 5)
            for (int k = 0; k < 16; k++)
                if ((wrong >> k & 1) != 0) bad.Add($"tanh({x[k]:R} = 0x{x.AsUInt32()[k]:x8}) = 0x{y.AsUInt32()[k]:x8}, SLEEF 0x{want.AsUInt32()[k]:x8}");
        return System.Numerics.BitOperations.PopCount(unsure);
    };

    private static readonly uint[] SmallEdges =
    [
        0x00000000, 0x80000000, 0x00000001, 0x007fffff, 0x00800000, 0x33000000, 0x337fffff, 0x33800000, 0x33800001, 0x33ffffff,
        0x34000000, 0x39000000, 0x397fffff, 0x39800000, 0x3c000000, 0x3cffffff, 0x3d000000 - 1, 0x3a83126f, 0x3b03126f, 0x3c23d70a,
    ];

    [TestCase(256), TestCase(512)]
    public void SmallArgumentPathMatchesSleefWhereItIsSure(int width)
    {
        RequireWidth(width, float64Path: false);
        var rng = new Random(18);
        var (lanes, unsure, bad) = Sample(Check(width, SmallAt), 200_000,
            () => (uint)rng.NextInt64(0x3d000000) | (rng.Next(2) == 0 ? 0u : 0x80000000u),         // uniform in bit patterns: every binade below 2^-5
            () => BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1) * 0.03125f),      // uniform in value
            () => BitConverter.SingleToUInt32Bits((float)(NormalSample(rng) * 1e-3)),                // AlphaGrad's arguments on 1M randn grads
            () =>   // around the boundaries (0's and -0's neighbours below wrap to NaN and 2^-5 is past the path: kept at the edge)
            {
                uint e = SmallEdges[rng.Next(SmallEdges.Length)], v = e + (uint)rng.Next(-2, 3);
                return (v & 0x7fffffffu) < 0x3d000000u ? v : e;
            });
        Assert.That(bad, Is.Empty, () => "lanes the small path was sure of but got wrong: " + string.Join("; ", bad));
        TestContext.Out.WriteLine($"{lanes} lanes, {unsure} unsure ({100.0 * unsure / lanes:F2}%)");
        Assert.That(unsure, Is.LessThan(lanes / 20), "the small path should be sure of almost every lane");
    }

    /// <summary>check on `vectors` random vectors from each source (lanes drawn one by one): lanes, unsure lanes and
    /// the first wrong ones.</summary>
    private static (long Lanes, long Unsure, List<string> Bad) Sample(Func<Vector512<float>, List<string>, int> check, int vectors, params Func<uint>[] sources)
    {
        var bad = new List<string>();
        long lanes = 0, unsure = 0;
        var buf = new uint[16];
        foreach (var next in sources)
            for (int i = 0; i < vectors; i++)
            {
                for (int k = 0; k < 16; k++) buf[k] = next();
                unsure += check(Vector512.Create(buf).AsSingle(), bad);
                lanes += 16;
            }
        return (lanes, unsure, bad);
    }

    /// <summary>check on every bit pattern of `blocks` blocks of 2^20 consecutive ones (block b from start(b)), in
    /// parallel: unsure lanes and the wrong ones.</summary>
    private static (long Unsure, List<string> Bad) Exhaustive(Func<Vector512<float>, List<string>, int> check, int blocks, Func<int, uint> start)
    {
        var bad = new System.Collections.Concurrent.ConcurrentBag<string>();
        long unsure = 0;
        Parallel.For(0, blocks, blk =>
        {
            var local = new List<string>();
            long u = 0;
            var iota = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var first = Vector512.Create(start(blk));
            for (uint i = 0; i < 1u << 20; i += 16)
                u += check((first + Vector512.Create(i) + iota).AsSingle(), local);
            foreach (var b in local) bad.Add(b);
            Interlocked.Add(ref unsure, u);
        });
        return (unsure, bad.ToList());
    }

    private static double NormalSample(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [TestCase(256), TestCase(512)]
    public void GeneralPathMatchesSleefWhereItIsSure(int width)
    {
        RequireWidth(width, float64Path: true);
        var rng = new Random(19);
        var (lanes, unsure, bad) = Sample(Check(width, GeneralAt), 150_000,
            () => (uint)rng.NextInt64(1L << 32),                                                          // every bit pattern: NaNs, infinities, denormals
            () => (uint)rng.NextInt64(0x3c000000, 0x41100000) | (rng.Next(2) == 0 ? 0u : 0x80000000u),   // every binade from 2^-7 to 9
            () => BitConverter.SingleToUInt32Bits((float)NormalSample(rng)),                               // pre-activations
            () => BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 20 - 10)));                   // past the threshold 8.66
        Assert.That(bad, Is.Empty, () => "lanes the float64 path was sure of but got wrong: " + string.Join("; ", bad));
        TestContext.Out.WriteLine($"{lanes} lanes, {unsure} unsure ({100.0 * unsure / lanes:F3}%)");
        Assert.That(unsure, Is.LessThan(lanes / 50), "the float64 path should be sure of almost every lane");
    }

    /// <summary>Offline proof (a few minutes on two cores): every float32 (2^32 inputs) through the float64 path of the
    /// width, each lane it is sure of against SLEEF's lanes.</summary>
    [TestCase(256), TestCase(512), Explicit("exhaustive: 2^32 inputs")]
    public void GeneralPathOnEveryFloat(int width)
    {
        RequireWidth(width, float64Path: true);
        var (unsure, bad) = Exhaustive(Check(width, GeneralAt), 4096, blk => (uint)blk << 20);
        TestContext.Out.WriteLine($"2^32 inputs, {unsure} unsure ({100.0 * unsure / 4294967296.0:F3}%)");
        Assert.That(bad, Is.Empty, () => string.Join("; ", bad.Take(5)));
    }

    [TestCase(256), TestCase(512)]
    public void VectorMatchesTheScalarOnMixedLanes(int width)
    {
        // Vectors that mix small arguments (the fast path's) with large ones, NaN, infinities and the quirk range
        // [2^-24, 2^-23): whichever path a vector takes, every lane must equal the scalar tanh (= torch's bits).
        // Width 512 runs in software where there is no AVX-512.
        var rng = new Random(7);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-45f, 6e-8f, 1e-7f, 0.03125f, 0.0312499981f, 8.664339742f, 9f, 20f];
        var x = new float[16];
        for (int i = 0; i < 200_000; i++)
        {
            int kind = i % 4;
            for (int k = 0; k < 16; k++)
                x[k] = kind == 0 ? (float)(NormalSample(rng) * 1e-3)
                     : kind == 1 ? (rng.Next(16) == 0 ? (float)NormalSample(rng) : (float)(NormalSample(rng) * 1e-3))
                     : kind == 2 ? (rng.Next(8) == 0 ? specials[rng.Next(specials.Length)] : (float)(NormalSample(rng) * 3e-3))
                     : (float)(NormalSample(rng) * 2);
            var y = AtWidth(width, Vector512.Create(x), v => (TorchTanh.Tanh(v), 0u), v => (TorchTanh.Tanh(v), 0u)).Y;
            for (int k = 0; k < 16; k++)
                if (BitConverter.SingleToUInt32Bits(y[k]) != BitConverter.SingleToUInt32Bits(TorchTanh.Tanh(x[k])))
                    Assert.Fail($"vector {i}, lane {k}: tanh({x[k]:R}) = {y[k]:R}, scalar {TorchTanh.Tanh(x[k]):R}");
        }
    }

    /// <summary>Offline proof (about a minute on two cores): every float32 with |x| &lt; 2^-5 (2^31 inputs) through the
    /// small-argument path of the width, each lane it is sure of against SLEEF's lanes.</summary>
    [TestCase(256), TestCase(512), Explicit("exhaustive: 2^31 inputs")]
    public void SmallArgumentPathOnEverySmallFloat(int width)
    {
        RequireWidth(width, float64Path: false);
        const uint end = 0x3d000000;   // 2^-5: blocks of 2^20 patterns, each with both signs
        var (unsure, bad) = Exhaustive(Check(width, SmallAt), 2 * (int)(end >> 20), blk => (blk % 2 == 0 ? 0u : 0x80000000u) | ((uint)(blk / 2) << 20));
        TestContext.Out.WriteLine($"{2L * end} inputs, {unsure} unsure ({100.0 * unsure / (2.0 * end):F3}%)");
        Assert.That(bad, Is.Empty, () => string.Join("; ", bad.Take(5)));
    }

    /// <summary>Offline check (about a minute): all 2^32 float32 inputs, block by block against the SHA-256 of
    /// torch's outputs in tanh_exhaustive_f32.sha256 (gen_tanh_golden.py --digests).</summary>
    [Test, Explicit("exhaustive: 2^32 inputs")]
    public void ExhaustiveFloat32AgainstTorchDigests()
    {
        var want = File.ReadAllLines(TestData.PathOf("tanh_exhaustive_f32.sha256")).Select(l => l.Split(' ')[1]).ToArray();
        Assert.That(want, Has.Length.EqualTo(256));
        var bad = new System.Collections.Concurrent.ConcurrentBag<int>();
        Parallel.For(0, 256, blk =>
        {
            var y = new float[1 << 24];
            for (int i = 0; i < y.Length; i++) y[i] = BitConverter.UInt32BitsToSingle(((uint)blk << 24) | (uint)i);
            TorchTanh.Tanh(y, y);
            var h = Convert.ToHexString(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()))).ToLowerInvariant();
            if (h != want[blk]) bad.Add(blk);
        });
        Assert.That(bad.OrderBy(b => b), Is.Empty, "blocks of 2^24 inputs whose outputs differ from torch's");
    }

    /// <summary>Offline check: float64 samples written by gen_tanh_golden.py --f64-samples N FILE, with
    /// TINY_TANH_F64_SAMPLES=FILE (N inputs, then torch's N outputs, little-endian).</summary>
    [Test, Explicit("needs a sample file")]
    public void Float64SamplesFromFile()
    {
        var path = Environment.GetEnvironmentVariable("TINY_TANH_F64_SAMPLES");
        if (path is null) { Assert.Ignore("TINY_TANH_F64_SAMPLES not set"); return; }
        var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(path)).ToArray();
        int n = all.Length / 2;
        var got = new double[n];
        TorchTanh.Tanh(all.AsSpan(0, n), got);
        long bad = 0;
        for (int i = 0; i < n; i++)
            if (BitConverter.DoubleToUInt64Bits(got[i]) != BitConverter.DoubleToUInt64Bits(all[n + i])
                || BitConverter.DoubleToUInt64Bits(TorchTanh.Tanh(all[i])) != BitConverter.DoubleToUInt64Bits(all[n + i])) bad++;
        TestContext.Out.WriteLine($"{n} float64 samples, {bad} differ");
        Assert.That(bad, Is.Zero);
    }
}
