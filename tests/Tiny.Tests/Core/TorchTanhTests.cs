// TorchTanh against torch.tanh's bits (tanh_golden.json, gen_tanh_golden.py): scalar, Vector256, span, the CPU op.
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
        for (int n = 0; n <= 40; n++)
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
