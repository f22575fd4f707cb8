// CpuBackend's whole-storage statistics read back as host numbers: sums of squares and norms, torch-order sums, max |x|,
// the fused moments of an update, sums and distances in double, and counts of an elementwise condition; SIMD passes.
using System.Numerics;
using System.Runtime.InteropServices;

namespace Tiny.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public double SumSquares(Storage x)
    {
        var c = S(x);
        return c.DType == DType.Float32 ? SumDiff<float>(c.F, default, squares: true) : SumDiff<double>(c.D, default, squares: true);
    }

    /// <inheritdoc/>
    public double[] SumSquaresEach(IReadOnlyList<Storage> xs) => Each(xs, SumSquares);

    /// <inheritdoc/>
    public double[] L2NormEach(IReadOnlyList<Storage> xs) =>
        Each(xs, x => S(x) is var c && c.DType == DType.Float32 ? TorchNorm.L2<float>(c.F) : TorchNorm.L2<double>(c.D));

    /// <inheritdoc/>
    public double[] TorchSumSquaresEach(IReadOnlyList<Storage> xs) =>
        Each(xs, x => S(x) is var c && c.DType == DType.Float32 ? TorchNorm.SumOfSquares<float>(c.F) : TorchNorm.SumOfSquares<double>(c.D));

    /// <inheritdoc/>
    public double[] MaxAbsEach(IReadOnlyList<Storage> xs) =>
        Each(xs, x => S(x) is var c && c.DType == DType.Float32 ? MaxAbs<float>(c.F) : MaxAbs<double>(c.D));

    /// <inheritdoc/>
    public (double GG, double DD, double PP, double DG)[] MomentsEach(IReadOnlyList<(Storage G, Storage D, Storage P)> xs)
    {
        var r = new (double, double, double, double)[xs.Count];
        for (int i = 0; i < r.Length; i++)
        {
            var (g, d, p) = (S(xs[i].G), S(xs[i].D), S(xs[i].P));
            Same(g, d, "MomentsEach"); Same(g, p, "MomentsEach");
            r[i] = g.DType == DType.Float32 ? Moments<float>(g.F, d.F, p.F) : Moments<double>(g.D, d.D, p.D);
        }
        return r;
    }

    /// <inheritdoc/>
    public double Sum(Storage x)
    {
        var c = S(x);
        return c.DType == DType.Float32 ? SumDiff<float>(c.F, default, squares: false) : SumDiff<double>(c.D, default, squares: false);
    }

    /// <inheritdoc/>
    public double SquaredDistance(Storage a, Storage b)
    {
        var (ca, cb) = (S(a), S(b));
        Same(ca, cb, "SquaredDistance");
        return ca.DType == DType.Float32 ? SumDiff<float>(ca.F, cb.F, squares: true) : SumDiff<double>(ca.D, cb.D, squares: true);
    }

    /// <inheritdoc/>
    public long CountPositive<TCount, T>(in TCount count, Storage x, Storage y, ReadOnlySpan<Storage?> states)
        where TCount : unmanaged, IFusedMap<TCount, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = S(x); var ys = S(y);
        foreach (var st in states) if (st is not null) S(st);
        FusedChecks.Validate<TCount, T>(x, y, states);
        return CpuFused.CountPositive(count, xs.Get<T>().AsSpan(0, xs.Length), ys.Get<T>().AsSpan(0, ys.Length), states);
    }

    private static double[] Each(IReadOnlyList<Storage> xs, Func<Storage, double> f)
    {
        var r = new double[xs.Count];
        for (int i = 0; i < r.Length; i++) r[i] = f(xs[i]);
        return r;
    }

    private static void Same(Storage a, Storage b, string op)
    {
        SameType(a, b, op);
        if (a.Length != b.Length) throw new ArgumentException($"{op}: {a.Length} elements vs {b.Length}");
    }

    /// <summary>sum g^2, sum d^2, sum p^2 and sum d·g in double, SIMD lanes widened to double, then a scalar tail.</summary>
    private static (double GG, double DD, double PP, double DG) Moments<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> d, ReadOnlySpan<T> p)
        where T : unmanaged, INumberBase<T>
    {
        Vector<double> gg = default, dd = default, pp = default, dg = default;
        int i = 0;
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> gf = Cast<T, float>(g), df = Cast<T, float>(d), pf = Cast<T, float>(p);
            for (int w = Vector<float>.Count; i <= gf.Length - w; i += w)
            {
                Vector.Widen(new Vector<float>(gf[i..]), out var g0, out var g1);
                Vector.Widen(new Vector<float>(df[i..]), out var d0, out var d1);
                Vector.Widen(new Vector<float>(pf[i..]), out var p0, out var p1);
                gg += g0 * g0 + g1 * g1; dd += d0 * d0 + d1 * d1; pp += p0 * p0 + p1 * p1; dg += d0 * g0 + d1 * g1;
            }
        }
        else
        {
            ReadOnlySpan<double> gd = Cast<T, double>(g), ddd = Cast<T, double>(d), pd = Cast<T, double>(p);
            for (int w = Vector<double>.Count; i <= gd.Length - w; i += w)
            {
                var (g0, d0, p0) = (new Vector<double>(gd[i..]), new Vector<double>(ddd[i..]), new Vector<double>(pd[i..]));
                gg += g0 * g0; dd += d0 * d0; pp += p0 * p0; dg += d0 * g0;
            }
        }
        double sgg = Vector.Sum(gg), sdd = Vector.Sum(dd), spp = Vector.Sum(pp), sdg = Vector.Sum(dg);
        for (; i < g.Length; i++)
        {
            double gi = double.CreateTruncating(g[i]), di = double.CreateTruncating(d[i]), pi = double.CreateTruncating(p[i]);
            sgg += gi * gi; sdd += di * di; spp += pi * pi; sdg += di * gi;
        }
        return (sgg, sdd, spp, sdg);
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        MemoryMarshal.Cast<TFrom, TTo>(s);

    /// <summary>sum (a - b)^2 with squares (b empty: sum a^2), else sum a; SIMD lanes widened to double. sum a^2 is
    /// bit-equal to <see cref="Moments{T}"/>'s sum g^2 (the same lanes, the same order).</summary>
    private static double SumDiff<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, bool squares) where T : unmanaged, INumberBase<T>
    {
        Vector<double> acc = default;
        bool diff = !b.IsEmpty;
        int i = 0;
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> af = Cast<T, float>(a), bf = Cast<T, float>(b);
            for (int w = Vector<float>.Count; i <= af.Length - w; i += w)
            {
                Vector.Widen(new Vector<float>(af[i..]), out var a0, out var a1);
                if (diff)
                {
                    Vector.Widen(new Vector<float>(bf[i..]), out var b0, out var b1);
                    (a0, a1) = (a0 - b0, a1 - b1);
                }
                acc += squares ? a0 * a0 + a1 * a1 : a0 + a1;
            }
        }
        else
        {
            ReadOnlySpan<double> ad = Cast<T, double>(a), bd = Cast<T, double>(b);
            for (int w = Vector<double>.Count; i <= ad.Length - w; i += w)
            {
                var x = new Vector<double>(ad[i..]);
                if (diff) x -= new Vector<double>(bd[i..]);
                acc += squares ? x * x : x;
            }
        }
        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            double x = double.CreateTruncating(a[i]) - (diff ? double.CreateTruncating(b[i]) : 0);
            sum += squares ? x * x : x;
        }
        return sum;
    }

    /// <summary>max |x| (NaN if x holds a NaN, 0 for no elements) in SIMD lanes.</summary>
    private static double MaxAbs<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        var acc = Vector<T>.Zero;
        int i = 0;
        bool nan = false;
        for (int w = Vector<T>.Count; i <= x.Length - w; i += w)
        {
            var v = Vector.Abs(new Vector<T>(x[i..]));
            nan |= !Vector.EqualsAll(v, v);
            acc = Vector.Max(acc, v);
        }
        T m = T.Zero;
        for (int k = 0; k < Vector<T>.Count; k++) m = T.Max(m, acc[k]);
        for (; i < x.Length; i++) { nan |= T.IsNaN(x[i]); m = T.Max(m, T.Abs(x[i])); }
        return nan ? double.NaN : double.CreateTruncating(m);
    }
}
